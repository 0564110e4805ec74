"""Stance scores per target and averaged over targets, as an `evaluate` metric.

Loaded by path (`evaluate.load("metrics/stance_scores")`): the hub's `f1`/`accuracy` scripts
cannot be fetched offline. Inputs are label ids, one per target, per article; `targets` names
the columns (default: the contract's three).
"""
import datasets
import evaluate
import numpy as np
from sklearn.metrics import precision_recall_fscore_support

TARGETS = ("russia", "us", "syria")
LABELS = ("pro", "against", "neutral", "none")

_DESCRIPTION = """For each target: accuracy; macro-F1 over the labels present in the gold or the
predicted labels; F_avg, the mean F1 of `pro` and `against` (the usual stance-detection headline);
precision, recall, F1 and support per label (null for a label absent from both). `mean_*` average
the three targets. Scores of undefined quantities are NaN."""


def score(predictions, references, targets=TARGETS) -> dict:
    pred, gold = np.asarray(predictions).reshape(-1, len(targets)), np.asarray(references).reshape(-1, len(targets))
    out = {}
    for t, target in enumerate(targets):
        p, r, f, s = precision_recall_fscore_support(gold[:, t], pred[:, t], labels=range(len(LABELS)),
                                                     zero_division=0)
        present = np.isin(np.arange(len(LABELS)), np.union1d(gold[:, t], pred[:, t]))
        out[f"{target}_accuracy"] = float(np.mean(gold[:, t] == pred[:, t]))
        out[f"{target}_macro_f1"] = float(f[present].mean())
        stance = present[:2]  # pro, against
        out[f"{target}_f_avg"] = float(f[:2][stance].mean()) if stance.any() else float("nan")
        for i, label in enumerate(LABELS):
            for name, values in (("precision", p), ("recall", r), ("f1", f)):
                out[f"{target}_{label}_{name}"] = float(values[i]) if present[i] else float("nan")
            out[f"{target}_{label}_support"] = int(s[i])
    for name in ("accuracy", "macro_f1", "f_avg"):
        values = [out[f"{t}_{name}"] for t in targets]
        out[f"mean_{name}"] = float(np.nanmean(values)) if not np.all(np.isnan(values)) else float("nan")
    return out


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION)
class StanceScores(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation="", inputs_description="predictions, references: [n, targets] label ids; targets: their names",
            features=datasets.Features({"predictions": datasets.Sequence(datasets.Value("int32")),
                                        "references": datasets.Sequence(datasets.Value("int32"))}))

    def _compute(self, predictions, references, targets=TARGETS):
        return score(predictions, references, tuple(targets))
