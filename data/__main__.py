"""python -m data --config configs/quickstart.yaml [--source FILE_OR_FOLDER] --output DIR [key=value ...]

Validate a labelled corpus, clean it, split it and write a `DatasetDict` to DIR.
"""
import argparse
import sys

from model.recipe import load_recipe

from . import DataError, build_dataset, save_dataset, summary


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m data", description=__doc__.split("\n\n")[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="recipe whose `data:` section says how to read the input")
    p.add_argument("--source", help="input: .jsonl/.csv/.parquet, or a folder of .txt files with labels.csv")
    p.add_argument("--output", required=True, help="folder to write the DatasetDict to")
    p.add_argument("--tokenizer", help="report lengths in this tokenizer's tokens (default: words)")
    p.add_argument("overrides", nargs="*", help="recipe overrides such as data.text_column=body")
    args = p.parse_args(argv)
    try:
        cfg = load_recipe(args.config, args.overrides)["data"]
        if args.source:
            cfg["source"] = args.source
        dsd, report = build_dataset(cfg)
        save_dataset(dsd, report, args.output)
    except (DataError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    tokenizer = None
    if args.tokenizer:
        from transformers import AutoTokenizer
        tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    print(summary(dsd, report, tokenizer))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
