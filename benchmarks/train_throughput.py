"""Training windows per second on the sample corpus, settings side by side in one run.

  .venv/bin/python benchmarks/train_throughput.py [--max-length 512] [--config configs/quickstart.yaml]

1. dynamic padding with length-grouped batches versus padding every window to max_length;
2. bf16 autocast versus fp32 on this CPU (both with dynamic padding).
Each setting trains one full epoch through the Trainer over every window of the training split
(padding waste only shows over a whole epoch: the length-grouped sampler puts the longest
batch first); the first steps are a warm-up and are not timed.
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from transformers import DataCollatorWithPadding, Trainer, TrainerCallback, TrainingArguments  # noqa: E402

from model.modeling import class_weights_from, load_encoder_for_training, stance_loss  # noqa: E402
from model.recipe import load_recipe  # noqa: E402
from model.formulations import WINDOW_DEFAULTS, formulation_from  # noqa: E402
from model.training import load_splits, device_flags, window_split  # noqa: E402


class StepTimer(TrainerCallback):
    """Seconds and windows of the steps after the warm-up."""

    def __init__(self, warmup: int):
        self.warmup, self.start, self.windows = warmup, None, 0

    def on_step_begin(self, args, state, control, **kw):
        if state.global_step == self.warmup:
            self.start = time.perf_counter()

    def on_step_end(self, args, state, control, **kw):
        if state.global_step > self.warmup:
            self.windows += args.per_device_train_batch_size * args.gradient_accumulation_steps
        self.end = time.perf_counter()


def measure(recipe, train_windows, tokenizer, model_factory, *, pad_to_max, precision, warmup, tmp):
    tokenizer_, model = model_factory()
    collator = DataCollatorWithPadding(tokenizer, padding="max_length" if pad_to_max else "longest",
                                       max_length=recipe["windows"]["max_length"])
    args = TrainingArguments(output_dir=tmp, num_train_epochs=1, per_device_train_batch_size=8,
                             learning_rate=5e-5, report_to="none", save_strategy="no", logging_strategy="no",
                             train_sampling_strategy="random" if pad_to_max else "group_by_length",
                             dataloader_pin_memory=False, seed=0, **device_flags(precision))
    timer = StepTimer(warmup)
    trainer = Trainer(model=model, args=args, train_dataset=train_windows, processing_class=tokenizer,
                      data_collator=collator, callbacks=[timer],
                      compute_loss_func=stance_loss(class_weights_from(np.array(train_windows["labels"]))))
    trainer.train()
    return timer.windows / (timer.end - timer.start)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="configs/quickstart.yaml")
    p.add_argument("--max-length", type=int, default=512, help="window length (the real recipe's is 512)")
    p.add_argument("--warmup", type=int, default=3)
    args = p.parse_args()
    recipe = load_recipe(args.config)
    recipe["windows"] = {**WINDOW_DEFAULTS, **recipe["windows"], "max_length": args.max_length,
                         "stride": args.max_length // 4, "train_strategy": "windows"}
    reader = formulation_from(recipe)
    splits, _ = load_splits(recipe["data"], reader.keys)

    def factory():
        return load_encoder_for_training(recipe["model"]["name_or_path"], reader.label_config(),
                                         tiny=recipe["model"].get("tiny"), train_texts=splits["train"]["text"])
    tokenizer, _ = factory()
    train_windows = window_split(splits["train"], tokenizer, reader, training=True)
    lengths = np.array(train_windows["length"])
    print(f"{reader.name}: {len(train_windows)} training windows, mean length {lengths.mean():.0f} tokens "
          f"= {lengths.mean() / recipe['windows']['max_length']:.0%} of max_length {recipe['windows']['max_length']}")
    runs = {}
    for name, kw in {"pad to max_length, random order": dict(pad_to_max=True, precision="fp32"),
                     "dynamic padding, length-grouped": dict(pad_to_max=False, precision="fp32"),
                     "dynamic padding, length-grouped, bf16 autocast": dict(pad_to_max=False, precision="bf16")}.items():
        runs[name] = measure(recipe, train_windows, tokenizer, factory, warmup=args.warmup,
                             tmp="/tmp/bench_train", **kw)
        print(f"{name:<50} {runs[name]:7.2f} windows/s")
    names = list(runs)
    print(f"dynamic+grouped / pad-to-max: {runs[names[1]] / runs[names[0]]:.2f}x")
    print(f"bf16 / fp32 (dynamic+grouped): {runs[names[2]] / runs[names[1]]:.2f}x")


if __name__ == "__main__":
    main()
