"""The model card (README.md) of a run: base model, data, recipe and scores."""
import json
from pathlib import Path

import yaml

from .labels import LABELS


def write_model_card(run_dir: str | Path) -> Path:
    run = Path(run_dir)
    recipe = yaml.safe_load((run / "recipe.yaml").read_text())
    data = json.loads((run / "data_report.json").read_text()) if (run / "data_report.json").exists() else {}
    val = json.loads((run / "validation_metrics.json").read_text())
    settings = json.loads((run / "stance.json").read_text())
    targets = list(settings["targets"])
    model = recipe.get("model", {})
    base = model.get("name_or_path") or f"tiny BERT from a config {model.get('tiny')}"
    lines = [
        "---", "library_name: transformers", "pipeline_tag: text-classification", "language: id", "---", "",
        f"# Stance of Indonesian news toward {', '.join(targets)}: {run.name}", "",
        f"Fine-tuned from `{base}` to give every Indonesian news article one stance label per target "
        f"({', '.join(targets)}): {', '.join(LABELS)}.", "", *_how_to_read(settings), "",
        "## Data", "",
        f"Source: `{recipe['data'].get('source') or recipe['data'].get('dataset')}`; "
        f"{data.get('articles', '?')} articles, {data.get('duplicate_groups_merged', '?')} near-duplicate "
        f"merges, cleaning removed {data.get('cleaning', {}).get('boilerplate_lines', '?')} boilerplate lines.", "",
        "## Validation (best checkpoint, per article)", "",
        "| target | accuracy | macro-F1 | F_avg |", "|---|---|---|---|"]
    for t in (*targets, "mean"):
        lines.append(f"| {t} | " + " | ".join(f"{val.get(f'eval_{t}_{k}', float('nan')):.3f}"
                                                for k in ("accuracy", "macro_f1", "f_avg")) + " |")
    if settings.get("temperature"):
        lines += ["", "Probabilities are temperature-scaled: eval.py and predict.py divide each target's logits by its "
                  "temperature in `stance.json` (" + ", ".join(f"{k} {v:.2f}" for k, v in settings["temperature"].items())
                  + ", fitted on the validation split) before the softmax; plain `transformers` gives the unscaled ones."]
    if (run / "report.md").exists():
        report = (run / "report.md").read_text().split("\n", 1)[1]
        lines += ["", "## Test", report.replace("\n## ", "\n### ")]
    lines += ["", "## Recipe", "", "```yaml", yaml.safe_dump(recipe, sort_keys=False, allow_unicode=True).strip(),
              "```", ""]
    path = run / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _how_to_read(settings: dict) -> list[str]:
    if settings.get("formulation") == "target_pair":
        names = ", ".join(f"`{k}`: \"{t['name']}\"" for k, t in settings["targets"].items())
        return ["Formulation `target_pair`: the model reads a pair (target name, focused excerpt) and its 4 "
                "logits are the labels above. Target names: " + names + ". The excerpt is the headline and lead "
                "plus the sentences that name the target (aliases in `stance.json`); a target the article never "
                "names is `none` without a forward pass. With plain transformers:", "",
                "```python", "from transformers import pipeline",
                "clf = pipeline(\"text-classification\", model=\"RUN_DIR\", top_k=None)",
                "clf({\"text\": \"Rusia\", \"text_pair\": excerpt})  # probabilities of pro/against/neutral/none",
                "```", "",
                "`data.mentions.focused_excerpt` in the training repository builds the excerpt exactly as "
                "training did. Long excerpts: average the probabilities of their windows (`stance.json`)."]
    return [f"Formulation `multi_head`: the model reads the whole article; its {len(settings['targets']) * 4} "
            "logits are named `target:label` in `config.id2label`. Reshape them to (targets, 4) and take a "
            "softmax per target: `pipeline(\"text-classification\")` softmaxes over all of them at once, "
            "which is not a probability of any one target's label. Long articles: average the probabilities "
            "of their windows (settings in `stance.json`)."]
