"""What runs the model: one place that chooses the engine and the precision for the machine.

An engine takes a padded batch of windows (numpy arrays named as the tokenizer's inputs) and
returns logits. Two of them:

- `torch`: any device; fp32, bf16/fp16 autocast, or int8 dynamic quantization (CPU).
- `onnx`: ONNX Runtime on the CPU, fp32 or int8, from an export kept in the run folder
  (model/onnx_export.py).

`--precision auto` is bf16 where the device computes in bf16 natively (CUDA with bf16, an x86 CPU
with AVX512-BF16 or AMX, an ARM CPU with BF16), else fp32: on a CPU without it, bf16 autocast is
emulated and slower than fp32.

`--engine auto` is PyTorch, except on the CPU when onnxruntime is installed for
- int8: ONNX Runtime's quantized model keeps far more labels of fp32 than PyTorch's dynamic
  quantization (quick start: 92% vs 53% of window-targets);
- fp32 on a CPU without AVX512: there ONNX Runtime ran 2.13x PyTorch (AVX2 AMD EPYC), while on
  an AVX512 Xeon PyTorch's MKL kernels ran 1.5x ONNX Runtime (benchmarks/predict_throughput.py).
An export that fails under auto warns and falls back to PyTorch.
"""
import contextlib
import os
import platform
import sys
import warnings

import numpy as np
import torch

def pick_device(requested: str = "auto") -> torch.device:
    if requested != "auto":
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def cpu_has_native_bf16() -> bool:
    if platform.machine().lower() in ("arm64", "aarch64"):
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())  # checks the ARM BF16 extension
    # mkldnn's own check also accepts plain AVX512, where bf16 is emulated: ask for the instructions
    return any(getattr(torch.cpu, f, lambda: False)() for f in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))


def describe_cpu() -> str:
    """What benchmarks print first: the ranking of engines depends on it."""
    name = platform.processor() or platform.machine()
    try:
        name = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{name}, {os.cpu_count()} logical cores, capability {torch.backends.cpu.get_cpu_capability()}, "
            f"native bf16: {'yes' if cpu_has_native_bf16() else 'no'}")


def cpu_has_avx512() -> bool:
    return torch.backends.cpu.get_cpu_capability().startswith("AVX512")


def native_bf16(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_native_bf16()


def resolve_precision(precision: str, device: torch.device) -> str:
    if precision != "auto":
        return precision
    return "bf16" if native_bf16(device) else "fp32"


def onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


class TorchEngine:
    name, note = "torch", ""

    def __init__(self, model, device: torch.device, precision: str = "fp32"):
        if precision == "int8":
            if device.type != "cpu":
                raise ValueError("int8 dynamic quantization runs on the CPU only (use --device cpu or --precision bf16)")
            with warnings.catch_warnings():  # torch's note that quantized tensors are deprecated, on every call
                warnings.simplefilter("ignore", UserWarning)
                model = torch.ao.quantization.quantize_dynamic(model.float(), {torch.nn.Linear}, dtype=torch.qint8)
        self.model, self.device, self.precision = model.to(device).eval(), device, precision
        self.num_labels = model.config.num_labels

    @torch.inference_mode()
    def __call__(self, batch: dict) -> np.ndarray:
        with self._autocast():
            logits = self.model(**{k: torch.as_tensor(v).to(self.device) for k, v in batch.items()}).logits
        return logits.float().cpu().numpy()

    def _autocast(self):
        if self.precision in ("bf16", "fp16"):
            dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
            return torch.autocast(self.device.type, dtype=dtype)
        return contextlib.nullcontext()

    def __str__(self):
        return f"PyTorch {self.precision} on {self.device}{self.note}"


class OnnxEngine:
    name, note = "onnx", ""

    def __init__(self, path, num_labels: int, precision: str = "fp32", threads: int | None = None):
        from .onnx_export import ort_session
        self.session, self.path = ort_session(path, threads), path
        self.precision, self.num_labels = precision, num_labels
        self.inputs = {i.name for i in self.session.get_inputs()}

    def __call__(self, batch: dict) -> np.ndarray:
        return self.session.run(["logits"], {k: np.asarray(v, np.int64) for k, v in batch.items() if k in self.inputs})[0]

    def __str__(self):
        return f"ONNX Runtime {self.precision} on cpu{self.note}"


def choose(device: str = "auto", engine: str = "auto", precision: str = "auto"):
    """(device, engine, precision, note) for this machine: what `open_engine` builds, resolved
    from the flags. An explicit choice the machine cannot run is a ValueError."""
    dev = pick_device(device)
    note = ""
    if precision == "auto" and engine == "onnx":
        precision, note = "fp32", " (precision auto: fp32, as ONNX Runtime runs on the CPU)"
    elif precision == "auto":
        note = f" (precision auto: {'native' if native_bf16(dev) else 'no native'} bf16 on this {dev.type})"
    precision = resolve_precision(precision, dev)
    if engine == "onnx":
        if dev.type != "cpu":
            raise ValueError(f"--engine onnx runs on the CPU; on {dev.type} use --engine torch (or auto)")
        if precision not in ("fp32", "int8"):
            raise ValueError(f"--engine onnx runs fp32 or int8, not {precision} (bf16/fp16: --engine torch)")
        if not onnxruntime_available():
            raise ValueError("--engine onnx needs onnxruntime: pip install onnxruntime onnx onnxscript")
    elif engine == "auto":
        faster = precision == "int8" or (precision == "fp32" and not cpu_has_avx512())
        engine = "onnx" if dev.type == "cpu" and faster and onnxruntime_available() else "torch"
    return dev, engine, precision, note


def open_engine(run_dir, model, tokenizer, settings: dict, device: str = "auto", engine: str = "auto",
                precision: str = "auto"):
    """The engine for this run on this machine; `str(engine)` says which, for the caller to print.
    Under --engine auto an ONNX export that fails warns and falls back to PyTorch."""
    dev, chosen, precision, note = choose(device, engine, precision)
    built = None
    if chosen == "onnx":
        from .onnx_export import onnx_model
        try:
            path = onnx_model(run_dir, model, tokenizer, precision, settings.get("windows", {}).get("max_length", 512))
            built = OnnxEngine(path, model.config.num_labels, precision)
        except Exception as e:  # noqa: BLE001 - under auto, a failed export leaves the run usable with torch
            if engine == "onnx":
                raise e if isinstance(e, ValueError) else ValueError(f"ONNX export failed: {e}") from e
            print(f"warning: ONNX export failed ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); "
                  f"using PyTorch", file=sys.stderr)
    built = built or TorchEngine(model, dev, precision)
    built.note = note
    return built
