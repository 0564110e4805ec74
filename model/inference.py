"""Batched window inference shared by eval.py and predict.py, so both read an article the same way."""
import numpy as np

from .formulations import Formulation

INPUT_KEYS = ("input_ids", "attention_mask", "token_type_ids")


def window_logits(engine, tokenizer, windows: dict, batch_size: int = 32) -> np.ndarray:
    """Logits for every window, in input order. Windows are run longest first in batches padded
    only to their own longest member, so short windows never pay for long ones. `engine` is one
    of model/engines.py's (a callable from a padded numpy batch to logits)."""
    keys = [k for k in INPUT_KEYS if k in windows and k in tokenizer.model_input_names]
    n = len(windows["input_ids"])
    out = np.zeros((n, engine.num_labels), dtype=np.float32)
    if n == 0:  # every target of every article decided by rule
        return out
    order = sorted(range(n), key=lambda i: -len(windows["input_ids"][i]))
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        out[idx] = engine(tokenizer.pad({k: [windows[k][i] for i in idx] for k in keys}, return_tensors="np"))
    return out


def predict_articles(engine, tokenizer, formulation: Formulation, ids: list, texts: list, batch_size: int = 32,
                     temperature: dict | None = None):
    """Per-article probabilities (n, targets, labels) in input order, and what the formulation
    reports per article (`windows`; for `target_pair` also `mentions` and `rule_none`).

    `temperature` (stance.json's, per target) scales the logits of either engine after the
    forward pass; with one, `uncalibrated` holds the probabilities without it."""
    windows = formulation.encode({"id": list(ids), "text": list(texts)}, tokenizer)
    logits = window_logits(engine, tokenizer, windows, batch_size)
    probs, info = formulation.aggregate(logits, windows, list(ids), temperature)
    if temperature:
        info["uncalibrated"] = formulation.aggregate(logits, windows, list(ids))[0]
    return probs, info
