"""Fine-tuning with the Hugging Face Trainer: windows in, per-article validation scores out."""
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import SequentialSampler
from datasets import DatasetDict, load_from_disk
from transformers import (AutoTokenizer, DataCollatorWithPadding, EarlyStoppingCallback, Trainer, TrainerCallback,
                          TrainingArguments, set_seed)
from transformers.trainer_utils import get_last_checkpoint

from data import DataError, cached_dataset
from evaluation.plots import write_training_curve
from metrics import load_stance_metric

from .calibration import calibration_errors, fit_temperatures, model_decided
from .card import write_model_card
from .formulations import Formulation, formulation_from
from .modeling import class_weights_from, load_encoder_for_training, save_stance_settings, stance_loss
from .recipe import ROOT, save_recipe
from .validate import validate_recipe

TRAINING_DEFAULTS = {  # what every recipe wants unless it says otherwise
    "eval_strategy": "epoch", "save_strategy": "epoch", "logging_strategy": "epoch", "save_total_limit": 2,
    "load_best_model_at_end": True, "metric_for_best_model": "mean_macro_f1", "greater_is_better": True,
    "train_sampling_strategy": "group_by_length", "dataloader_pin_memory": torch.cuda.is_available(),
    "report_to": ["tensorboard"] if importlib.util.find_spec("tensorboard") else "none",
}


def load_splits(data_cfg: dict, targets: list[str]) -> tuple[DatasetDict, dict]:
    """A saved DatasetDict (`data.dataset`) or one built, once, from raw input (`data.source`),
    with a label column per target."""
    if data_cfg.get("dataset"):
        path = Path(data_cfg["dataset"])
        report = json.loads((path / "build_report.json").read_text()) if (path / "build_report.json").exists() else {}
        return load_from_disk(str(path)), report
    cfg = {k: v for k, v in data_cfg.items() if k not in ("cache_dir", "dataset")}
    return cached_dataset({**cfg, "targets": list(targets)}, _cache_dir(data_cfg))


def _cache_dir(data_cfg: dict) -> Path:
    return Path(data_cfg.get("cache_dir") or ROOT / ".cache" / "datasets")


def run_splits(run_dir: Path, recipe: dict, targets: list[str]) -> DatasetDict:
    """The splits a run was trained on: its build (data_report.json keeps the fingerprint) while
    the cache has it. Otherwise they are rebuilt from the recipe, and refused if the input has
    changed since: a changed file, split anew, would put training articles into the test split."""
    report = run_dir / "data_report.json"
    trained = json.loads(report.read_text()).get("fingerprint") if report.exists() else None
    build = _cache_dir(recipe["data"]) / trained if trained else None
    if build and (build / "build_report.json").exists():
        return load_from_disk(str(build))
    splits, built = load_splits(recipe["data"], targets)
    if trained and built.get("fingerprint") not in (None, trained):
        raise DataError(f"{recipe['data'].get('source')} has changed since {run_dir} was trained, and the "
                        "build it was trained on is no longer cached: its splits cannot be rebuilt")
    return splits


def window_split(ds, tokenizer, formulation: Formulation, training: bool = False):
    """Model-input windows of a split; `datasets` caches the result next to the saved split."""
    return ds.map(formulation.encode, batched=True, remove_columns=ds.column_names,
                  desc=f"{formulation.name} windows", fn_kwargs={"tokenizer": tokenizer, "training": training})


def per_article_metrics(formulation: Formulation, windows: dict, gold: dict):
    """`compute_metrics` for the Trainer: window logits -> article probabilities -> scores."""
    metric = load_stance_metric()
    ids = list(gold)

    def compute(eval_pred):
        probs, _ = formulation.aggregate(eval_pred.predictions, windows, ids)
        scores = metric.compute(predictions=probs.argmax(-1), references=[gold[k] for k in ids],
                                targets=formulation.keys)
        # the per-label figures belong in eval.py's report, not in every training log line
        return {k: v for k, v in scores.items() if k.endswith(("_accuracy", "_macro_f1", "_f_avg"))}
    return compute


def calibrate(formulation: Formulation, logits: np.ndarray, windows: dict, gold: dict) -> tuple[dict, dict]:
    """Temperatures fitted on the validation logits, and the validation ECE before and after."""
    ids = list(gold)
    labels = np.array([gold[k] for k in ids])
    temperature = fit_temperatures(formulation, logits, windows, ids, labels)
    before, info = formulation.aggregate(logits, windows, ids)
    after, _ = formulation.aggregate(logits, windows, ids, temperature)
    errors = calibration_errors(before, after, labels, model_decided(info, labels.shape), formulation.keys)
    return temperature, {"temperature": temperature, "fitted_on": "validation", "ece": errors}


def window_index(windows) -> dict:
    """The columns that map windows back to (article, target), without the model inputs."""
    return windows.select_columns([c for c in ("id", "target", "mentions") if c in windows.column_names]).to_dict()


class StanceTrainer(Trainer):
    """Evaluates windows in dataset order: `per_article_metrics` maps predictions back to their
    articles by position, and Trainer 5 would otherwise length-group evaluation batches whenever
    training is length-grouped."""

    def _get_eval_sampler(self, eval_dataset):
        return SequentialSampler(eval_dataset) if self.args.world_size <= 1 else None  # DDP: sharded in order


class EpochMetricsWriter(TrainerCallback):
    """Appends each evaluation's metrics to metrics_per_epoch.jsonl in the run directory."""

    def __init__(self, path: Path):
        self.path = path

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if state.is_world_process_zero and metrics:
            with open(self.path, "a") as f:
                f.write(json.dumps({"epoch": state.epoch, "step": state.global_step, **metrics}) + "\n")


def device_flags(precision: str) -> dict:
    """TrainingArguments for the device: CUDA or MPS when present, else the CPU.

    Precision `auto`: bf16 where the GPU supports it, else fp16; fp32 on CPU (bf16 autocast on
    request). `use_cpu` matters beyond placement: without it, Trainer 5 launched by torchrun on
    a CPU machine trains each process alone instead of as one gloo DDP job.
    """
    on_gpu = torch.cuda.is_available() or torch.backends.mps.is_available()
    if precision == "auto":
        precision = ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if torch.cuda.is_available() else "fp32"
    if precision not in ("fp32", "bf16", "fp16"):
        raise ValueError(f"precision {precision!r}: use auto, fp32, bf16 or fp16")
    return {"bf16": precision == "bf16", "fp16": precision == "fp16", "use_cpu": not on_gpu}


def train(recipe: dict, resume: bool = False) -> tuple[Path, dict]:
    """Fine-tune per the recipe; returns the run directory and the best validation metrics."""
    validate_recipe(recipe)  # before anything is written
    args_cfg = {**TRAINING_DEFAULTS, **recipe.get("training", {})}
    out = Path(args_cfg["output_dir"])
    set_seed(args_cfg.get("seed", 42))
    model_cfg, formulation = recipe.get("model", {}), formulation_from(recipe)
    try:
        args = TrainingArguments(**args_cfg, **device_flags(recipe.get("precision", "auto")))
    except ValueError as e:  # a value TrainingArguments itself refuses (an unknown strategy, say)
        raise ValueError(f"recipe: training: {e}") from None
    last = get_last_checkpoint(str(out)) if resume and out.is_dir() else None
    if resume and last is None:
        raise FileNotFoundError(f"{out}: no checkpoint to resume from")
    # under torchrun the main process builds and tokenizes; the others then read its cache
    with args.main_process_first(desc="dataset"):
        splits, data_report = load_splits(recipe["data"], formulation.keys)
        for warning in data_report.get("warnings", []):
            print(f"warning: {warning}", file=sys.stderr)
        tokenizer, model = load_encoder_for_training(
            model_cfg.get("name_or_path", ""), formulation.label_config(), tiny=model_cfg.get("tiny"),
            train_texts=splits["train"]["text"], tokenizer=AutoTokenizer.from_pretrained(last) if last else None)
        train_windows = window_split(splits["train"], tokenizer, formulation, training=True)
        eval_windows = window_split(splits["validation"], tokenizer, formulation)
    if model_cfg.get("freeze_word_embeddings"):  # a 250k-row table's gradient and Adam state dominate a CPU step
        model.get_input_embeddings().weight.requires_grad_(False)
    keys = formulation.keys
    gold = {r["id"]: [r[k] for k in keys] for r in splits["validation"].select_columns(["id", *keys])}
    labels = np.array(train_windows["labels"])
    weights = class_weights_from(labels) if model_cfg.get("class_weights", True) else None
    callbacks = [EpochMetricsWriter(out / "metrics_per_epoch.jsonl")]
    if recipe.get("early_stopping_patience"):
        callbacks.append(EarlyStoppingCallback(recipe["early_stopping_patience"]))
    trainer = StanceTrainer(model=model, args=args, train_dataset=train_windows, eval_dataset=eval_windows,
                            processing_class=tokenizer, data_collator=DataCollatorWithPadding(tokenizer),
                            compute_loss_func=stance_loss(weights, model_cfg.get("label_smoothing", 0.0)),
                            compute_metrics=per_article_metrics(formulation, window_index(eval_windows), gold),
                            callbacks=callbacks)
    if trainer.is_world_process_zero() and not resume:
        (out / "metrics_per_epoch.jsonl").unlink(missing_ok=True)
    if trainer.is_world_process_zero():
        acc = trainer.accelerator
        print(f"training on {acc.num_processes} process(es), {acc.distributed_type.value}, {acc.device}, "
              f"{'bf16' if args.bf16 else 'fp16' if args.fp16 else 'fp32'}")
    trainer.train(resume_from_checkpoint=last)
    if trainer.is_world_process_zero():
        write_training_curve(trainer.state.log_history, out / "training_curve.png")
    metrics = trainer.evaluate()  # the best checkpoint, reloaded at the end of training
    temperature = None
    if recipe.get("calibration", True):
        logits = trainer.predict(eval_windows).predictions  # every process takes part; all get all logits
        temperature, metrics["calibration"] = calibrate(formulation, logits, window_index(eval_windows), gold)
    if trainer.is_world_process_zero():
        trainer.save_model(str(out))
        save_stance_settings(out, formulation, recipe["data"].get("clean", True), temperature)
        save_recipe(recipe, out / "recipe.yaml")
        (out / "data_report.json").write_text(json.dumps(data_report, indent=2))
        (out / "validation_metrics.json").write_text(json.dumps(metrics, indent=2))
        (out / "report.md").unlink(missing_ok=True)  # a test report of an earlier model no longer applies
        write_model_card(out)
    return out, metrics
