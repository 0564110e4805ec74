"""The model card (README.md) of a run: base model, data, recipe and scores."""
import json
from pathlib import Path

import yaml

from .labels import LABELS, TARGETS


def write_model_card(run_dir: str | Path) -> Path:
    run = Path(run_dir)
    recipe = yaml.safe_load((run / "recipe.yaml").read_text())
    data = json.loads((run / "data_report.json").read_text()) if (run / "data_report.json").exists() else {}
    val = json.loads((run / "validation_metrics.json").read_text())
    model = recipe.get("model", {})
    base = model.get("name_or_path") or f"tiny BERT from a config {model.get('tiny')}"
    lines = [
        "---", "library_name: transformers", "pipeline_tag: text-classification", "language: id", "---", "",
        f"# Stance toward Russia, the US and Syria: {run.name}", "",
        f"Fine-tuned from `{base}` to give every Indonesian news article one stance label per target "
        f"({', '.join(TARGETS)}): {', '.join(LABELS)}. The 12 logits are named `target:label` in "
        "`config.id2label`; reshape them to (3, 4) and take a softmax per target. Long articles: "
        "average the probabilities of their windows (settings in `stance.json`).", "",
        "## Data", "",
        f"Source: `{recipe['data'].get('source') or recipe['data'].get('dataset')}`; "
        f"{data.get('articles', '?')} articles, {data.get('duplicate_groups_merged', '?')} near-duplicate "
        f"merges, cleaning removed {data.get('cleaning', {}).get('boilerplate_lines', '?')} boilerplate lines.", "",
        "## Validation (best checkpoint, per article)", "",
        "| target | accuracy | macro-F1 | F_avg |", "|---|---|---|---|"]
    for t in (*TARGETS, "mean"):
        lines.append(f"| {t} | " + " | ".join(f"{val.get(f'eval_{t}_{k}', float('nan')):.3f}"
                                                for k in ("accuracy", "macro_f1", "f_avg")) + " |")
    if (run / "report.md").exists():
        report = (run / "report.md").read_text().split("\n", 1)[1]
        lines += ["", "## Test", report.replace("\n## ", "\n### ")]
    lines += ["", "## Recipe", "", "```yaml", yaml.safe_dump(recipe, sort_keys=False, allow_unicode=True).strip(),
              "```", ""]
    path = run / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
