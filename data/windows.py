"""Tokenizer-aware windows over long texts, each mapped back to the text it came from.

Training may read an article as overlapping windows (each inherits the article's labels) or as
one head+tail truncation; evaluation and prediction always read every window and aggregate.
"""


def tokenize_windows(texts: list[str], tokenizer, max_length: int, stride: int,
                     strategy: str = "windows", head_tokens: int = 128) -> dict:
    """Model inputs per window, `article` (the index of the window's text) and `length` (tokens,
    for length grouping)."""
    if strategy == "head_tail":
        enc = _head_tail(texts, tokenizer, max_length, head_tokens)
        enc["article"] = list(range(len(texts)))
    elif strategy == "windows":
        enc = tokenizer(texts, truncation=True, max_length=max_length, stride=stride,
                        return_overflowing_tokens=True)
        enc = {k: list(v) for k, v in enc.items()}
        enc["article"] = enc.pop("overflow_to_sample_mapping")
    else:
        raise ValueError(f"unknown window strategy {strategy!r} (use 'windows' or 'head_tail')")
    enc["length"] = [len(ids) for ids in enc["input_ids"]]
    return enc


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
