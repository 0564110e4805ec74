"""Score a trained run on a labelled split, beside the majority and TF-IDF baselines."""
from pathlib import Path

import numpy as np
from datasets import Dataset, load_from_disk

from data import DataError, InputSpec, read_articles
from data.clean import clean_text
from metrics import load_stance_metric
from model.formulations import TargetPair
from model.calibration import calibration_errors, model_decided
from model.engines import open_engine
from model.inference import predict_articles
from model.card import write_model_card
from model.modeling import load_for_inference
from model.recipe import load_recipe
from model.training import run_splits

from . import baselines, plots, report
from .bootstrap import bootstrap_intervals
from .slices import slice_scores, slice_values


def _split(splits, name: str):
    if name not in splits:
        raise DataError(f"no split {name!r} (splits: {', '.join(splits)})")
    return splits[name]


def load_eval_data(run_dir: Path, data: str | None, split: str, targets: list[str]):
    """(articles to score, training split for the baselines or None, a description).

    Default: `split` of the dataset the run was trained on. `data` may be a saved DatasetDict
    folder (its `split` is used) or a labelled file or folder, read with the run's `data:`
    settings and scored whole."""
    recipe = load_recipe(run_dir / "recipe.yaml")
    if data is None:
        try:
            splits = run_splits(run_dir, recipe, targets)
        except DataError as e:
            raise DataError(f"{e} (score a held-out labelled file with --data)") from None
        return _split(splits, split), splits["train"], f"the {split} split of its training data"
    if (Path(data) / "dataset_dict.json").exists():
        splits = load_from_disk(data)
        return _split(splits, split), splits.get("train"), f"the {split} split of {data}"
    cfg = {**recipe.get("data", {}), "targets": targets}
    articles = read_articles(data, InputSpec.from_config(cfg))
    if cfg.get("clean", True):
        for a in articles:
            a["text"] = clean_text(a["text"])[0]
    try:  # the baselines learn from the run's own training split, when it is still at hand
        return Dataset.from_list(articles), run_splits(run_dir, recipe, targets)["train"], str(data)
    except (DataError, OSError) as e:
        return Dataset.from_list(articles), None, f"{data} (no baselines: {e})"


def evaluate_run(run_dir, data=None, split="test", out=None, batch_size=32, device="auto", engine="torch",
                 precision="fp32", n_resamples=1000, seed=0, calibration=True, slice_by=()) -> dict:
    """Score the run (with its stance.json temperatures unless `calibration` is False), beside the
    baselines, per value of each `slice_by` column too; write the reports into `out`."""
    run_dir = Path(run_dir)
    out = Path(out) if out else run_dir
    tokenizer, model, reader, settings = load_for_inference(run_dir)
    keys = reader.keys
    eval_ds, train_ds, described = load_eval_data(run_dir, data, split, keys)
    slices = slice_values(eval_ds, list(slice_by), keys)  # an unknown column fails before anything is written
    engine = open_engine(run_dir, model, tokenizer, settings, device, engine, precision)
    out.mkdir(parents=True, exist_ok=True)
    ids, texts = list(eval_ds["id"]), list(eval_ds["text"])
    gold = np.array([eval_ds[k] for k in keys]).T
    temperature = settings.get("temperature")
    calibrated, info = predict_articles(engine, tokenizer, reader, ids, texts, batch_size, temperature)
    raw = info.get("uncalibrated", calibrated)
    probs = calibrated if calibration else raw
    predictions = {"model": probs.argmax(-1)}
    if train_ds is not None:
        train_texts, train_labels = list(train_ds["text"]), np.array([train_ds[k] for k in keys]).T
        focused = reader if isinstance(reader, TargetPair) else TargetPair(reader.targets, reader.windows, reader.excerpt)
        predictions["TF-IDF + LR, focused excerpts"] = baselines.focused_tfidf_logreg(
            focused, tokenizer, train_texts, train_labels, texts)
        predictions["TF-IDF + LR, whole article"] = baselines.tfidf_logreg(train_texts, train_labels, texts)
        predictions["majority class"] = baselines.majority(train_labels, len(texts))

    metric = load_stance_metric()

    def scored(pred, labels):
        return {**metric.compute(predictions=pred, references=labels, targets=keys),
                "ci": bootstrap_intervals(pred, labels, n_resamples, seed, targets=keys)}
    systems = {name: scored(pred, gold) for name, pred in predictions.items()}
    by_column = {c: slice_scores(scored, predictions["model"], gold, values) for c, values in slices.items()}
    decided = model_decided(info, gold.shape)
    calib = {"temperature": temperature, "applied": bool(temperature) and calibration,
             "ece": calibration_errors(raw, calibrated, gold, decided, keys)}
    notes = []
    if "rule_none" in info:
        rule = info["rule_none"]
        notes = [f"Formulation `{reader.name}`: {int(rule.sum())} of {rule.size} (article, target) pairs never name "
                 f"the target and are `none` by rule, without a forward pass "
                 f"({', '.join(f'{k} {int(rule[:, t].sum())}' for t, k in enumerate(keys))})."]
    title = f"Evaluation of {run_dir.name} on {described}"
    report.write_metrics_json({"run": str(run_dir), "data": data, "split": split, "articles": len(ids),
                               "engine": str(engine),
                               "formulation": reader.name,
                               "rule_none": {k: int(info["rule_none"][:, t].sum()) for t, k in enumerate(keys)}
                               if "rule_none" in info else None,
                               "bootstrap": {"resamples": n_resamples, "seed": seed, "level": 0.95},
                               "systems": systems, "calibration": calib, "slices": by_column}, out / "metrics.json")
    (out / "report.md").write_text(report.markdown_report(title, systems, len(ids), notes, calib, by_column),
                                   encoding="utf-8")
    plots.write_confusion_pngs(gold, predictions["model"], out, keys)
    plots.write_reliability_pngs({"before": raw, "after": calibrated} if temperature else {"uncalibrated": raw},
                                 gold, decided, out, keys)
    n_errors = report.write_errors(ids, texts, gold, predictions["model"], probs, out / "errors.jsonl", keys)
    if out.resolve() == run_dir.resolve():
        write_model_card(run_dir)  # the card shows the test table beside the validation one
    return {"out": out, "systems": systems, "errors": n_errors, "articles": len(ids), "notes": notes,
            "engine": str(engine), "calibration": calib, "slices": by_column}
