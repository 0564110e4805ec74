import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from conftest import ROOT, sample_articles, tiny_recipe
from model.labels import LABELS, TARGETS
from model.recipe import load_recipe
from model.training import EpochMetricsWriter, train


def test_multi_head_run_loads_with_plain_transformers_and_predicts(tiny_multi_head_run):
    run = tiny_multi_head_run
    tok = AutoTokenizer.from_pretrained(run)
    model = AutoModelForSequenceClassification.from_pretrained(run).eval()
    assert model.config.id2label[0] == "russia:pro" and model.config.id2label[11] == "syria:none"
    assert len(model.config.id2label) == len(TARGETS) * len(LABELS)
    enc = tok([a["text"] for a in sample_articles(2)], truncation=True, max_length=64, padding=True,
              return_tensors="pt")
    with torch.no_grad():
        probs = model(**enc).logits.view(2, 3, 4).softmax(-1)
    assert torch.allclose(probs.sum(-1), torch.ones(2, 3))
    settings = json.loads((run / "stance.json").read_text())
    assert settings["formulation"] == "multi_head" and list(settings["targets"]) == list(TARGETS)
    assert "Reshape them to (targets, 4)" in (run / "README.md").read_text()


def test_target_pair_run_is_a_four_label_classifier_with_its_reading_settings(tiny_run):
    model = AutoModelForSequenceClassification.from_pretrained(tiny_run)
    assert model.config.id2label == dict(enumerate(LABELS)) and model.config.label2id["none"] == 3
    settings = json.loads((tiny_run / "stance.json").read_text())
    assert settings["formulation"] == "target_pair" and settings["windows"]["max_length"] == 64
    assert settings["targets"]["us"]["name"] == "Amerika Serikat" and "AS" in settings["targets"]["us"]["case_sensitive"]
    assert "SDF" in settings["targets"]["syria"]["exclude"] and settings["excerpt"]["rule_none"] is True
    assert (tiny_run / "recipe.yaml").exists() and (tiny_run / "validation_metrics.json").exists()
    epochs = [json.loads(line) for line in (tiny_run / "metrics_per_epoch.jsonl").read_text().splitlines()]
    assert [round(e["epoch"]) for e in epochs] == [1, 2, 2]  # per epoch, then the final best-model evaluation
    with Image.open(tiny_run / "training_curve.png") as img:
        assert img.format == "PNG" and img.size[0] > 400
    temperature = settings["temperature"]
    assert set(temperature) == set(TARGETS) and all(t > 0 for t in temperature.values())
    calibration = json.loads((tiny_run / "validation_metrics.json").read_text())["calibration"]
    assert calibration["temperature"] == temperature and calibration["fitted_on"] == "validation"
    assert calibration["ece"]["after"]["all"] <= calibration["ece"]["before"]["all"]
    card = (tiny_run / "README.md").read_text()
    best = json.loads((tiny_run / "validation_metrics.json").read_text())["eval_mean_macro_f1"]
    assert "## Validation" in card and "| mean | " in card and f"{best:.3f}" in card and "## Recipe" in card
    assert 'pipeline("text-classification"' in card and '"text_pair"' in card


def test_training_learns_the_sample_beyond_the_majority_baseline(tmp_path):
    from evaluation.baselines import majority
    from metrics import load_stance_metric
    from model.training import load_splits
    recipe = tiny_recipe(tmp_path, num_train_epochs=6)
    recipe["calibration"] = False  # (and without fitting a temperature, stance.json has none)
    out, metrics = train(recipe)
    assert "temperature" not in json.loads((out / "stance.json").read_text()) and "calibration" not in metrics
    splits, _ = load_splits(recipe["data"], TARGETS)
    train_labels, val_labels = (np.array([splits[s][t] for t in TARGETS]).T for s in ("train", "validation"))
    baseline = load_stance_metric().compute(predictions=majority(train_labels, len(val_labels)),
                                            references=val_labels)
    assert metrics["eval_mean_macro_f1"] > baseline["mean_macro_f1"] + 0.05


def test_tensorboard_event_files_in_the_run_folder_when_tensorboard_is_installed(tmp_path):
    pytest.importorskip("tensorboard")
    out, _ = train(tiny_recipe(tmp_path, num_train_epochs=1, report_to=["tensorboard"]))
    assert list((out / "runs").glob("*/events.out.tfevents.*"))


def test_same_seed_gives_the_same_metrics(tmp_path):
    _, a = train(tiny_recipe(tmp_path / "a"))
    _, b = train(tiny_recipe(tmp_path / "b"))
    _, c = train(tiny_recipe(tmp_path / "c", seed=7))
    scores = [k for k in a if k.endswith(("_accuracy", "_macro_f1", "_f_avg"))]
    assert scores and {k: a[k] for k in scores} == {k: b[k] for k in scores}
    assert a["eval_loss"] == pytest.approx(b["eval_loss"], rel=1e-5)  # multithreaded float sums differ in the 7th digit
    assert a["eval_loss"] != c["eval_loss"]


def test_resume_after_interruption_ends_with_the_same_metrics(tmp_path, monkeypatch):
    _, uninterrupted = train(tiny_recipe(tmp_path / "full", num_train_epochs=3))

    class Interrupted(Exception):
        pass

    def stop_after_first_checkpoint(self, args, state, control, **kw):
        raise Interrupted(state.global_step)

    monkeypatch.setattr(EpochMetricsWriter, "on_save", stop_after_first_checkpoint, raising=False)
    recipe = tiny_recipe(tmp_path / "resumed", num_train_epochs=3)
    with pytest.raises(Interrupted):
        train(recipe)
    monkeypatch.undo()
    assert [p.name for p in (tmp_path / "resumed" / "run").glob("checkpoint-*")] != []
    _, resumed = train(recipe, resume=True)
    for key in ("eval_loss", "eval_mean_macro_f1", "eval_mean_accuracy"):
        assert resumed[key] == pytest.approx(uninterrupted[key], abs=1e-6)


def _last_state(run):
    last = max(run.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    return json.loads((last / "trainer_state.json").read_text())


def test_two_process_ddp_on_cpu_with_gloo(tmp_path, tiny_run):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29531",
           str(ROOT / "train.py"), "--config", str(ROOT / "configs" / "tiny.yaml"),
           f"data.source={load_recipe(tiny_run / 'recipe.yaml')['data']['source']}",  # what tiny_run read
           f"training.output_dir={out}", f"data.cache_dir={tmp_path / 'cache'}", "training.ddp_backend=gloo"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "training on 2 process(es), MULTI_CPU" in proc.stdout  # one gloo job, not two lone runs
    assert (out / "model.safetensors").exists() and (out / "validation_metrics.json").exists()
    AutoModelForSequenceClassification.from_pretrained(out)
    # each process reads half the windows, so an epoch takes half the optimizer steps of one process
    single, ddp = _last_state(tiny_run)["max_steps"], _last_state(out)["max_steps"]
    epochs = 2
    assert abs(2 * ddp - single) <= 2 * epochs and ddp < single


def test_validation_scores_match_an_independent_per_article_evaluation(any_tiny_run):
    # the Trainer's scores come from window logits mapped back to (article, target): recompute
    # them through the inference path that eval.py and predict.py use
    from metrics import load_stance_metric
    from model.engines import TorchEngine
    from model.inference import predict_articles
    from model.modeling import load_for_inference
    from model.training import load_splits
    splits, _ = load_splits(load_recipe(any_tiny_run / "recipe.yaml")["data"], TARGETS)
    val = splits["validation"]
    tokenizer, model, reader, _ = load_for_inference(any_tiny_run)
    probs, _ = predict_articles(TorchEngine(model, torch.device("cpu")), tokenizer, reader, list(val["id"]),
                                list(val["text"]))
    gold = [[row[t] for t in TARGETS] for row in val.select_columns(list(TARGETS))]
    scores = load_stance_metric().compute(predictions=probs.argmax(-1), references=gold)
    logged = json.loads((any_tiny_run / "validation_metrics.json").read_text())
    for key in ("mean_macro_f1", "mean_accuracy", "russia_macro_f1", "syria_f_avg"):
        assert logged[f"eval_{key}"] == pytest.approx(scores[key], abs=1e-9), key


@pytest.mark.parametrize("name", ["indobenchmark/indobert-base-p1", "./no/such/model"])
def test_unreachable_encoder_fails_in_one_line_naming_the_way_out(tmp_path, name):
    cmd = [sys.executable, str(ROOT / "train.py"), "--config", str(ROOT / "configs" / "indobert-base-p1.yaml"),
           f"model.name_or_path={name}", f"training.output_dir={tmp_path / 'run'}",
           f"data.cache_dir={tmp_path / 'cache'}"]
    proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2
    error = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and name in error[0]
    assert "model.name_or_path=" in error[0] and "configs/quickstart.yaml" in error[0]
    assert not (tmp_path / "run" / "model.safetensors").exists()
