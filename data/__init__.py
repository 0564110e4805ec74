"""Dataset builders: read users' annotated articles, validate, clean, split, window."""
from .articles import InputSpec, iter_unlabelled, read_articles
from .build import build_dataset, cached_dataset, save_dataset, summary
from .errors import DataError
from .windows import tokenize_windows

__all__ = ["DataError", "InputSpec", "build_dataset", "cached_dataset", "iter_unlabelled", "read_articles",
           "save_dataset", "summary", "tokenize_windows"]
