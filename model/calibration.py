"""Temperature scaling (Guo et al., 2017) and the expected calibration error.

One scalar T > 0 per target divides that target's logits before the softmax: the argmax of
every window stays, only the confidence changes. T is fitted on the validation split at the end
of training by minimizing the negative log-likelihood of the per-article probabilities (as the
formulation aggregates them) and stored in stance.json; eval.py and predict.py apply it.

Pairs a `target_pair` run decides by rule (`none`, probability 1.0, no forward pass) are not
model outputs: they are left out of the fit and of the ECE over model-decided pairs.
"""
import numpy as np
from scipy.optimize import minimize_scalar

BINS = 15  # equal-width bins of top-label confidence
LOG_T_BOUNDS = (np.log(0.05), np.log(20.0))


def model_decided(info: dict, shape: tuple[int, int]) -> np.ndarray:
    """(articles, targets) mask of the pairs the model decided (all, but for rule-decided pairs)."""
    return ~info["rule_none"] if "rule_none" in info else np.ones(shape, dtype=bool)


def fit_temperatures(formulation, logits: np.ndarray, windows: dict, ids: list, gold: np.ndarray) -> dict:
    """{target: T} minimizing each target's mean NLL of the gold labels over model-decided pairs
    (T = 1 for a target with none). A bounded 1-D search on log T: the aggregate (a mean of
    window softmaxes) has no closed-form gradient worth writing."""
    _, info = formulation.aggregate(logits, windows, ids)
    decided = model_decided(info, gold.shape)
    temperature = {}
    for t, key in enumerate(formulation.keys):
        rows = np.flatnonzero(decided[:, t])
        if not len(rows):
            temperature[key] = 1.0
            continue

        def nll(log_t):
            probs, _ = formulation.aggregate(logits, windows, ids, {key: float(np.exp(log_t))})
            return -np.log(np.clip(probs[rows, t, gold[rows, t]], 1e-12, None)).mean()
        temperature[key] = float(np.exp(minimize_scalar(nll, bounds=LOG_T_BOUNDS, method="bounded").x))
    return temperature


def reliability(probs: np.ndarray, gold: np.ndarray, bins: int = BINS):
    """Per equal-width confidence bin: pair count, mean top-label confidence, accuracy."""
    confidence, correct = probs.max(-1), probs.argmax(-1) == gold
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    counts = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):  # empty bins: NaN
        return (counts, np.bincount(which, weights=confidence, minlength=bins) / counts,
                np.bincount(which, weights=correct.astype(float), minlength=bins) / counts)


def expected_calibration_error(probs: np.ndarray, gold: np.ndarray, bins: int = BINS) -> float:
    """Sum over bins of (pairs in the bin / pairs) * |accuracy - mean confidence|; NaN for no pairs."""
    counts, confidence, accuracy = reliability(probs, gold, bins)
    filled = counts > 0
    return float((counts[filled] * np.abs(accuracy - confidence)[filled]).sum() / counts.sum()) if counts.sum() \
        else float("nan")


def calibration_errors(before: np.ndarray, after: np.ndarray, gold: np.ndarray, decided: np.ndarray,
                       keys: list[str]) -> dict:
    """ECE before and after scaling, per target and over all targets' pairs, on model-decided
    pairs; `all_pairs` also counts the rule-decided ones."""
    out = {"bins": BINS, "pairs": {k: int(decided[:, t].sum()) for t, k in enumerate(keys)}}
    for name, probs in (("before", before), ("after", after)):
        out[name] = {k: expected_calibration_error(probs[decided[:, t], t], gold[decided[:, t], t])
                     for t, k in enumerate(keys)}
        out[name]["all"] = expected_calibration_error(probs[decided], gold[decided])
        out[name]["all_pairs"] = expected_calibration_error(probs.reshape(-1, probs.shape[-1]), gold.ravel())
    return out
