"""Prediction throughput of one process against several torchrun workers, side by side in one run.

  .venv/bin/python benchmarks/predict_workers.py --model runs/quickstart [--articles 384] [--buffer 32]

Labels the same articles (the bundled sample, repeated to --articles) with predict.py as
1 process x N threads and as N torchrun workers x 1 thread, alternating for --rounds, and prints
the articles/s predict.py reports (model loaded to output published), the wall time of each
command (start-up included) and whether the two wrote identical records. Workers take turns by
blocks of --buffer articles, so keep --articles at several blocks per worker. On one CPU both
share the same cores, so parity is the expected result; what the workers buy is one per GPU.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.engines import describe_cpu  # noqa: E402


def timed(cmd: list[str], threads: int) -> tuple[float, float]:
    """(articles/s as predict.py reports it, wall seconds) of one predict.py command."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return float(re.search(r"([\d.]+) articles/s", proc.stdout)[1]), wall


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="runs/quickstart")
    p.add_argument("--articles", type=int, default=384)
    p.add_argument("--buffer", type=int, default=32, help="predict.py --buffer: the block each worker takes in turn")
    p.add_argument("--workers", type=int, default=2, help="N: 1 process x N threads against N workers x 1 thread")
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    n = args.workers
    print(f"CPU: {describe_cpu()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows = [json.loads(line) for line in (ROOT / "data/sample/articles.jsonl").read_text().splitlines()]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "articles.jsonl"
        with open(src, "w", encoding="utf-8") as f:
            for i in range(args.articles):
                r = rows[i % len(rows)]
                f.write(json.dumps({"id": str(i), "title": r["title"], "text": r["text"]}, ensure_ascii=False) + "\n")
        flags = ["--model", str(args.model), "--input", str(src), "--buffer", str(args.buffer)]
        setups = {f"1 process x {n} threads": ([sys.executable, "predict.py"], n, tmp / "one.jsonl"),
                  f"{n} processes x 1 thread (torchrun)": (
                      [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(n),
                       "predict.py"], 1, tmp / "workers.jsonl")}
        print(f"{args.articles} articles (the sample repeated), {args.model}, --buffer {args.buffer}, "
              f"{args.rounds} alternating rounds\n")
        rates = {name: [] for name in setups}
        for r in range(args.rounds):
            for name, (cmd, threads, out) in setups.items():
                rate, wall = timed([*cmd, *flags, "--output", str(out)], threads)
                rates[name].append(rate)
                print(f"  round {r + 1}  {name:<34} {rate:7.2f} articles/s   wall {wall:6.1f} s (start-up included)")
        same = (tmp / "one.jsonl").read_bytes() == (tmp / "workers.jsonl").read_bytes()
    (one, a), (many, b) = ((name, sum(v) / len(v)) for name, v in rates.items())
    print(f"\nmean: {one} {a:.2f} articles/s, {many} {b:.2f} articles/s: {b / a:.2f}x; "
          f"records identical: {'yes' if same else 'NO'}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
