"""Reports written into a run directory: metrics.json, report.md, confusion PNGs, errors.jsonl."""
import json
import math
from pathlib import Path

import numpy as np

from model.labels import LABELS


def _fmt(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def _ci(scores: dict, key: str) -> str:
    low, high = scores["ci"].get(key, (float("nan"),) * 2)
    return f"{_fmt(scores[key])} [{_fmt(low)}, {_fmt(high)}]"


def _json_safe(x):
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


def targets_of(scores: dict) -> list[str]:
    """The target keys a scores dict covers (`<target>_macro_f1`, besides the `mean_` figure)."""
    return [k[:-len("_macro_f1")] for k in scores if k.endswith("_macro_f1") and k != "mean_macro_f1"]


def score_table(systems: dict[str, dict]) -> str:
    """Systems side by side: mean scores with 95% bootstrap intervals, then macro-F1 per target."""
    targets = targets_of(next(iter(systems.values())))
    head = ("| system | mean macro-F1 [95% CI] | mean F_avg [95% CI] | mean accuracy | "
            + " | ".join(f"{t} macro-F1" for t in targets) + " |")
    rows = [head, "|" + "---|" * (4 + len(targets))]
    for name, s in systems.items():
        rows.append(f"| {name} | {_ci(s, 'mean_macro_f1')} | {_ci(s, 'mean_f_avg')} | {_fmt(s['mean_accuracy'])} | "
                    + " | ".join(_fmt(s[f"{t}_macro_f1"]) for t in targets) + " |")
    return "\n".join(rows)


def markdown_report(title: str, systems: dict[str, dict], n_articles: int, notes: list[str] = ()) -> str:
    model = systems["model"]
    targets = targets_of(model)
    lines = [f"# {title}", "", f"{n_articles} articles, scored per article (window probabilities averaged). "
             "Intervals: 95% percentile bootstrap over articles. F_avg is the mean F1 of `pro` and `against`.",
             *notes, "", score_table(systems), "", "## Model, per target", "",
             "| target | accuracy | macro-F1 [95% CI] | F_avg [95% CI] |", "|---|---|---|---|"]
    for t in targets:
        lines.append(f"| {t} | {_fmt(model[f'{t}_accuracy'])} | {_ci(model, f'{t}_macro_f1')} | "
                     f"{_ci(model, f'{t}_f_avg')} |")
    lines += ["", "## Model, per label", "", "| target | label | precision | recall | F1 | support |",
              "|---|---|---|---|---|---|"]
    for t in targets:
        for label in LABELS:
            k = f"{t}_{label}"
            lines.append(f"| {t} | {label} | {_fmt(model[k + '_precision'])} | {_fmt(model[k + '_recall'])} | "
                         f"{_fmt(model[k + '_f1'])} | {model[k + '_support']} |")
    return "\n".join(lines) + "\n"


def write_confusion_pngs(gold: np.ndarray, pred: np.ndarray, out: Path, targets: list[str]) -> list[Path]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix
    paths = []
    for t, target in enumerate(targets):
        cm = confusion_matrix(gold[:, t], pred[:, t], labels=range(len(LABELS)))
        fig, ax = plt.subplots(figsize=(4.2, 3.8), dpi=110)
        ConfusionMatrixDisplay(cm, display_labels=LABELS).plot(ax=ax, colorbar=False, cmap="Blues")
        ax.set_title(f"{target}: gold (rows) vs predicted")
        fig.tight_layout()
        path = out / f"confusion_{target}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths


def write_errors(ids, texts, gold: np.ndarray, pred: np.ndarray, probs: np.ndarray, path: Path,
                 targets: list[str]) -> int:
    """One line per article with at least one wrong target."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for i in np.flatnonzero((gold != pred).any(axis=1)):
            record = {"id": ids[i],
                      "gold": {t: LABELS[gold[i, j]] for j, t in enumerate(targets)},
                      "predicted": {t: LABELS[pred[i, j]] for j, t in enumerate(targets)},
                      "probabilities": {t: {label: round(float(probs[i, j, k]), 4) for k, label in enumerate(LABELS)}
                                        for j, t in enumerate(targets)},
                      "text": texts[i][:300]}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n


def write_metrics_json(payload: dict, path: Path) -> None:
    path.write_text(json.dumps(_json_safe(payload), indent=2, ensure_ascii=False))
