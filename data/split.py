"""Seeded, deterministic train/validation/test assignment, stratified over the joint labels,
with near-duplicate groups kept whole."""
import random
from collections import Counter, defaultdict

SPLITS = ("train", "validation", "test")


def assign_splits(keys: list, groups: list[int], fractions: dict[str, float], seed: int) -> list[str]:
    """One split name per article.

    `keys` is each article's stratum (its label triple); a group takes its first member's
    stratum. Groups are walked stratum by stratum in a seeded order and each goes to the split
    furthest below its share so far, which spreads every stratum over the splits in proportion
    (systematic sampling) and hits the overall fractions to within one group.
    """
    shares = {"train": 1.0 - sum(fractions.values()), **fractions}
    members = defaultdict(list)
    for i, g in enumerate(groups):
        members[g].append(i)
    strata = defaultdict(list)
    for g, idx in members.items():
        strata[keys[idx[0]]].append(g)
    rng = random.Random(seed)
    order = []
    for key in sorted(strata, key=lambda k: (-len(strata[k]), str(k))):
        chunk = sorted(strata[key])
        rng.shuffle(chunk)
        order += chunk
    counts, seen, out = Counter(), 0, [""] * len(keys)
    for g in order:
        seen += len(members[g])
        split = max(SPLITS, key=lambda s: shares.get(s, 0.0) * seen - counts[s])
        counts[split] += len(members[g])
        for i in members[g]:
            out[i] = split
    return out


def keep_groups_together(splits: list[str], groups: list[int]) -> tuple[list[str], int]:
    """Honour user-given splits, but move near duplicates into their group's first split.

    Returns the new splits and how many articles moved.
    """
    first = {}
    for s, g in zip(splits, groups):
        first.setdefault(g, s)
    moved = [first[g] for g in groups]
    return moved, sum(a != b for a, b in zip(splits, moved))
