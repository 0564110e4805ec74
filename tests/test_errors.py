"""A user's mistake is one `error:` line and exit code 2, with nothing written."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, sample_articles


def run(script, *args, timeout=600):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, *(["-m", script] if script == "data" else [script]), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout)


def one_error_line(proc) -> str:
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr[-2000:]
    return errors[0]


@pytest.mark.parametrize("override, message", [
    ("training.num_train_epoch=1", "unknown key training.num_train_epoch (did you mean training.num_train_epochs?)"),
    ("training.learning_rate=fast", "training.learning_rate='fast' is not a valid value"),
    ("windows.max_lenght=64", "did you mean windows.max_length?"),
    ("windows.stride=ten", "windows.stride='ten' must be an integer"),
    ("formulation=pairs", "formulation='pairs' must be one of target_pair, multi_head"),
    ("training.save_strategy=sometimes", "sometimes is not a valid SaveStrategy"),
    ("targets.iran={name: Iran}", "targets.iran: give at least one alias"),
    ("model.class_weights=maybe", "model.class_weights='maybe' must be true or false"),
    ("calibration=sometimes", "calibration='sometimes' must be true or false"),
])
def test_a_bad_recipe_value_is_one_line_and_nothing_is_written(tmp_path, override, message):
    out = tmp_path / "run"
    proc = run("train.py", "--config", "configs/tiny.yaml", override, f"training.output_dir={out}",
               f"data.cache_dir={tmp_path / 'cache'}")
    assert message in one_error_line(proc)
    assert not out.exists() and not (tmp_path / "cache").exists()


def test_yaml_1_1_booleans_stay_the_strings_a_user_wrote(tmp_path):
    from model.recipe import load_recipe
    recipe = load_recipe(ROOT / "configs" / "tiny.yaml", ["training.save_strategy=no", "training.eval_strategy=no",
                                                          "training.learning_rate=3e-4", "data.clean=false"])
    assert recipe["training"]["save_strategy"] == "no" and recipe["training"]["learning_rate"] == 3e-4
    assert recipe["data"]["clean"] is False
    out = tmp_path / "run"
    proc = run("train.py", "--config", "configs/tiny.yaml", "training.save_strategy=no", "training.eval_strategy=no",
               "training.load_best_model_at_end=false", "training.num_train_epochs=1", f"training.output_dir={out}",
               f"data.cache_dir={tmp_path / 'cache'}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "model.safetensors").exists() and not list(out.glob("checkpoint-*"))


@pytest.mark.parametrize("n, split_column", [(4, None), (12, "split")])
def test_too_few_articles_for_the_splits_is_one_line_saying_so(tmp_path, n, split_column):
    rows = sample_articles(n)
    for r in rows:
        r["split"] = "train"  # a user-given split with no validation or test articles
    src = tmp_path / "few.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    extra = [f"data.split_column={split_column}"] if split_column else []
    proc = run("data", "--config", "configs/tiny.yaml", "--source", str(src), "--output", str(tmp_path / "out"), *extra)
    line = one_error_line(proc)
    assert f"{n} articles are too few" in line and "split would be empty" in line
    assert ("data.splits" in line) == (split_column is None)
    assert not (tmp_path / "out").exists()
    out = tmp_path / "run"
    proc = run("train.py", "--config", "configs/tiny.yaml", f"data.source={src}", f"training.output_dir={out}",
               f"data.cache_dir={tmp_path / 'cache'}", *extra)
    assert "too few" in one_error_line(proc) and not out.exists()


def test_a_target_with_a_single_training_label_is_a_warning(tmp_path):
    from data import build_dataset
    rows = sample_articles(60)
    for r in rows:
        r["labels"]["us"] = "none"
    src = tmp_path / "flat_us.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    _, report = build_dataset({"source": str(src)})
    assert report["warnings"] == ["target 'us' has a single label ('none') in the training split: "
                                  "the model cannot learn to tell its labels apart"]
    proc = run("data", "--config", "configs/tiny.yaml", "--source", str(src), "--output", str(tmp_path / "out"))
    assert proc.returncode == 0 and "warning: target 'us' has a single label" in proc.stderr


def test_weights_are_loaded_from_safetensors_only(tiny_run, tmp_path):
    import torch
    from safetensors.torch import load_file
    pickled = tmp_path / "pickled_run"
    shutil.copytree(tiny_run, pickled, ignore=shutil.ignore_patterns("checkpoint-*"))
    torch.save(load_file(pickled / "model.safetensors"), pickled / "pytorch_model.bin")
    (pickled / "model.safetensors").unlink()
    out = tmp_path / "p.jsonl"
    for proc in (run("predict.py", "--model", str(pickled), "--input", str(ROOT / "data/sample/inbox"),
                     "--output", str(out)),
                 run("eval.py", "--model", str(pickled), "--out", str(tmp_path / "report"))):
        assert "no model.safetensors" in one_error_line(proc) and "pickle" in proc.stderr
    assert not out.exists() and not (tmp_path / "report").exists() and not list(tmp_path.glob("*.partial.jsonl"))
    proc = run("train.py", "--config", "configs/tiny.yaml", f"model.name_or_path={pickled}", "model.tiny=null",
               f"training.output_dir={tmp_path / 'run'}", f"data.cache_dir={tmp_path / 'cache'}")
    assert "has no model.safetensors" in one_error_line(proc) and not (tmp_path / "run").exists()


@pytest.mark.parametrize("args, message", [
    (["predict.py", "--batch-size", "0"], "--batch-size: '0' is not a whole number of at least 1"),
    (["predict.py", "--buffer", "many"], "--buffer: 'many' is not a whole number of at least 1"),
    (["eval.py", "--bootstrap", "-5"], "--bootstrap: '-5' is not a whole number of at least 1"),
    (["eval.py", "--split", "dev"], "no split 'dev' (splits: train, validation, test)"),
    (["train.py", "--seeds", "1,two"], "--seeds: '1,two' is not a comma-separated list of whole numbers"),
    (["train.py", "--leave-one-group-out"], "--leave-one-group-out needs data.group_column"),
    (["train.py", "--leave-one-group-out", "--seeds", "1,2"], "not allowed with argument"),
    (["train.py", "--leave-one-group-out", "data.group_column=outlet"], "missing column 'outlet' (columns: russia, us, syria, id, title, text, outlet_family)"),
    (["train.py", "data.group_column=outlet_family"], "keeps its 4 groups whole: too few"),
    (["eval.py", "--slice-by", "outlet"], "no column 'outlet' to slice by in the evaluated data (columns: outlet_family)"),
    (["predict.py", "--precision", "fp8"], "--precision: invalid choice: 'fp8'"),
    (["predict.py", "--engine", "onnx", "--precision", "bf16"], "--engine onnx runs fp32 or int8, not bf16"),
    (["eval.py", "--engine", "onnx", "--device", "cuda"], "--engine onnx runs on the CPU; on cuda"),
    (["predict.py", "--shard", "2/2"], "--shard: '2/2' is not K/N with 0 <= K < N"),
])
def test_bad_flags_are_one_line(tiny_run, tmp_path, args, message):
    script, *flags = args
    common = {"predict.py": ["--model", str(tiny_run), "--input", str(ROOT / "data/sample/inbox"),
                             "--output", str(tmp_path / "p.jsonl")],
              "eval.py": ["--model", str(tiny_run), "--out", str(tmp_path / "report")],
              "train.py": ["--config", "configs/tiny.yaml", f"training.output_dir={tmp_path / 'run'}"]}[script]
    assert message in one_error_line(run(script, *common, *flags))
    assert not list(tmp_path.iterdir())
