"""The engines that run the model: ONNX Runtime against PyTorch, the export cache, and the
precision chosen for the machine."""
import json
import shutil

import numpy as np
import pytest
import torch

from conftest import ROOT, sample_articles
from model import engines, onnx_export
from model.engines import OnnxEngine, TorchEngine, choose, open_engine
from model.inference import window_logits
from model.modeling import load_for_inference
from predict import main as predict_cli
from test_predict import read_output


@pytest.fixture
def run_copy(tiny_run, tmp_path):
    """A run folder of its own: exports write into it."""
    out = tmp_path / "run"
    shutil.copytree(tiny_run, out, ignore=shutil.ignore_patterns("checkpoint-*", "onnx"))
    return out


def windows_of(run, n=40):
    tokenizer, model, reader, settings = load_for_inference(run)
    rows = sample_articles(n)
    return tokenizer, model, settings, reader.encode({"id": [r["id"] for r in rows],
                                                      "text": [r["title"] + "\n\n" + r["text"] for r in rows]}, tokenizer)


def softmax(x):
    return torch.from_numpy(x).softmax(-1).numpy()


def test_onnx_export_matches_pytorch_and_predict_writes_the_same_labels(run_copy, tmp_path, capsys):
    tokenizer, model, settings, windows = windows_of(run_copy)
    reference = window_logits(TorchEngine(model, torch.device("cpu")), tokenizer, windows)
    engine = open_engine(run_copy, model, tokenizer, settings, "cpu", "onnx", "fp32")
    assert isinstance(engine, OnnxEngine) and (run_copy / "onnx" / "model.onnx").exists()
    assert "max probability difference vs PyTorch" in capsys.readouterr().err
    logits = window_logits(engine, tokenizer, windows)
    assert len(logits) == len(windows["input_ids"]) > 40  # windows of many lengths, padded per batch
    assert np.abs(softmax(logits) - softmax(reference)).max() < onnx_export.TOLERANCE
    assert (logits.argmax(-1) == reference.argmax(-1)).all()

    rows = sample_articles(30)
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    out = {}
    for name, flags in {"onnx": ["--engine", "onnx", "--precision", "fp32"],
                        "torch": ["--engine", "torch", "--precision", "fp32"],
                        "int8": ["--engine", "onnx", "--precision", "int8"]}.items():
        out[name] = tmp_path / f"{name}.jsonl"
        assert predict_cli(["--model", str(run_copy), "--input", str(src), "--output", str(out[name]), *flags]) == 0
    onnx, torch_ = read_output(out["onnx"]), read_output(out["torch"])
    assert [r["id"] for r in onnx] == [r["id"] for r in torch_] == [r["id"] for r in rows]
    assert [r["labels"] for r in onnx] == [r["labels"] for r in torch_]
    assert len(read_output(out["int8"])) == 30 and (run_copy / "onnx" / "model_int8.onnx").exists()
    assert "labels equal to fp32 on" in capsys.readouterr().err  # int8 reports its agreement


def test_a_stale_export_is_rebuilt_from_the_new_weights(run_copy):
    tokenizer, model, settings, windows = windows_of(run_copy, 10)
    path = onnx_export.onnx_model(run_copy, model, tokenizer)
    first = json.loads((run_copy / "onnx" / "export.json").read_text())["fp32"]["weights_sha256"]
    assert onnx_export.onnx_model(run_copy, model, tokenizer).stat().st_mtime_ns == path.stat().st_mtime_ns  # cached
    with torch.no_grad():  # new weights, as a resumed or retrained run writes them
        model.classifier.bias += torch.tensor([5.0, 0.0, 0.0, -5.0])
    model.save_pretrained(run_copy)
    tokenizer, model, settings, windows = windows_of(run_copy, 10)
    engine = open_engine(run_copy, model, tokenizer, settings, "cpu", "onnx", "fp32")
    assert json.loads((run_copy / "onnx" / "export.json").read_text())["fp32"]["weights_sha256"] != first
    new = window_logits(TorchEngine(model, torch.device("cpu")), tokenizer, windows)
    assert np.abs(softmax(window_logits(engine, tokenizer, windows)) - softmax(new)).max() < onnx_export.TOLERANCE
    (run_copy / "onnx" / "model.onnx").unlink()  # a file gone since: rebuilt, not trusted from export.json
    assert onnx_export.onnx_model(run_copy, model, tokenizer).exists()


def test_an_export_beyond_the_tolerance_is_refused_and_auto_falls_back(run_copy, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(onnx_export, "TOLERANCE", -1.0)  # any difference, even 0, is too much
    tokenizer, model, settings, _ = windows_of(run_copy, 1)
    with pytest.raises(onnx_export.ExportRefused, match="differs from PyTorch"):
        open_engine(run_copy, model, tokenizer, settings, "cpu", "onnx", "fp32")
    assert not [f for f in (run_copy / "onnx").iterdir() if f.name != ".lock"]  # nothing kept, no temp left
    engine = open_engine(run_copy, model, tokenizer, settings, "cpu", "auto", "int8")  # auto's ONNX case anywhere
    assert isinstance(engine, TorchEngine) and "warning: ONNX export failed" in capsys.readouterr().err
    out = tmp_path / "p.jsonl"
    assert predict_cli(["--model", str(run_copy), "--input", str(ROOT / "data/sample/inbox"), "--output", str(out),
                        "--engine", "onnx"]) == 2
    assert capsys.readouterr().err.startswith("error: the ONNX export differs") and not out.exists()


@pytest.mark.parametrize("bf16, avx512, expected", [
    (False, False, ("onnx", "fp32")),  # an AVX2 laptop or server: ONNX Runtime, 2.13x PyTorch fp32 there
    (False, True, ("torch", "fp32")),  # AVX512 without bf16: PyTorch's MKL kernels ran ahead of ONNX Runtime
    (True, True, ("torch", "bf16")),  # native bf16: autocast
])
def test_auto_engine_and_precision_follow_the_cpu(monkeypatch, bf16, avx512, expected):
    monkeypatch.setattr(engines, "cpu_has_native_bf16", lambda: bf16)
    monkeypatch.setattr(engines, "cpu_has_avx512", lambda: avx512)
    device, engine, precision, note = choose("cpu")
    assert device.type == "cpu" and (engine, precision) == expected
    assert ("no native bf16" in note) != bf16
    assert choose("cpu", "auto", "int8")[1:3] == ("onnx", "int8")  # far more labels kept than torch's int8
    assert choose("cpu", "torch", "auto")[1:3] == ("torch", expected[1])
    assert choose("cpu", "onnx", "auto")[1:3] == ("onnx", "fp32")  # asking for ONNX is asking for its precision
    monkeypatch.setattr(engines, "onnxruntime_available", lambda: False)
    assert choose("cpu", "auto", "int8")[1] == "torch"


def test_plain_avx512_is_not_native_bf16(monkeypatch):
    # mkldnn's bf16 check says yes on any AVX512 CPU, where bf16 is emulated and slower than fp32
    monkeypatch.setattr(engines.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True, raising=False)
    for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        monkeypatch.setattr(torch.cpu, name, lambda: False, raising=False)
    assert not engines.cpu_has_native_bf16()
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True, raising=False)
    assert engines.cpu_has_native_bf16()


def test_torchrun_workers_export_once_and_label_as_one_process(run_copy, tmp_path):
    from test_shards import torchrun
    rows = sample_articles(24)
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    out = tmp_path / "two.jsonl"
    proc = torchrun(ROOT / "predict.py", run_copy, src, out, "--engine", "onnx")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.count("onnx: exported") == 1  # the other worker waited on the lock, then used the export
    one = tmp_path / "one.jsonl"
    assert predict_cli(["--model", str(run_copy), "--input", str(src), "--output", str(one), "--buffer", "4",
                        "--engine", "torch", "--precision", "fp32"]) == 0
    assert [r["labels"] for r in read_output(out)] == [r["labels"] for r in read_output(one)]
