"""Fine-tune an encoder to label each article's stance toward Russia, the US and Syria.

  python train.py --config configs/quickstart.yaml
  python train.py --config configs/indobert-base-p1.yaml training.learning_rate=3e-5
  torchrun --nproc_per_node 2 train.py --config configs/indobert-base-p1.yaml
  python train.py --config configs/quickstart.yaml --seeds 13,42,7   # mean and spread over seeds
  python train.py --config configs/quickstart.yaml data.group_column=outlet_family --leave-one-group-out
"""
import argparse
import json
import sys
import time

from data import DataError
from model.cli import ArgumentParser
from model.modeling import ModelUnavailable
from model.recipe import load_recipe


def seed_list(value: str) -> list[int]:
    try:
        return [int(x) for x in value.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a comma-separated list of whole numbers") from None


def main(argv=None) -> int:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="YAML recipe from configs/")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in the output dir")
    repeat = p.add_mutually_exclusive_group()
    repeat.add_argument("--seeds", type=seed_list, metavar="S1,S2,...",
                        help="train and evaluate once per seed (in <output_dir>/seed-N) and report mean and std")
    repeat.add_argument("--leave-one-group-out", action="store_true",
                        help="train and evaluate once per value of data.group_column, testing on that value's "
                             "articles (in <output_dir>/holdout-VALUE), and report each and the mean")
    p.add_argument("overrides", nargs="*", help="dotted overrides, e.g. training.num_train_epochs=3")
    args = p.parse_intermixed_args(argv)  # overrides may stand before and after the flags
    start = time.time()
    try:
        recipe = load_recipe(args.config, args.overrides)
        if args.seeds or args.leave_one_group_out:
            from evaluation.repeats import leave_one_group_out, run_seeds
            out, table = run_seeds(recipe, args.seeds) if args.seeds else leave_one_group_out(recipe)
            print(table + f"\nruns in {out.parent}, summary: {out}  ({time.time() - start:.0f}s)")
            return 0
        from model.training import train
        out, metrics = train(recipe, resume=args.resume)
    except (DataError, ModelUnavailable, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    shown = {k: round(v, 4) for k, v in metrics.items() if k.startswith("eval_mean_")}
    print(f"validation (best checkpoint): {json.dumps(shown)}")
    if "calibration" in metrics:
        from evaluation.report import calibration_summary
        print(f"validation {calibration_summary(metrics['calibration'])}")
    print(f"model: {out}  ({time.time() - start:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
