"""Where an article names a target, and the focused excerpt the model reads for that target.

Most of a long news article says nothing about a given target. Per (article, target) the
excerpt is the headline and lead, then every sentence that names the target, then the closing
sentence and the mentions' neighbours, as far as the token budget allows, in article order.
Train, evaluate and predict all build excerpts here.
"""
import re
from collections.abc import Callable, Sequence

from model.targets import Target

# A sentence ends at . ! ? (or a closing quote after one) followed by space and a capital,
# quote or bracket; paragraphs (and the headline, on its own line) always end one.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z\"“‘(\[])")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for para in text.split("\n") if para.strip()
            for s in _SENTENCE_END.split(para.strip()) if s.strip()]


def _words(words: Sequence[str], flags: int):
    if not words:
        return None
    alternation = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", flags)


class MentionFinder:
    """Counts a target's mentions: aliases as whole words (case-insensitive unless listed as
    case-sensitive), after masking the exclusions."""

    def __init__(self, target: Target):
        self.target = target
        self._any_case = _words(target.aliases, re.IGNORECASE)
        self._exact = _words(target.case_sensitive, 0)
        self._exclude = _words(target.exclude, re.IGNORECASE)

    def count(self, text: str) -> int:
        if self._exclude is not None:
            text = self._exclude.sub(" ", text)
        return sum(len(p.findall(text)) for p in (self._any_case, self._exact) if p is not None)


def word_counts(sentences: list[str]) -> list[int]:
    return [len(s.split()) for s in sentences]


def focused_excerpt(text: str, finder: MentionFinder, max_tokens: int | None = None,
                    count_tokens: Callable[[list[str]], list[int]] = word_counts, context: int = 1,
                    lead: int = 2) -> tuple[str, int]:
    """(excerpt, number of mentions). `lead` sentences open the excerpt (the headline is the
    first when the article has one); `context` neighbours on each side of a mention follow
    once every mention is in. A sentence that would overflow `max_tokens` is left out."""
    sentences = split_sentences(text)
    hits = [finder.count(s) for s in sentences]
    mentioned = [i for i, h in enumerate(hits) if h]
    neighbours = [j for i in mentioned for j in range(i - context, i + context + 1)
                  if 0 <= j < len(sentences)]
    order = [*range(min(lead, len(sentences))), *mentioned, len(sentences) - 1, *neighbours]
    lengths = count_tokens(sentences) if max_tokens is not None else [0] * len(sentences)
    chosen, used = set(), 0
    for i in order:
        if i < 0 or i in chosen:
            continue
        if max_tokens is not None and used + lengths[i] > max_tokens and chosen:
            continue
        chosen.add(i)
        used += lengths[i]
    return " ".join(sentences[i] for i in sorted(chosen)), sum(hits)
