"""The project's `evaluate` metrics, loaded by path from this folder (from any working directory)."""
import importlib.util
from pathlib import Path

import evaluate

HERE = Path(__file__).resolve().parent


def load_stance_metric():
    return evaluate.load(str(HERE / "stance_scores"))


def stance_score_function():
    """The plain scoring function behind the metric, for the many calls of a bootstrap."""
    spec = importlib.util.spec_from_file_location("stance_scores", HERE / "stance_scores" / "stance_scores.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.score
