import json

import pytest

from PIL import Image

from eval import main as eval_cli
from model.labels import LABELS, TARGETS


def test_evaluate_writes_all_four_reports_with_baselines_and_intervals(tiny_run, tmp_path, capsys):
    out = tmp_path / "report"
    assert eval_cli(["--model", str(tiny_run), "--out", str(out), "--bootstrap", "200",
                     "--slice-by", "outlet_family"]) == 0
    printed = capsys.readouterr().out
    assert "majority class" in printed and "TF-IDF" in printed and "| outlet_family | articles |" in printed

    metrics = json.loads((out / "metrics.json").read_text())
    systems = metrics["systems"]
    assert set(systems) == {"model", "TF-IDF + LR, focused excerpts", "TF-IDF + LR, whole article", "majority class"}
    rule = metrics["rule_none"]
    assert metrics["formulation"] == "target_pair" and set(rule) == set(TARGETS) and sum(rule.values()) > 0
    for scores in systems.values():
        low, high = scores["ci"]["mean_macro_f1"]
        assert low <= scores["mean_macro_f1"] <= high
        assert all(f"{t}_f_avg" in scores for t in TARGETS)

    report = (out / "report.md").read_text()
    assert "| model |" in report and "| majority class |" in report and "[" in report
    assert f"{sum(rule.values())} of {3 * metrics['articles']} (article, target) pairs" in report

    for t in TARGETS:
        for png in ("confusion", "reliability"):
            with Image.open(out / f"{png}_{t}.png") as img:
                assert img.format == "PNG" and img.size[0] > 200

    # per outlet family: the slices partition the test split, each scored with an interval
    slices = metrics["slices"]["outlet_family"]
    assert set(slices) == {"mainstream", "islamist", "pro_russia", "western"}
    assert sum(s["articles"] for s in slices.values()) == metrics["articles"]
    for family, s in slices.items():
        low, high = s["ci"]["mean_macro_f1"]
        assert low <= s["mean_macro_f1"] <= high
        assert f"| {family} | {s['articles']} | {s['mean_macro_f1']:.3f} [" in report
    assert "## Model, by outlet_family" in report

    # calibration: the temperatures stance.json holds, ECE before and after over model-decided pairs
    calibration = metrics["calibration"]
    stance = json.loads((tiny_run / "stance.json").read_text())
    assert calibration["temperature"] == stance["temperature"] and calibration["applied"]
    ece = calibration["ece"]
    assert ece["bins"] == 15 and sum(ece["pairs"].values()) == 3 * metrics["articles"] - sum(rule.values())
    assert all(0 <= ece[when][t] <= 1 for when in ("before", "after") for t in (*TARGETS, "all", "all_pairs"))
    assert "## Calibration" in report and "15 equal-width confidence bins" in report

    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    n_articles = metrics["articles"]
    model_acc = systems["model"]["mean_accuracy"]
    assert len(errors) <= n_articles and (len(errors) > 0 or model_acc == 1.0)
    for e in errors:
        assert any(e["gold"][t] != e["predicted"][t] for t in TARGETS)
        assert set(e["gold"].values()) | set(e["predicted"].values()) <= set(LABELS)
        for t in TARGETS:
            assert abs(sum(e["probabilities"][t].values()) - 1) < 1e-3
            assert e["predicted"][t] == max(e["probabilities"][t], key=e["probabilities"][t].get)
        assert 0 < len(e["text"]) <= 300


def test_evaluate_on_a_labelled_file_and_a_bad_model_dir(tiny_run, tmp_path, capsys):
    from conftest import sample_articles
    src = tmp_path / "mine.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in sample_articles(12)))
    assert eval_cli(["--model", str(tiny_run), "--data", str(src), "--out", str(tmp_path / "o"),
                         "--bootstrap", "50"]) == 0
    assert json.loads((tmp_path / "o" / "metrics.json").read_text())["articles"] == 12
    assert eval_cli(["--model", str(tmp_path), "--out", str(tmp_path / "x")]) == 2
    assert "not a trained run" in capsys.readouterr().err


def test_several_seeds_report_mean_and_spread(tmp_path):
    import json as _json

    from conftest import tiny_recipe
    from evaluation.repeats import run_seeds
    md, table = run_seeds(tiny_recipe(tmp_path, num_train_epochs=1), [1, 2], n_resamples=20)
    root = md.parent
    summary = _json.loads((root / "seeds.json").read_text())["summary"]
    model = summary["model"]["mean_macro_f1"]
    assert len(model["values"]) == 2 and model["mean"] == sum(model["values"]) / 2
    assert model["std"] == pytest.approx(abs(model["values"][0] - model["values"][1]) / 2 ** 0.5)
    assert (root / "seed-1" / "report.md").exists() and (root / "seed-2" / "report.md").exists()
    assert "±" in table and "majority class" in table


def test_leave_one_group_out_reports_one_row_per_group(tmp_path):
    from collections import Counter

    from conftest import sample_articles, tiny_recipe
    from evaluation.repeats import leave_one_group_out
    from model.recipe import load_recipe
    rows = sample_articles(160)
    src = tmp_path / "outlets.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    recipe = tiny_recipe(tmp_path, source=src, num_train_epochs=1)
    recipe["data"]["group_column"] = "outlet_family"
    md, table = leave_one_group_out(recipe, n_resamples=20)
    counts = Counter(r["outlet_family"] for r in rows)
    assert len(counts) == 4
    result = json.loads((md.parent / "leave_one_group_out.json").read_text())
    assert {g: v["articles"] for g, v in result["groups"].items()} == counts
    for group, n in counts.items():
        assert table.count(f"| {group} | {n} | ") == 1  # one row per group, with its test size
        run = md.parent / f"holdout-{group}"
        assert load_recipe(run / "recipe.yaml")["data"]["holdout_group"] == group
        assert json.loads((run / "metrics.json").read_text())["articles"] == n
    mean = sum(v["model"]["mean_macro_f1"] for v in result["groups"].values()) / 4
    assert result["summary"]["model"]["mean_macro_f1"]["mean"] == pytest.approx(mean)
    assert f"| mean over 4 groups | {len(rows)} | {mean:.3f} | " in table


def test_a_changed_training_file_never_becomes_the_test_split(tmp_path, capsys):
    """Edit the file a run was trained on: eval scores the split the run was trained on while its
    build is cached, and refuses (one error line; baselines left out under --data) once it is not."""
    import shutil

    from conftest import sample_articles, tiny_recipe, write_jsonl
    from model.training import train
    rows = sample_articles(120)
    src = write_jsonl(tmp_path / "mine.jsonl", rows)
    run, _ = train(tiny_recipe(tmp_path, source=src, num_train_epochs=1))
    assert eval_cli(["--model", str(run), "--out", str(tmp_path / "before"), "--bootstrap", "20"]) == 0
    before = [e["id"] for e in map(json.loads, (tmp_path / "before" / "errors.jsonl").open())]
    tested = json.loads((tmp_path / "before" / "metrics.json").read_text())["articles"]

    write_jsonl(src, rows[60:] + rows[:60])
    assert eval_cli(["--model", str(run), "--out", str(tmp_path / "cached"), "--bootstrap", "20"]) == 0
    assert json.loads((tmp_path / "cached" / "metrics.json").read_text())["articles"] == tested
    again = [e["id"] for e in map(json.loads, (tmp_path / "cached" / "errors.jsonl").open())]
    assert before and again == before

    shutil.rmtree(tmp_path / "cache")
    assert eval_cli(["--model", str(run), "--out", str(tmp_path / "gone")]) == 2
    err = capsys.readouterr().err
    assert "has changed since" in err and "--data" in err and not (tmp_path / "gone").exists()
    assert eval_cli(["--model", str(run), "--data", str(src), "--out", str(tmp_path / "d"), "--bootstrap", "20"]) == 0
    report = (tmp_path / "d" / "report.md").read_text()
    assert "no baselines" in report and "TF-IDF" not in report
