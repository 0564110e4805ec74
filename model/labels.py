"""The label contract of ../shared/annotation-guidelines.md: three targets, four labels each.

The classifier emits one logit per (target, label) pair, target-major, so logits reshape to
(batch, len(TARGETS), len(LABELS)); `id2label` names them "russia:pro", "russia:against", ...
"""

TARGETS = ("russia", "us", "syria")
LABELS = ("pro", "against", "neutral", "none")
LABEL2ID = {label: i for i, label in enumerate(LABELS)}


def id2label() -> dict[int, str]:
    return {t * len(LABELS) + i: f"{target}:{label}"
            for t, target in enumerate(TARGETS) for i, label in enumerate(LABELS)}
