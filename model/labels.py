"""The label contract of ../shared/annotation-guidelines.md: three targets, four labels each.

The targets' names and aliases live in `targets.py` (a recipe may add targets); the labels are
always these four.
"""

TARGETS = ("russia", "us", "syria")
LABELS = ("pro", "against", "neutral", "none")
LABEL2ID = {label: i for i, label in enumerate(LABELS)}
