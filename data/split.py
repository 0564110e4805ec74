"""Seeded, deterministic train/validation/test assignment, stratified over the joint labels,
with near-duplicate groups (and the user's groups, such as outlets) kept whole."""
import random
from collections import Counter, defaultdict

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

SPLITS = ("train", "validation", "test")


def assign_splits(keys: list, groups: list[int], fractions: dict[str, float], seed: int,
                  shuffle_strata: bool = False) -> list[str]:
    """One split name per article.

    `keys` is each article's stratum (its label triple); a group takes its first member's
    stratum. Groups are walked stratum by stratum in a seeded order and each goes to the split
    furthest below its share so far, which spreads every stratum over the splits in proportion
    (systematic sampling) and hits the overall fractions to within one group. With large groups
    (outlets) most strata hold one group, so `shuffle_strata` lets the seed order strata of
    equal size too.
    """
    shares = {"train": 1.0 - sum(fractions.values()), **fractions}
    members = defaultdict(list)
    for i, g in enumerate(groups):
        members[g].append(i)
    strata = defaultdict(list)
    for g, idx in members.items():
        strata[keys[idx[0]]].append(g)
    rng = random.Random(seed)
    walk = sorted(strata, key=lambda k: (-len(strata[k]), str(k)))
    if shuffle_strata:
        rng.shuffle(walk)
        walk.sort(key=lambda k: -len(strata[k]))  # stable: equal sizes keep the shuffled order
    order = []
    for key in walk:
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


def merge_groups(*labelings: list) -> list[int]:
    """One unit id per article: articles that share a value in any labeling (a near-duplicate
    group, an outlet) share a unit, transitively, so keeping units whole keeps every group whole."""
    n = len(labelings[0])
    rows, cols = [], []
    for labels in labelings:
        first = {}
        for i, g in enumerate(labels):
            rows.append(i)
            cols.append(first.setdefault(g, i))
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    return connected_components(graph, directed=False)[1].tolist()


def hold_out_group(values: list[str], held: str, keys: list, groups: list[int], validation: float,
                   seed: int) -> list[str]:
    """Leave one group out: the articles whose group value is `held` are the test split; an article
    of another group that is a near duplicate of one of them is left out ("") so that no copy of a
    test story is trained on; the rest split into train and a stratified `validation` share."""
    held_groups = {g for v, g in zip(values, groups) if v == held}
    out = ["test" if v == held else "" if g in held_groups else None for v, g in zip(values, groups)]
    rest = [i for i, s in enumerate(out) if s is None]
    for i, s in zip(rest, assign_splits([keys[i] for i in rest], [groups[i] for i in rest],
                                        {"validation": validation}, seed)):
        out[i] = s
    return out
