"""Reports written into a run directory: metrics.json, report.md and errors.jsonl (PNGs: plots.py)."""
import json
import math
from pathlib import Path

import numpy as np

from model.labels import LABELS


def _fmt(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def _ci(scores: dict, key: str) -> str:
    if key not in scores["ci"]:  # a figure with no interval (a mean over runs)
        return _fmt(scores[key])
    low, high = scores["ci"][key]
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


def score_table(systems: dict[str, dict], label: str = "system") -> str:
    """Rows side by side (systems, or slices of one system): mean scores with 95% bootstrap
    intervals, then macro-F1 per target; an `articles` column when every row counts its articles."""
    targets = targets_of(next(iter(systems.values())))
    sized = all("articles" in s for s in systems.values())
    head = (f"| {label} | " + ("articles | " if sized else "") + "mean macro-F1 [95% CI] | mean F_avg [95% CI] | "
            "mean accuracy | " + " | ".join(f"{t} macro-F1" for t in targets) + " |")
    rows = [head, "|" + "---|" * (4 + sized + len(targets))]
    for name, s in systems.items():
        rows.append(f"| {name} | " + (f"{s['articles']} | " if sized else "")
                    + f"{_ci(s, 'mean_macro_f1')} | {_ci(s, 'mean_f_avg')} | {_fmt(s['mean_accuracy'])} | "
                    + " | ".join(_fmt(s[f"{t}_macro_f1"]) for t in targets) + " |")
    return "\n".join(rows)


def calibration_summary(calibration: dict) -> str:
    """One line: the temperatures and the ECE over model-decided pairs, before and after."""
    ece, temperature = calibration["ece"], calibration["temperature"]
    if not temperature:
        return f"ECE {_fmt(ece['before']['all'])} ({ece['bins']} bins, model-decided pairs); no temperature in " \
               "stance.json (T = 1)"
    return (f"ECE {_fmt(ece['before']['all'])} -> {_fmt(ece['after']['all'])} after temperature scaling "
            f"({ece['bins']} bins, model-decided pairs; T: {', '.join(f'{k} {v:.2f}' for k, v in temperature.items())}"
            f"{'' if calibration.get('applied', True) else '; not applied: --no-calibration'})")


def calibration_section(calibration: dict, targets: list[str]) -> list[str]:
    ece, temperature = calibration["ece"], calibration["temperature"] or {}
    applied = ("applied to every score above" if calibration["applied"] else
               "not applied to the scores above (--no-calibration)" if temperature else
               "none in this run's stance.json (T = 1: trained without calibration, or before it existed)")
    lines = ["## Calibration", "",
             f"Expected calibration error (ECE): the top label's probability (confidence) against accuracy, in "
             f"{ece['bins']} equal-width confidence bins, |accuracy - confidence| weighted by the bin's share of "
             "pairs, over the (article, target) pairs the model decided. Pairs decided by the `none` rule "
             "(probability 1.0, no forward pass) are left out; over all pairs, rule-decided included: "
             f"{_fmt(ece['before']['all_pairs'])} before, {_fmt(ece['after']['all_pairs'])} after. Temperatures "
             f"(one per target, fitted on the validation split at the end of training): {applied}. "
             "Reliability diagrams: `reliability_<target>.png`.", "",
             "| target | model-decided pairs | temperature | ECE before | ECE after |", "|---|---|---|---|---|"]
    for t in targets:
        lines.append(f"| {t} | {ece['pairs'][t]} | {_fmt(temperature.get(t, 1.0))} | {_fmt(ece['before'][t])} | "
                     f"{_fmt(ece['after'][t])} |")
    lines.append(f"| all | {sum(ece['pairs'].values())} | | {_fmt(ece['before']['all'])} | "
                 f"{_fmt(ece['after']['all'])} |")
    return lines


def markdown_report(title: str, systems: dict[str, dict], n_articles: int, notes: list[str] = (),
                    calibration: dict | None = None, slices: dict[str, dict] | None = None) -> str:
    model = systems["model"]
    targets = targets_of(model)
    lines = [f"# {title}", "", f"{n_articles} articles, scored per article (window probabilities averaged). "
             "Intervals: 95% percentile bootstrap over articles. F_avg is the mean F1 of `pro` and `against`.",
             *notes, "", score_table(systems), "", "## Model, per target", "",
             "| target | accuracy | macro-F1 [95% CI] | F_avg [95% CI] |", "|---|---|---|---|"]
    for t in targets:
        lines.append(f"| {t} | {_fmt(model[f'{t}_accuracy'])} | {_ci(model, f'{t}_macro_f1')} | "
                     f"{_ci(model, f'{t}_f_avg')} |")
    for column, rows in (slices or {}).items():
        lines += ["", f"## Model, by {column}", "", f"Per value of `{column}`: its articles, and the model's scores "
                  "on them with 95% bootstrap intervals over those articles.", "", score_table(rows, column)]
    if calibration:
        lines += ["", *calibration_section(calibration, targets)]
    lines += ["", "## Model, per label", "", "| target | label | precision | recall | F1 | support |",
              "|---|---|---|---|---|---|"]
    for t in targets:
        for label in LABELS:
            k = f"{t}_{label}"
            lines.append(f"| {t} | {label} | {_fmt(model[k + '_precision'])} | {_fmt(model[k + '_recall'])} | "
                         f"{_fmt(model[k + '_f1'])} | {model[k + '_support']} |")
    return "\n".join(lines) + "\n"


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
