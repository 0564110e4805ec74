"""Label the stance of many articles toward each target of a trained run (Russia, the US, Syria).

  python predict.py --model runs/quickstart --input articles/ --output predictions.jsonl
  python predict.py --model runs/quickstart --input news.parquet --output out.parquet --engine torch

Input: a folder of .txt files (searched recursively), .jsonl, .csv or .parquet. Output:
.jsonl, .csv or .parquet, one record per article with the label and the probability of each
label per target (temperature-scaled as the run's stance.json says, unless --no-calibration),
the number of windows the article was read in and, for a `target_pair` run,
the number of mentions per target (a target never named is `none` by rule). Input is streamed and
output written as it goes, to <output>.partial.jsonl, renamed into place at the end;
--resume continues an interrupted run from that file.

Engine and precision are chosen for the machine unless given (printed once at start):
--precision auto is bf16 where the device has native bf16 (CUDA, AVX512-BF16/AMX, ARM BF16),
else fp32; --engine auto is ONNX Runtime on the CPU for int8, and for fp32 on a CPU without
AVX512 (the run is exported once into <model>/onnx/, checked against PyTorch, rebuilt when the
weights change), PyTorch otherwise.

Across GPUs and machines, with the same flags (each worker on its own device, its share in
<output>.part-K-of-N.jsonl, merged into <output> in input order when all are done):

  torchrun --nproc_per_node 8 predict.py --model runs/quickstart --input archive/ --output labels.parquet

Without torchrun (a SLURM array, a loop over machines), one share per job, then the merge:

  python predict.py --shard 0/4 --model runs/quickstart --input archive/ --output labels.parquet   # ... 3/4
  python predict.py --merge --output labels.parquet
"""
import argparse
import sys
from pathlib import Path

from data import DataError
from data.writers import OUTPUT_FORMATS, check_output
from model.cli import ArgumentParser, add_engine_arguments, positive_int, shard
from model.modeling import ModelUnavailable

USER_ERRORS = (DataError, ModelUnavailable, FileNotFoundError, ValueError)


def main(argv=None) -> int:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="run directory written by train.py")
    p.add_argument("--input", help="folder of .txt files, or .jsonl/.csv/.parquet")
    p.add_argument("--output", required=True, help=f"output file ({', '.join(OUTPUT_FORMATS)})")
    p.add_argument("--text-column", default="text")
    p.add_argument("--id-column", default="id")
    p.add_argument("--title-column", default="title", help="prepended to the text when present")
    p.add_argument("--batch-size", type=positive_int, default=32, help="windows per forward pass")
    p.add_argument("--buffer", type=positive_int, default=256,
                   help="input rows read ahead and sorted by length together (bounds memory); workers take "
                        "turns by blocks of this many rows")
    add_engine_arguments(p)  # --device (under torchrun a bare `cuda` is each worker's own GPU), --engine, --precision
    p.add_argument("--on-error", default="record", choices=["record", "skip"],
                   help="an unreadable or empty article becomes an error record, or is skipped with a warning")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from <output>.partial.jsonl (or each worker from its part)")
    p.add_argument("--shard", type=shard, metavar="K/N",
                   help="label only the K-th of N shares (K from 0) into <output>.part-K-of-N.jsonl, for jobs "
                        "started without torchrun; then --merge")
    p.add_argument("--merge", action="store_true",
                   help="join the finished parts <output>.part-*-of-N.jsonl into --output, in input order")
    p.add_argument("--no-calibration", action="store_true",
                   help="raw probabilities, without the run's temperatures (stance.json)")
    args = p.parse_args(argv)
    if not args.merge and not (args.model and args.input):
        p.error("the following arguments are required: --model, --input (or --merge)")
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()  # weight-loading bars; ours reports the work itself
    try:
        return merge(Path(args.output)) if args.merge else predict(args)
    except USER_ERRORS as e:
        # under torchrun each worker says it: one kept quiet could be cut off by torchrun
        # stopping the job when the other exits
        print(f"error: {e}", file=sys.stderr)
        return 2


def predict(args) -> int:
    from model.prediction import predict as label
    done = label(args)
    if done:
        bad = "skipped" if args.on_error == "skip" else "error records"
        n = done.shard.count
        then = "" if done.written == Path(args.output) else \
            f" (share {done.shard.index}/{n}; when all {n} are done: predict.py --merge --output {args.output})"
        print(f"{done.labelled} articles labelled, {done.bad} {bad}, {done.labelled / max(done.seconds, 1e-9):.1f} "
              f"articles/s -> {done.written}{then}")
    return 0


def merge(output: Path) -> int:
    from data.shards import merge as join
    tally = join(check_output(output))
    print(f"merged: {tally.labelled} articles labelled, {tally.errors} error records, {tally.skipped} skipped "
          f"-> {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
