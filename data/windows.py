"""Tokenizer-aware windows over long articles, each mapped back to its article.

Training may read an article as overlapping windows (each inherits the article's labels) or as
one head+tail truncation; evaluation and prediction always read every window and aggregate.
"""
from model.labels import TARGETS


def tokenize_windows(batch: dict, tokenizer, max_length: int, stride: int,
                     strategy: str = "windows", head_tokens: int = 128) -> dict:
    """Batched `datasets.map` function: article rows in, window rows out.

    Output columns: model inputs, `id` (the window's article), `length` (tokens, for length
    grouping) and, when the batch has labels, `labels` (one id per target).
    """
    texts = batch["text"]
    if strategy == "head_tail":
        enc = _head_tail(texts, tokenizer, max_length, head_tokens)
        mapping = list(range(len(texts)))
    elif strategy == "windows":
        enc = tokenizer(texts, truncation=True, max_length=max_length, stride=stride,
                        return_overflowing_tokens=True)
        mapping = enc.pop("overflow_to_sample_mapping")
    else:
        raise ValueError(f"unknown window strategy {strategy!r} (use 'windows' or 'head_tail')")
    out = {k: list(v) for k, v in enc.items()}
    out["id"] = [batch["id"][i] for i in mapping]
    out["length"] = [len(ids) for ids in out["input_ids"]]
    if all(t in batch for t in TARGETS):
        out["labels"] = [[batch[t][i] for t in TARGETS] for i in mapping]
    return out


def _head_tail(texts, tokenizer, max_length, head_tokens):
    # Keep the headline and lead plus the closing paragraph: the parts that weigh most.
    budget = max_length - tokenizer.num_special_tokens_to_add()
    head = min(head_tokens, budget)
    prefix, suffix = _special_tokens_around(tokenizer)
    rows = []
    for ids in tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]:
        if len(ids) > budget:
            ids = ids[:head] + ids[len(ids) - (budget - head):] if budget > head else ids[:head]
        rows.append(prefix + ids + suffix)
    enc = {"input_ids": rows, "attention_mask": [[1] * len(r) for r in rows]}
    if "token_type_ids" in tokenizer.model_input_names:
        enc["token_type_ids"] = [[0] * len(r) for r in rows]
    return enc


def _special_tokens_around(tokenizer) -> tuple[list[int], list[int]]:
    """The special tokens the tokenizer puts before and after one text (e.g. [CLS] and [SEP])."""
    bare = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a")["input_ids"]
    at = next(i for i in range(len(full)) if full[i:i + len(bare)] == bare)
    return full[:at], full[at + len(bare):]
