"""The project's `evaluate` metrics, loaded by path from this folder."""
import importlib.util
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def evaluate_library():
    """The `evaluate` library. The repository's own evaluate.py shares its name and shadows it
    whenever the repository root is on sys.path, so look it up without that entry."""
    lib = sys.modules.get("evaluate")
    if lib is not None and hasattr(lib, "load"):
        return lib
    sys.modules.pop("evaluate", None)
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if Path(os.path.abspath(p or os.curdir)) != ROOT]
    try:
        import evaluate as lib
    finally:
        sys.path[:] = saved
    return lib


def load_stance_metric():
    return evaluate_library().load(str(HERE / "stance_scores"))


def stance_score_function():
    """The plain scoring function behind the metric, for the many calls of a bootstrap."""
    evaluate_library()  # the script imports `evaluate`
    spec = importlib.util.spec_from_file_location("stance_scores", HERE / "stance_scores" / "stance_scores.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.score
