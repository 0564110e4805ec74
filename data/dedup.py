"""Group exact and near-duplicate articles so a split never separates them.

Near duplicates (the same story lightly edited by two outlets) are found with MinHash over
word 3-shingles and locality-sensitive hashing, then confirmed by exact Jaccard similarity:
linear in the number of articles, so it scales past what pairwise comparison can.
"""
import hashlib
import itertools
import re

import numpy as np

SHINGLE = 3
BANDS, ROWS = 32, 4  # 128 hash functions; pairs at Jaccard 0.5 become candidates ~87% of the time
_PRIME = (1 << 31) - 1  # a*x+b stays below 2**63 for 31-bit shingles: exact in uint64


def _shingles(text: str) -> set[int]:
    words = re.findall(r"\w+", text.lower())
    grams = {" ".join(words[i:i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    # blake2b, not hash(): Python salts str hashes per process and splits must be reproducible
    return {int.from_bytes(hashlib.blake2b(g.encode(), digest_size=4).digest(), "little") % _PRIME for g in grams}


def _signature(shingles: set[int], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x = np.fromiter(shingles, dtype=np.uint64, count=len(shingles))
    return ((a[:, None] * x[None, :] + b[:, None]) % _PRIME).min(axis=1)


def jaccard(s: set, t: set) -> float:
    return len(s & t) / max(1, len(s | t))


def duplicate_groups(texts: list[str], threshold: float = 0.5, seed: int = 0) -> list[int]:
    """A group id per text; texts in one group are exact or near duplicates (Jaccard >= threshold)."""
    parent = list(range(len(texts)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    rng = np.random.default_rng(seed)
    a = rng.integers(1, _PRIME, BANDS * ROWS).astype(np.uint64)
    b = rng.integers(0, _PRIME, BANDS * ROWS).astype(np.uint64)
    shingles = [_shingles(t) for t in texts]
    buckets: dict[tuple, list[int]] = {}
    for i, s in enumerate(shingles):
        sig = _signature(s, a, b)
        for band in range(BANDS):
            buckets.setdefault((band, sig[band * ROWS:(band + 1) * ROWS].tobytes()), []).append(i)
    for members in buckets.values():
        # all pairs in a small bucket; a huge bucket (many copies of one text) against its first member
        pairs = itertools.combinations(members, 2) if len(members) <= 64 else ((members[0], j) for j in members[1:])
        for i, j in pairs:
            if find(i) != find(j) and jaccard(shingles[i], shingles[j]) >= threshold:
                parent[find(j)] = find(i)
    roots = [find(i) for i in range(len(texts))]
    ids = {r: n for n, r in enumerate(dict.fromkeys(roots))}
    return [ids[r] for r in roots]
