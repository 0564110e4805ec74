"""PNG figures of a run: confusion matrices, reliability diagrams, the training curve (matplotlib, Agg)."""
from pathlib import Path

import numpy as np

from model.calibration import BINS, expected_calibration_error, reliability
from model.labels import LABELS


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")  # files only: no display on a server or in CI
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path)
    _pyplot().close(fig)
    return path


def write_confusion_pngs(gold: np.ndarray, pred: np.ndarray, out: Path, targets: list[str]) -> list[Path]:
    from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix
    paths = []
    for t, target in enumerate(targets):
        cm = confusion_matrix(gold[:, t], pred[:, t], labels=range(len(LABELS)))
        fig, ax = _pyplot().subplots(figsize=(4.2, 3.8), dpi=110)
        ConfusionMatrixDisplay(cm, display_labels=LABELS).plot(ax=ax, colorbar=False, cmap="Blues")
        ax.set_title(f"{target}: gold (rows) vs predicted")
        paths.append(_save(fig, out / f"confusion_{target}.png"))
    return paths


def write_reliability_pngs(curves: dict[str, np.ndarray], gold: np.ndarray, decided: np.ndarray, out: Path,
                           targets: list[str]) -> list[Path]:
    """Per target, accuracy against mean confidence per bin for each set of probabilities in
    `curves` ("before", "after" scaling), over the model-decided pairs; dot area ~ pairs in the bin."""
    paths = []
    for t, target in enumerate(targets):
        rows = decided[:, t]
        fig, ax = _pyplot().subplots(figsize=(4.4, 4.2), dpi=110)
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
        for (name, probs), marker in zip(curves.items(), "os"):
            counts, confidence, accuracy = reliability(probs[rows, t], gold[rows, t])
            filled = counts > 0
            ece = expected_calibration_error(probs[rows, t], gold[rows, t])
            ax.plot(confidence[filled], accuracy[filled], marker=marker, label=f"{name} (ECE {ece:.3f})")
            ax.scatter(confidence[filled], accuracy[filled], s=12 * counts[filled], alpha=0.25)
        ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="confidence (top label)", ylabel="accuracy",
               title=f"{target}: {int(rows.sum())} model-decided pairs, {BINS} bins")
        ax.legend(loc="upper left", fontsize=8)
        paths.append(_save(fig, out / f"reliability_{target}.png"))
    return paths


def write_training_curve(log_history: list[dict], path: Path) -> Path:
    """Training loss and validation mean macro-F1 against the epoch, from the Trainer's log history."""
    loss = [(e["epoch"], e["loss"]) for e in log_history if "loss" in e]
    f1 = [(e["epoch"], e["eval_mean_macro_f1"]) for e in log_history if "eval_mean_macro_f1" in e]
    fig, (left, right) = _pyplot().subplots(1, 2, figsize=(8, 3.4), dpi=110)
    for ax, points, name in ((left, loss, "training loss"), (right, f1, "validation mean macro-F1")):
        if points:
            ax.plot(*zip(*points), marker="o")
        ax.set(xlabel="epoch", title=name)
        ax.grid(alpha=0.3)
    return _save(fig, path)
