"""Batch inference speed and memory, measured side by side in one run.

  .venv/bin/python benchmarks/predict_throughput.py --model runs/quickstart [--articles 60]
      [--memory-model runs/tiny]

Prints, over the same windows and checkpoint (a `target_pair` run reads (target, excerpt) pairs,
and the pipeline gets the same pairs as {"text": name, "text_pair": excerpt}):
- real (non-padding) tokens per second of predict.py's engines (windows sorted by length,
  padded per batch): PyTorch at fp32, bf16 autocast and int8 dynamic quantization, and ONNX
  Runtime at fp32 and int8, versus a `transformers.pipeline` loop at batch size 1, and the model
  FLOP/s each reaches as a fraction of this machine's measured matrix-multiply peak for its
  dtype (int8: of the fp32 peak); each engine is timed --repeats times, in interleaved rounds
  so that a load from elsewhere hits all of them alike, and the median is printed;
- how many window-target labels, and articles with all labels, each shares with torch fp32;
- what predict.py's defaults (--engine auto --precision auto) pick on this machine;
- the same for headlines only (short inputs);
- peak memory of predict.py over 10,000 versus 100,000 articles (the sample repeated), with
  --memory-model (a small checkpoint keeps that part short: it measures streaming, not the model).
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import pipeline  # noqa: E402

from data.clean import clean_text  # noqa: E402
from model.formulations import TargetPair  # noqa: E402
from model.engines import choose, describe_cpu, open_engine  # noqa: E402
from model.inference import window_logits  # noqa: E402
from model.labels import LABELS  # noqa: E402
from model.modeling import load_for_inference  # noqa: E402

ENGINES = [("torch", "fp32"), ("torch", "bf16"), ("torch", "int8"), ("onnx", "fp32"), ("onnx", "int8")]


def matmul_peak(dtype, n=1536, reps=10) -> float:
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n ** 3 * reps / (time.perf_counter() - start)


def model_flops(config, lengths) -> float:
    """Forward FLOPs: 2 per weight per token in the encoder layers, plus attention scores and mixing."""
    h, layers, inter = config.hidden_size, config.num_hidden_layers, config.intermediate_size
    per_token = 2 * layers * (4 * h * h + 2 * h * inter)
    return float(sum(per_token * n + layers * 4 * n * n * h for n in lengths))


def pipeline_inputs(reader, tokenizer, windows, texts) -> list:
    """What a pipeline user feeds for the same reading: the pairs, or the windows' text."""
    if isinstance(reader, TargetPair):
        return [{"text": reader.targets[t].name, "text_pair": x} for _, t, x in reader.excerpts(texts, tokenizer)[0]]
    return tokenizer.batch_decode(windows["input_ids"], skip_special_tokens=True)


def pipeline_loop(model, tokenizer, inputs):
    """A zero-argument run of a pipeline at batch size 1 over the inputs, and the real tokens it
    reads (the pipeline re-tokenizes, so it counts its own tokens)."""
    pairs = [(x["text"], x["text_pair"]) if isinstance(x, dict) else (x,) for x in inputs]
    tokens = sum(len(tokenizer(*p, truncation=True, max_length=512)["input_ids"]) for p in pairs)
    clf = pipeline("text-classification", model=model, tokenizer=tokenizer, device=-1, top_k=None,
                   function_to_apply="none")
    clf(inputs[0], truncation=True, max_length=512)  # warm-up

    def run():
        for t in inputs:
            clf(t, truncation=True, max_length=512, batch_size=1)
    return run, tokens


def compare(title, model_dir, ids, texts, peaks, repeats):
    tokenizer, model, reader, settings = load_for_inference(model_dir)
    windows = reader.encode({"id": ids, "text": texts}, tokenizer)
    lengths = [len(x) for x in windows["input_ids"]]
    tokens, flops = sum(lengths), model_flops(model.config, lengths)
    print(f"\n{title}: {len(ids)} articles, {reader.name}, {len(lengths)} windows, {tokens} real tokens "
          f"(mean window {np.mean(lengths):.0f} tokens), median of {repeats} interleaved rounds")
    pipe, pipe_tokens = pipeline_loop(model, tokenizer, pipeline_inputs(reader, tokenizer, windows, texts))
    engines = {}
    for name, precision in ENGINES:  # a fresh model each: int8 quantization and the export work on their own copy
        _, model, _, _ = load_for_inference(model_dir)
        engines[name, precision] = open_engine(model_dir, model, tokenizer, settings, "cpu", name, precision)
        window_logits(engines[name, precision], tokenizer, {k: v[:32] for k, v in windows.items()})  # warm-up
    times, logits = {key: [] for key in ["pipeline", *engines]}, {}
    for _ in range(repeats):  # every system once per round, so a load from elsewhere hits all alike
        start = time.perf_counter()
        pipe()
        times["pipeline"].append(time.perf_counter() - start)
        for key, engine in engines.items():
            start = time.perf_counter()
            logits[key] = window_logits(engine, tokenizer, windows)
            times[key].append(time.perf_counter() - start)
    base = pipe_tokens / np.median(times.pop("pipeline"))
    print(f"  {'pipeline, batch size 1, fp32':<28} {base:9.0f} tok/s  1.00x  "
          f"{flops * base / tokens / peaks['fp32']:.0%} of fp32 peak ({pipe_tokens} tokens)")
    labels = {key: reader.aggregate(x, windows, ids)[0].argmax(-1) for key, x in logits.items()}
    for (name, precision), t in times.items():
        t, peak = float(np.median(t)), "bf16" if precision == "bf16" else "fp32"
        same_windows = _window_labels(logits[name, precision]) == _window_labels(logits["torch", "fp32"])
        same_articles = (labels[name, precision] == labels["torch", "fp32"]).all(axis=1)
        print(f"  {name + ' ' + precision + ', sorted':<28} {tokens / t:9.0f} tok/s  {tokens / t / base:5.2f}x  "
              f"{flops / t / peaks[peak]:.0%} of {peak} peak  labels = torch fp32: {same_windows.mean():6.1%} of "
              f"window-targets, {same_articles.mean():6.1%} of articles")


def _window_labels(logits: np.ndarray) -> np.ndarray:
    """Each window's label per target it reads (one for target_pair, all for multi_head)."""
    return logits.reshape(len(logits), -1, len(LABELS)).argmax(-1)


def peak_memory(model_dir, n, tmp: Path, rows) -> int:
    src = tmp / f"in_{n}.jsonl"
    with open(src, "w", encoding="utf-8") as f:
        for i in range(n):
            r = rows[i % len(rows)]
            f.write(json.dumps({"id": f"{i}", "title": r["title"], "text": r["text"]}, ensure_ascii=False) + "\n")
    out = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, str(ROOT / "predict.py"), "--model",
                          str(model_dir), "--input", str(src), "--output", str(tmp / f"out_{n}.jsonl")],
                         capture_output=True, text=True, check=True)
    return int(out.stderr.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="runs/quickstart")
    p.add_argument("--articles", type=int, default=60, help="long articles to time (the longest of the sample)")
    p.add_argument("--headlines", type=int, default=400)
    p.add_argument("--repeats", type=int, default=3, help="timed passes per engine (median printed)")
    p.add_argument("--memory-model", help="checkpoint for the 10k vs 100k memory run (skipped if absent)")
    args = p.parse_args()
    torch.manual_seed(0)
    rows = [json.loads(line) for line in (ROOT / "data/sample/articles.jsonl").read_text().splitlines()]
    print(f"CPU: {describe_cpu()}; {torch.get_num_threads()} threads")
    _, engine, precision, note = choose("cpu")
    print(f"predict.py's defaults (--engine auto --precision auto) here: {engine} {precision}{note}")
    peaks = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}
    print(f"matmul peak on this CPU ({torch.get_num_threads()} threads): fp32 {peaks['fp32'] / 1e9:.0f} GFLOP/s, "
          f"bf16 {peaks['bf16'] / 1e9:.0f} GFLOP/s")
    longest = sorted(rows, key=lambda r: -len(r["text"]))[:args.articles]
    compare("long articles", args.model, [r["id"] for r in longest],
            [clean_text(r["title"] + "\n\n" + r["text"])[0] for r in longest], peaks, args.repeats)
    heads = (rows * (args.headlines // len(rows) + 1))[:args.headlines]
    compare("headlines only", args.model, list(range(len(heads))), [r["title"] for r in heads], peaks, args.repeats)
    if args.memory_model:
        with tempfile.TemporaryDirectory() as tmp:
            small, large = (peak_memory(args.memory_model, n, Path(tmp), rows) for n in (10_000, 100_000))
        print(f"\npeak RSS of predict.py: 10,000 articles {small / 1024:.0f} MiB, 100,000 articles "
              f"{large / 1024:.0f} MiB, ratio {large / small:.2f}")


if __name__ == "__main__":
    main()
