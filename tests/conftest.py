import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "data" / "sample" / "articles.jsonl"


def sample_articles(n=None) -> list[dict]:
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows[:n] if n else rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def tiny_recipe(tmp: Path, source=None, **training) -> dict:
    """configs/tiny.yaml into `tmp`, trained on `source` or on the sample's first 368 articles
    (its first batch: the time of the training tests does not grow with the corpus)."""
    from model.recipe import load_recipe
    if source is None:
        source = write_jsonl(tmp / "sample.jsonl", sample_articles(368))
    recipe = load_recipe(ROOT / "configs" / "tiny.yaml")
    recipe["data"]["source"] = str(source)
    recipe["data"]["cache_dir"] = str(tmp / "cache")
    recipe["training"].update(output_dir=str(tmp / "run"), **training)
    return recipe


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A tiny model trained once on (the first batch of) the bundled sample, shared by the evaluation
    and prediction tests."""
    from model.training import train
    tmp = tmp_path_factory.mktemp("tiny")
    out, _ = train(tiny_recipe(tmp))
    return out


@pytest.fixture(scope="session")
def tiny_multi_head_run(tmp_path_factory) -> Path:
    """The same, reading whole articles with one head per target (`formulation: multi_head`)."""
    from model.training import train
    tmp = tmp_path_factory.mktemp("tiny_multi_head")
    recipe = tiny_recipe(tmp)
    recipe["formulation"] = "multi_head"
    out, _ = train(recipe)
    return out


@pytest.fixture(params=["target_pair", "multi_head"])
def any_tiny_run(request):
    return request.getfixturevalue("tiny_run" if request.param == "target_pair" else "tiny_multi_head_run")
