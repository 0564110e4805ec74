"""Batched window inference shared by eval.py and predict.py, so both read an article the same way."""
import contextlib

import numpy as np
import torch

from .formulations import Formulation

INPUT_KEYS = ("input_ids", "attention_mask", "token_type_ids")


def pick_device(requested: str = "auto") -> torch.device:
    if requested != "auto":
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def prepare_model(model, device: torch.device, precision: str = "fp32"):
    """Move to device; `int8` applies dynamic quantization of the Linear layers (CPU only)."""
    if precision == "int8":
        if device.type != "cpu":
            raise ValueError("int8 dynamic quantization runs on the CPU only (use --device cpu or --precision bf16)")
        return torch.ao.quantization.quantize_dynamic(model.float(), {torch.nn.Linear}, dtype=torch.qint8).eval()
    return model.to(device).eval()


def _autocast(device: torch.device, precision: str):
    if precision in ("bf16", "fp16"):
        return torch.autocast(device.type, dtype=torch.bfloat16 if precision == "bf16" else torch.float16)
    return contextlib.nullcontext()


@torch.inference_mode()
def window_logits(model, tokenizer, windows: dict, batch_size: int = 32, device=None,
                  precision: str = "fp32") -> np.ndarray:
    """Logits for every window, in input order. Windows are run longest first in batches padded
    only to their own longest member, so short windows never pay for long ones."""
    device = device or next(model.parameters()).device
    keys = [k for k in INPUT_KEYS if k in windows and k in tokenizer.model_input_names]
    n = len(windows["input_ids"])
    out = np.zeros((n, model.config.num_labels), dtype=np.float32)
    if n == 0:  # every target of every article decided by rule
        return out
    order = sorted(range(n), key=lambda i: -len(windows["input_ids"][i]))
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        batch = tokenizer.pad({k: [windows[k][i] for i in idx] for k in keys}, return_tensors="pt")
        with _autocast(device, precision):
            logits = model(**{k: v.to(device) for k, v in batch.items()}).logits
        out[idx] = logits.float().cpu().numpy()
    return out


def predict_articles(model, tokenizer, formulation: Formulation, ids: list, texts: list,
                     temperature: dict | None = None, **kw):
    """Per-article probabilities (n, targets, labels) in input order, and what the formulation
    reports per article (`windows`; for `target_pair` also `mentions` and `rule_none`).

    `temperature` (stance.json's, per target) scales the logits of either engine after the
    forward pass; with one, `uncalibrated` holds the probabilities without it."""
    windows = formulation.encode({"id": list(ids), "text": list(texts)}, tokenizer)
    logits = window_logits(model, tokenizer, windows, **kw)
    probs, info = formulation.aggregate(logits, windows, list(ids), temperature)
    if temperature:
        info["uncalibrated"] = formulation.aggregate(logits, windows, list(ids))[0]
    return probs, info
