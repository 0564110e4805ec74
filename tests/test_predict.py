import csv
import json

import pyarrow.parquet as pq
import pytest

from conftest import sample_articles
from model.labels import LABELS, TARGETS
from predict import main as predict_cli
from test_data import write_formats
from eval import main as eval_cli


def read_output(path):
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    return pq.read_table(path).to_pylist()


def check_record(r):
    assert set(r["labels"]) == set(TARGETS) and set(r["labels"].values()) <= set(LABELS)
    for t in TARGETS:
        assert sum(r["probabilities"][t].values()) == pytest.approx(1, abs=1e-4)
        assert r["labels"][t] == max(r["probabilities"][t], key=r["probabilities"][t].get)
    # target_pair: one window or more per target the article names; the others are `none` by rule
    assert r["windows"] >= sum(n > 0 for n in r["mentions"].values())
    assert all(r["labels"][t] == "none" for t, n in r["mentions"].items() if n == 0)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet", "txt"])
@pytest.mark.parametrize("out_fmt", ["jsonl", "csv", "parquet"])
def test_every_input_and_output_format(tiny_run, tmp_path, fmt, out_fmt):
    rows = sample_articles(12)
    src = write_formats(tmp_path, rows)[fmt]
    out = tmp_path / f"pred.{out_fmt}"
    assert predict_cli(["--model", str(tiny_run), "--input", str(src), "--output", str(out)]) == 0
    got = read_output(out)
    assert len(got) == 12
    assert [g["id"].removesuffix(".txt") for g in got] == [r["id"] for r in rows] or fmt == "txt"
    assert sorted(g["id"].removesuffix(".txt") for g in got) == sorted(r["id"] for r in rows)
    if out_fmt == "jsonl":
        for r in got:
            check_record(r)
    else:
        for r in got:
            for t in TARGETS:
                probs = {label: float(r[f"{t}_{label}"]) for label in LABELS}
                assert sum(probs.values()) == pytest.approx(1, abs=1e-4)
                assert r[t] == max(probs, key=probs.get)
    assert not list(tmp_path.glob("*.partial.jsonl"))


def test_long_articles_are_read_whole_in_windows(tiny_multi_head_run, tmp_path):
    tiny_run = tiny_multi_head_run
    rows = sample_articles()
    longest = max(rows, key=lambda r: len(r["text"]))
    src = tmp_path / "one.jsonl"
    src.write_text(json.dumps(longest, ensure_ascii=False) + "\n")
    out = tmp_path / "o.jsonl"
    assert predict_cli(["--model", str(tiny_run), "--input", str(src), "--output", str(out)]) == 0
    assert read_output(out)[0]["windows"] > 5  # 64-token windows over a 700-word article


def test_predict_and_evaluate_agree_on_the_same_articles(any_tiny_run, tmp_path):
    # the test split of the run's data, as raw articles with their scrape noise, through both tools
    from model.recipe import load_recipe
    from model.training import load_splits
    tiny_run = any_tiny_run
    splits, _ = load_splits(load_recipe(tiny_run / "recipe.yaml")["data"], TARGETS)
    test_ids = set(splits["test"]["id"])
    raw = [r for r in sample_articles() if r["id"] in test_ids]
    src = tmp_path / "test.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in raw))
    assert predict_cli(["--model", str(tiny_run), "--input", str(src), "--output", str(tmp_path / "p.jsonl"),
                        "--buffer", "7", "--batch-size", "5", "--engine", "torch", "--precision", "fp32"]) == 0
    predicted = {r["id"]: r for r in read_output(tmp_path / "p.jsonl")}  # the engine eval.py scores with
    assert eval_cli(["--model", str(tiny_run), "--out", str(tmp_path / "ev"), "--bootstrap", "10"]) == 0
    assert set(predicted) == test_ids
    errors = [json.loads(line) for line in (tmp_path / "ev" / "errors.jsonl").read_text().splitlines()]
    assert errors
    for e in errors:
        p = predicted[e["id"]]
        assert p["labels"] == e["predicted"]
        for t in TARGETS:
            for label in LABELS:
                assert p["probabilities"][t][label] == pytest.approx(e["probabilities"][t][label], abs=2e-4)


def test_interrupted_run_leaves_no_output_and_resume_completes_it(tiny_run, tmp_path, monkeypatch):
    import model.inference
    rows = sample_articles(20)
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    full = tmp_path / "full.jsonl"
    assert predict_cli(["--model", str(tiny_run), "--input", str(src), "--output", str(full), "--buffer", "4"]) == 0

    real, calls = model.inference.predict_articles, []

    def dies_on_third_buffer(*args, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kw)

    out = tmp_path / "out.jsonl"
    monkeypatch.setattr(model.inference, "predict_articles", dies_on_third_buffer)
    with pytest.raises(KeyboardInterrupt):
        predict_cli(["--model", str(tiny_run), "--input", str(src), "--output", str(out), "--buffer", "4"])
    monkeypatch.undo()
    assert not out.exists()  # nothing that looks complete
    partial = tmp_path / "out.jsonl.partial.jsonl"
    assert len(partial.read_text().splitlines()) == 8
    with open(partial, "a") as f:
        f.write('{"id": "torn')  # a record cut in half by the interruption
    assert predict_cli(["--model", str(tiny_run), "--input", str(src), "--output", str(out), "--buffer", "4",
                        "--resume"]) == 0
    assert read_output(out) == read_output(full)
    assert not partial.exists()


def test_bad_articles_become_error_records_or_are_skipped(tiny_run, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a_good.txt").write_text(sample_articles(1)[0]["text"], encoding="utf-8")
    (folder / "b_empty.txt").write_text("  \n", encoding="utf-8")
    (folder / "c_latin1.txt").write_bytes("Berita lama \xe9".encode("latin-1"))
    (folder / "d_good.txt").write_text(sample_articles(2)[1]["text"], encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert predict_cli(["--model", str(tiny_run), "--input", str(folder), "--output", str(out)]) == 0
    got = read_output(out)
    assert [g["id"] for g in got] == ["a_good.txt", "b_empty.txt", "c_latin1.txt", "d_good.txt"]
    assert "empty text" in got[1]["error"] and "not UTF-8" in got[2]["error"]
    check_record(got[0]), check_record(got[3])
    assert "2 articles labelled, 2 error records" in capsys.readouterr().out
    assert predict_cli(["--model", str(tiny_run), "--input", str(folder), "--output", str(out),
                        "--on-error", "skip"]) == 0
    assert [g["id"] for g in read_output(out)] == ["a_good.txt", "d_good.txt"]
    captured = capsys.readouterr()
    assert "2 skipped" in captured.out and "warning: skipped" in captured.err


def test_a_bad_jsonl_line_is_an_error_record_not_the_end_of_the_job(tiny_run, tmp_path):
    rows = sample_articles(3)
    src = tmp_path / "in.jsonl"
    with open(src, "wb") as f:
        f.write((json.dumps(rows[0]) + "\n").encode())
        f.write(b'{"id": "x", "text": "caf\xe9"}\n')  # latin-1 bytes
        f.write(b'{"id": "y", "text": \n')  # cut short
        f.write((json.dumps(rows[1]) + "\n").encode())
    out = tmp_path / "o.jsonl"
    assert predict_cli(["--model", str(tiny_run), "--input", str(src), "--output", str(out)]) == 0
    got = read_output(out)
    assert [g.get("error", "").split(": ", 1)[-1][:14] for g in got] == ["", "not UTF-8 text", "invalid JSON (", ""]
    assert got[1]["error"].startswith(f"{src}:2") and got[2]["error"].startswith(f"{src}:3")
    check_record(got[0]), check_record(got[3])


def test_bad_input_path_is_one_line_and_non_zero(tiny_run, tmp_path, capsys):
    assert predict_cli(["--model", str(tiny_run), "--input", str(tmp_path / "nope.csv"),
                        "--output", str(tmp_path / "o.jsonl")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'nope.csv'}: no such file or folder"
    assert not (tmp_path / "o.jsonl").exists()


def test_temperatures_rescale_probabilities_keep_labels_and_runs_without_them_read_raw(tiny_run, tmp_path):
    import shutil

    import numpy as np
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in sample_articles(12)))
    old = tmp_path / "old_run"  # a run from before calibration: no temperature in stance.json
    shutil.copytree(tiny_run, old, ignore=shutil.ignore_patterns("checkpoint-*"))
    settings = json.loads((old / "stance.json").read_text())
    temperature = settings.pop("temperature")
    (old / "stance.json").write_text(json.dumps(settings))
    outputs = {}
    for name, model, flags in (("scaled", tiny_run, []), ("raw", tiny_run, ["--no-calibration"]), ("old", old, [])):
        out = tmp_path / f"{name}.jsonl"
        assert predict_cli(["--model", str(model), "--input", str(src), "--output", str(out), *flags]) == 0
        outputs[name] = read_output(out)
    assert outputs["old"] == outputs["raw"]
    assert any(temperature[t] != pytest.approx(1, abs=0.05) for t in TARGETS)
    for scaled, raw in zip(outputs["scaled"], outputs["raw"]):
        assert scaled["labels"] == raw["labels"]  # one window per pair: the argmax cannot move
        for t in TARGETS:
            p = np.array([raw["probabilities"][t][label] for label in LABELS])
            expected = np.exp(np.log(np.clip(p, 1e-6, None)) / temperature[t])
            expected /= expected.sum()
            got = [scaled["probabilities"][t][label] for label in LABELS]
            assert got == pytest.approx(expected if raw["mentions"][t] else p, abs=0.02), t
