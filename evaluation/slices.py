"""Scores broken down by a column the evaluated data carries (the outlet, the year, ...)."""
import numpy as np

from data import DataError
from data.articles import DUPLICATE_GROUP

MISSING = "(no value)"


def slice_values(ds, columns: list[str], targets: list[str]) -> dict[str, list[str]]:
    """Each requested column's value per article; an unknown column raises `DataError` naming
    the columns there are (the source's own, besides id, text and the labels)."""
    available = [c for c in ds.column_names if c not in ("id", "text", DUPLICATE_GROUP, *targets)]
    for column in columns:
        if column not in available:
            raise DataError(f"no column {column!r} to slice by in the evaluated data "
                            f"(columns: {', '.join(available) or 'none besides id, text and the labels'})")
    return {c: [MISSING if v is None else str(v) for v in ds[c]] for c in columns}


def slice_scores(score, pred: np.ndarray, gold: np.ndarray, values: list[str]) -> dict[str, dict]:
    """{value: scores of its articles, with `articles`, the slice size}; `score(pred, gold)` scores one slice."""
    values = np.asarray(values, dtype=object)
    out = {}
    for value in sorted(set(values)):
        rows = np.flatnonzero(values == value)
        out[value] = {**score(pred[rows], gold[rows]), "articles": len(rows)}
    return out
