"""The run's model as ONNX, for ONNX Runtime on the CPU: exported once into <run>/onnx/,
checked against PyTorch before it is kept, and rebuilt when the weights change.

<run>/onnx/model.onnx        fp32, dynamic batch and sequence length (torch.onnx.export, dynamo)
<run>/onnx/model_int8.onnx   the same with QInt8 weights (onnxruntime's quantize_dynamic)
<run>/onnx/export.json       the sha256 of model.safetensors each file was made from, and its check

optimum's exporter would be the usual route, but optimum-onnx requires transformers < 4.58, so
this uses torch.onnx.export, the exporter PyTorch maintains. Files are written in a temporary
folder and renamed into place, export.json last, under a lock, so that concurrent workers
(torchrun) export once and an interrupted export leaves nothing that looks finished.
"""
import contextlib
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from .formulations import softmax
from .labels import LABELS

FOLDER, META = "onnx", "export.json"
FILES = {"fp32": "model.onnx", "int8": "model_int8.onnx"}
TOLERANCE = 1e-4  # max |probability difference| vs PyTorch fp32 an fp32 export may show; float error is ~1e-6
# Written for this check: pairs of a target name and an excerpt of our own, of several lengths,
# so the export sees padding and the check covers short and full windows.
_CHECK_PAIRS = [
    ("Rusia", "Moskow menyatakan siap menjadi tuan rumah perundingan damai berikutnya."),
    ("Amerika Serikat", "Washington menjatuhkan sanksi baru, sementara Damaskus menyebutnya hukuman kolektif "
                        "bagi rakyat yang sudah lelah oleh perang. " * 6),
    ("pemerintah Suriah", "Pasukan pemerintah Suriah merebut kembali sebuah kota di utara Hama."),
    ("Rusia", "Harga minyak naik setelah pertemuan di Wina. " * 30),
]


class ExportRefused(ValueError):
    """The exported model disagrees with PyTorch beyond the tolerance."""


def weights_digest(run_dir: Path) -> str:
    h = hashlib.sha256()
    for name in ("model.safetensors", "model.safetensors.index.json", "config.json"):
        path = run_dir / name
        if path.exists():
            with open(path, "rb") as f:
                h.update(name.encode())
                h.update(hashlib.file_digest(f, "sha256").digest())
    return h.hexdigest()


def check_inputs(tokenizer, max_length: int) -> dict[str, np.ndarray]:
    names, texts = zip(*_CHECK_PAIRS)
    enc = tokenizer(list(names), list(texts), truncation="only_second", max_length=max_length, padding=True,
                    return_tensors="np")
    return {k: enc[k].astype(np.int64) for k in tokenizer.model_input_names if k in enc}


def _probabilities(logits: np.ndarray) -> np.ndarray:
    """Per-label probabilities of each window and head (multi_head: a softmax per target)."""
    return softmax(np.asarray(logits, np.float64).reshape(len(logits), -1, len(LABELS)))


def onnx_model(run_dir, model, tokenizer, precision: str = "fp32", max_length: int = 512) -> Path:
    """Path of the run's ONNX file for `precision` (fp32 or int8), exported or rebuilt first
    when missing or made from other weights. Prints what it did and the check to stderr."""
    run_dir = Path(run_dir)
    folder = run_dir / FOLDER
    folder.mkdir(exist_ok=True)
    digest = weights_digest(run_dir)
    with _lock(folder / ".lock"):
        meta = _read_meta(folder)
        for p in ("fp32", precision):  # int8 is quantized from the fp32 export
            entry = meta.get(p, {})
            if entry.get("weights_sha256") != digest or not (folder / FILES[p]).exists():
                inputs = check_inputs(tokenizer, min(max_length, tokenizer.model_max_length))
                meta[p] = _export(model, inputs, folder) if p == "fp32" else _quantize(folder, inputs)
                meta[p]["weights_sha256"] = digest
                _write_atomic(folder / META, json.dumps(meta, indent=2))
    return folder / FILES[precision]


def _export(model, inputs: dict, folder: Path) -> dict:
    start = time.time()
    names = list(inputs)
    batch, length = torch.export.Dim("batch"), torch.export.Dim("sequence")
    example = {k: torch.from_numpy(v) for k, v in inputs.items()}
    model = model.float().cpu().eval()
    with tempfile.TemporaryDirectory(dir=folder, prefix=".export-") as tmp, _quiet():
        program = torch.onnx.export(model, (), kwargs=example, input_names=names, output_names=["logits"],
                                    dynamic_shapes={k: {0: batch, 1: length} for k in names}, dynamo=True,
                                    opset_version=18, verbose=False)
        program.save(Path(tmp, FILES["fp32"]))
        with torch.inference_mode():
            reference = _probabilities(model(**example).logits.numpy())
        diff = float(np.abs(_probabilities(ort_session(Path(tmp, FILES["fp32"])).run(["logits"], inputs)[0])
                            - reference).max())
        if diff > TOLERANCE:
            raise ExportRefused(f"the ONNX export differs from PyTorch by {diff:.1e} in probability on "
                                f"{len(reference)} check windows (tolerance {TOLERANCE:.0e}); use --engine torch")
        _move_into(Path(tmp), folder)
    print(f"onnx: exported {folder / FILES['fp32']} in {time.time() - start:.0f} s; max probability difference "
          f"vs PyTorch on {len(reference)} check windows: {diff:.1e} (tolerance {TOLERANCE:.0e})", file=sys.stderr)
    return {"max_prob_diff": diff, "check_windows": len(reference), "torch": torch.__version__, "opset": 18}


def _quantize(folder: Path, inputs: dict) -> dict:
    """QInt8 weights, dynamic activations. Not refused on disagreement: int8 is an opt-in trade of
    labels for speed, so its agreement with fp32 is measured and printed, as the benchmark does."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    with tempfile.TemporaryDirectory(dir=folder, prefix=".export-") as tmp, _quiet():
        quantize_dynamic(folder / FILES["fp32"], Path(tmp, FILES["int8"]), weight_type=QuantType.QInt8)
        reference = ort_session(folder / FILES["fp32"]).run(["logits"], inputs)[0]
        logits = ort_session(Path(tmp, FILES["int8"])).run(["logits"], inputs)[0]
        _move_into(Path(tmp), folder)
    probs, reference = _probabilities(logits), _probabilities(reference)
    diff = float(np.abs(probs - reference).max())
    same = float((probs.argmax(-1) == reference.argmax(-1)).mean())  # per window and head
    print(f"onnx: quantized {folder / FILES['int8']}: labels equal to fp32 on {same:.0%} of {len(logits)} check "
          f"windows' labels, max probability difference {diff:.2f} (measure on your data: "
          f"benchmarks/predict_throughput.py)", file=sys.stderr)
    return {"max_prob_diff": diff, "same_labels": same, "check_windows": len(logits)}


def ort_session(path: Path, threads: int | None = None):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()  # follow OMP_NUM_THREADS like torch
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _move_into(tmp: Path, folder: Path) -> None:
    """Each file by an atomic rename; external weight files (models > 2 GB) before the graph."""
    for f in sorted(tmp.iterdir(), key=lambda f: f.suffix == ".onnx"):
        os.replace(f, folder / f.name)


def _read_meta(folder: Path) -> dict:
    try:
        return json.loads((folder / META).read_text())
    except (OSError, ValueError):
        return {}


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


@contextlib.contextmanager
def _lock(path: Path):
    """One exporter at a time across processes (workers of a torchrun job share the run folder)."""
    try:
        import fcntl
    except ImportError:  # Windows: no concurrent workers to guard against
        yield
        return
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def _quiet():
    """The exporter prints its progress on stdout and warns through `logging` and `warnings`
    (torchvision absent, ...): keep all of it out of a user's output unless the export fails."""
    import io
    import logging
    import warnings
    buffer, logs = io.StringIO(), [logging.getLogger(), logging.getLogger("torch.onnx")]  # root: the quantizer's
    levels = [log.level for log in logs]
    for log in logs:
        log.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(buffer), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except Exception:
        sys.stderr.write(buffer.getvalue())
        raise
    finally:
        for log, level in zip(logs, levels):
            log.setLevel(level)

