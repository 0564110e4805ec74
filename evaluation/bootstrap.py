"""Percentile bootstrap confidence intervals over articles."""
import numpy as np

from metrics import stance_score_function
from model.labels import TARGETS

CI_KEYS = ("macro_f1", "f_avg")


def bootstrap_intervals(pred: np.ndarray, gold: np.ndarray, n_resamples: int = 1000, seed: int = 0,
                        level: float = 0.95, targets=TARGETS) -> dict[str, tuple[float, float]]:
    """`{"<target>_macro_f1": (low, high), ..., "mean_f_avg": (low, high)}`; articles are resampled
    with replacement, so the interval reflects how much the figure depends on which articles
    happened to be in a small test set. The same seed gives the same interval."""
    score = stance_score_function()
    rng = np.random.default_rng(seed)
    names = [k for k in score(pred, gold, targets) if k.endswith(CI_KEYS)]
    draws = {k: [] for k in names}
    for _ in range(n_resamples):
        idx = rng.integers(0, len(gold), len(gold))
        s = score(pred[idx], gold[idx], targets)
        for k in names:
            draws[k].append(s[k])
    tail = (1 - level) / 2 * 100
    out = {}
    for k, values in draws.items():
        values = np.asarray(values, dtype=float)
        values = values[~np.isnan(values)]
        out[k] = (float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))) if len(values) \
            else (float("nan"), float("nan"))
    return out
