"""Score a trained run per article, with 95% bootstrap intervals, beside two baselines.

  python eval.py --model runs/quickstart                 # test split of its own data
  python eval.py --model runs/quickstart --data my_labelled.csv
  python eval.py --model runs/quickstart --slice-by outlet_family   # scores per outlet family too

Probabilities are temperature-scaled as stance.json says (--no-calibration: raw); the report
gives the expected calibration error before and after. Writes metrics.json, report.md,
confusion_<target>.png, reliability_<target>.png and errors.jsonl into the run directory (or --out).
Scores come from PyTorch at fp32 unless asked otherwise: `--engine auto --precision auto`
scores what predict.py runs on this machine.
"""
import argparse
import sys

from data import DataError
from model.cli import ArgumentParser, add_engine_arguments, positive_int
from model.modeling import ModelUnavailable


def main(argv=None) -> int:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="run directory written by train.py")
    p.add_argument("--data", help="saved DatasetDict folder, or a labelled .jsonl/.csv/.parquet/.txt folder "
                                  "(default: the data the run was trained on)")
    p.add_argument("--split", default="test", help="split of a DatasetDict to score (default: test)")
    p.add_argument("--out", help="where to write the reports (default: the run directory)")
    p.add_argument("--batch-size", type=positive_int, default=32)
    add_engine_arguments(p, engine="torch", precision="fp32")  # the reference the ONNX export is checked against
    p.add_argument("--bootstrap", type=positive_int, default=1000, help="bootstrap resamples for the intervals")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--slice-by", action="append", default=[], metavar="COLUMN",
                   help="also score per value of this column of the data (repeatable), e.g. outlet_family")
    p.add_argument("--no-calibration", action="store_true",
                   help="score the raw probabilities, without the run's temperatures")
    args = p.parse_args(argv)
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()  # weight-loading bars; ours reports the work itself
    from evaluation.harness import evaluate_run
    from evaluation.report import calibration_summary, score_table
    try:
        result = evaluate_run(args.model, args.data, args.split, args.out, args.batch_size, args.device,
                              args.engine, args.precision, args.bootstrap, args.seed, not args.no_calibration,
                              args.slice_by)
    except (DataError, ModelUnavailable, FileNotFoundError, KeyError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print("\n".join([score_table(result["systems"]), *result["notes"], calibration_summary(result["calibration"]),
                     *(f"\n{score_table(rows, column)}" for column, rows in result["slices"].items())]))
    print(f"engine: {result['engine']}")
    print(f"report: {result['out']}/report.md  ({result['articles']} articles, {result['errors']} with an error)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
