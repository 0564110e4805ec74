"""How an article becomes model inputs, and model outputs become per-article probabilities.

Two formulations, one interface; train, evaluate and predict all go through it:

- `target_pair` (default): for each (article, target) the model reads the pair
  (target display name, focused excerpt of the passages naming the target) and one shared
  4-way head gives the contract's labels. A target the article never names is `none` by rule,
  without a forward pass (`rule_none: false` sends it through the model with the lead).
- `multi_head`: the model reads the whole article once; len(targets) x 4 logits named
  `target:label`, a softmax per target.

Both read long inputs as overlapping windows and average the windows' probabilities, after
dividing each target's logits by its temperature when the run has one (`model/calibration.py`).
Training labels are (windows, targets) with -100 where a window says nothing about a target,
so one loss serves both (`modeling.stance_loss`).
"""
import numpy as np

from data.mentions import MentionFinder, focused_excerpt
from data.windows import tokenize_windows

from .labels import LABEL2ID, LABELS
from .targets import Target, targets_from, targets_section

IGNORE = -100  # the label of a (window, target) the window does not speak for
WINDOW_DEFAULTS = {"max_length": 512, "stride": 128, "train_strategy": "windows", "head_tokens": 128}
EXCERPT_DEFAULTS = {"max_tokens": None, "context": 1, "lead": 2, "rule_none": True}


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _temperatures(keys: list[str], temperature: dict | None) -> np.ndarray:
    """One divisor per target (1 where none is given): temperature scaling of the logits."""
    return np.array([float((temperature or {}).get(k, 1.0)) for k in keys])


class Formulation:
    name: str

    def __init__(self, targets: tuple[Target, ...], windows: dict, excerpt: dict | None = None):
        self.targets, self.windows = tuple(targets), dict(windows)
        self.excerpt = {**EXCERPT_DEFAULTS, **(excerpt or {})}
        self.keys = [t.key for t in self.targets]

    def settings(self) -> dict:
        """What stance.json records so that evaluate and predict read articles as training did."""
        return {"formulation": self.name, "targets": targets_section(self.targets), "labels": list(LABELS),
                "windows": self.windows, "excerpt": self.excerpt, "aggregation": "mean of window probabilities"}

    def label_config(self) -> dict:
        names = self.label_names()
        return {"num_labels": len(names), "id2label": dict(enumerate(names)),
                "label2id": {n: i for i, n in enumerate(names)}, "problem_type": "single_label_classification"}

    def _labels(self, batch: dict, mapping: list[int]) -> list[list[int]] | None:
        if not all(k in batch for k in self.keys):
            return None
        return [[batch[k][i] for k in self.keys] for i in mapping]


class MultiHead(Formulation):
    name = "multi_head"

    def label_names(self) -> list[str]:
        return [f"{k}:{label}" for k in self.keys for label in LABELS]

    def encode(self, batch: dict, tokenizer, training: bool = False) -> dict:
        """Batched `datasets.map` function: article rows (id, text[, labels]) in, window rows out."""
        w = self.windows
        out = tokenize_windows(batch["text"], tokenizer, w["max_length"], w["stride"],
                               w.get("train_strategy", "windows") if training else "windows", w.get("head_tokens", 128))
        mapping = out.pop("article")
        out["id"] = [batch["id"][i] for i in mapping]
        labels = self._labels(batch, mapping)
        if labels is not None:
            out["labels"] = labels
        return out

    def aggregate(self, logits: np.ndarray, windows: dict, article_ids: list,
                  temperature: dict | None = None) -> tuple[np.ndarray, dict]:
        """Per-article probabilities (articles, targets, labels): each window's logits divided by
        its target's temperature, a softmax, the mean over the article's windows."""
        index = {k: i for i, k in enumerate(article_ids)}
        rows = np.array([index[k] for k in windows["id"]], dtype=np.int64)
        logits = np.asarray(logits, np.float64).reshape(len(rows), len(self.keys), len(LABELS))
        probs = softmax(logits / _temperatures(self.keys, temperature)[None, :, None])
        sums = np.zeros((len(article_ids), len(self.keys), len(LABELS)))
        np.add.at(sums, rows, probs)
        counts = np.bincount(rows, minlength=len(article_ids))
        return sums / np.maximum(counts, 1)[:, None, None], {"windows": counts}


class TargetPair(Formulation):
    name = "target_pair"

    def __init__(self, targets, windows, excerpt=None):
        super().__init__(targets, windows, excerpt)
        self.finders = [MentionFinder(t) for t in self.targets]

    def label_names(self) -> list[str]:
        return list(LABELS)

    def excerpts(self, texts: list[str], tokenizer) -> tuple[list[tuple[int, int, str]], np.ndarray]:
        """(article, target, excerpt) for every pair the model reads, and mentions (articles, targets)."""
        def count_tokens(sentences):
            return [len(ids) for ids in tokenizer(sentences, add_special_tokens=False)["input_ids"]]
        e, pairs = self.excerpt, []
        mentions = np.zeros((len(texts), len(self.targets)), dtype=np.int64)
        for t, (target, finder) in enumerate(zip(self.targets, self.finders)):
            # the excerpt and the name must fit one window unless the recipe asks for longer excerpts
            budget = e["max_tokens"] or (self.windows["max_length"] - tokenizer.num_special_tokens_to_add(pair=True)
                                         - len(tokenizer(target.name, add_special_tokens=False)["input_ids"]))
            for i, text in enumerate(texts):
                excerpt, mentions[i, t] = focused_excerpt(text, finder, budget, count_tokens, e["context"], e["lead"])
                if mentions[i, t] or not e["rule_none"]:
                    pairs.append((i, t, excerpt))
        return pairs, mentions

    def encode(self, batch: dict, tokenizer, training: bool = False) -> dict:
        pairs, mentions = self.excerpts(batch["text"], tokenizer)
        if not pairs:  # every target decided by rule: no window, but the same columns
            empty = {k: [] for k in (*tokenizer.model_input_names, "id", "target", "mentions", "length")}
            return {**empty, "labels": []} if all(k in batch for k in self.keys) else empty
        enc = tokenizer([self.targets[t].name for _, t, _ in pairs], [x for _, _, x in pairs], truncation="only_second",
                        max_length=self.windows["max_length"], stride=self.windows["stride"],
                        return_overflowing_tokens=True)
        which = [pairs[j] for j in enc.pop("overflow_to_sample_mapping")]
        out = {k: list(v) for k, v in enc.items()}
        out["id"] = [batch["id"][i] for i, _, _ in which]
        out["target"] = [t for _, t, _ in which]
        out["mentions"] = [int(mentions[i, t]) for i, t, _ in which]
        out["length"] = [len(ids) for ids in out["input_ids"]]
        if all(k in batch for k in self.keys):
            out["labels"] = [[batch[self.keys[t]][i] if u == t else IGNORE for u in range(len(self.keys))]
                             for i, t, _ in which]
        return out

    def aggregate(self, logits, windows, article_ids, temperature=None):
        index = {k: i for i, k in enumerate(article_ids)}
        rows = np.array([index[k] for k in windows["id"]], dtype=np.int64)
        cols = np.asarray(windows["target"], dtype=np.int64)
        shape = (len(article_ids), len(self.keys))
        sums = np.zeros((*shape, len(LABELS)))
        logits = np.asarray(logits, np.float64).reshape(len(rows), len(LABELS))
        np.add.at(sums, (rows, cols), softmax(logits / _temperatures(self.keys, temperature)[cols][:, None]))
        pair_windows = np.zeros(shape, dtype=np.int64)
        np.add.at(pair_windows, (rows, cols), 1)
        mentions = np.zeros(shape, dtype=np.int64)
        mentions[rows, cols] = np.asarray(windows["mentions"], dtype=np.int64)
        probs = sums / np.maximum(pair_windows, 1)[..., None]
        rule = pair_windows == 0  # never read: the article does not name the target
        probs[rule] = np.eye(len(LABELS))[LABEL2ID["none"]]
        return probs, {"windows": pair_windows.sum(1), "mentions": mentions, "rule_none": rule}


FORMULATIONS = {f.name: f for f in (TargetPair, MultiHead)}


def formulation_from(recipe_or_settings: dict, saved: bool = False) -> Formulation:
    """From a recipe (`formulation`, `targets`, `windows`, `excerpt`) or a run's stance.json (`saved`)."""
    cfg = recipe_or_settings
    name = cfg.get("formulation") or ("multi_head" if saved else "target_pair")  # runs before target_pair
    if name not in FORMULATIONS:
        raise ValueError(f"formulation {name!r}: use {' or '.join(FORMULATIONS)}")
    section = cfg.get("targets")
    if saved and isinstance(section, list):  # stance.json of a run made before targets were configurable
        targets = tuple(t for t in targets_from(None) if t.key in section)
    else:
        targets = targets_from(section, base={}) if saved else targets_from(section)
    return FORMULATIONS[name](targets, {**WINDOW_DEFAULTS, **(cfg.get("windows") or {})}, cfg.get("excerpt"))
