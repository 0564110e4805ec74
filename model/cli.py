"""What the entry points share on the command line: a parser whose mistakes are one `error:` line."""
import argparse
import sys


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad flag is `error: ...` and exit code 2 (the usage stays in --help)."""

    def error(self, message):
        print(f"error: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def positive_int(value: str) -> int:
    """A whole number of at least 1 (a batch size, a count)."""
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return n


def add_engine_arguments(p: argparse.ArgumentParser, engine: str = "auto", precision: str = "auto") -> None:
    """--device, --engine, --precision, resolved by model/engines.py's `choose`."""
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps")
    p.add_argument("--engine", default=engine, choices=["auto", "torch", "onnx"],
                   help=f"(default {engine}) auto: ONNX Runtime on the CPU for int8, and for fp32 on a CPU "
                        "without AVX512 (exported once into <model>/onnx/ and checked against PyTorch); "
                        "PyTorch otherwise. onnx: CPU, fp32 or int8")
    p.add_argument("--precision", default=precision, choices=["auto", "fp32", "bf16", "fp16", "int8"],
                   help=f"(default {precision}) auto: bf16 where the device has native bf16 (CUDA, AVX512-BF16/AMX, "
                        "ARM BF16), else fp32; bf16/fp16: PyTorch autocast; int8: dynamic quantization of the "
                        "Linear layers (CPU; fewer labels equal to fp32: check with benchmarks/predict_throughput.py)")


def shard(value: str):
    """`K/N`: the K-th of N shares of the input, K counted from 0 (data/shards.py)."""
    from data.shards import Shard
    k, _, n = value.partition("/")
    if not (k.isdigit() and n.isdigit() and int(k) < int(n)):
        raise argparse.ArgumentTypeError(f"{value!r} is not K/N with 0 <= K < N (the shares of 4 are 0/4 ... 3/4)")
    return Shard(int(k), int(n))
