"""python -m data --config configs/quickstart.yaml [--source FILE_OR_FOLDER] --output DIR [key=value ...]

Validate a labelled corpus, clean it, split it and write a `DatasetDict` to DIR.
"""
import argparse
import sys
from pathlib import Path

from model.cli import ArgumentParser
from model.recipe import load_recipe, resolve_model_path
from model.targets import targets_from
from model.validate import validate_recipe

from . import DataError, build_dataset, save_dataset, summary


def main(argv=None) -> int:
    p = ArgumentParser(prog="python -m data", description=__doc__.split("\n\n")[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="recipe whose `data:` section says how to read the input")
    p.add_argument("--source", help="input: .jsonl/.csv/.parquet, or a folder of .txt files with labels.csv")
    p.add_argument("--output", required=True, help="folder to write the DatasetDict to")
    p.add_argument("--tokenizer", help="report lengths in this tokenizer's tokens "
                                       "(default: the recipe's model when it is on disk, else words)")
    p.add_argument("overrides", nargs="*", help="recipe overrides such as data.text_column=body")
    args = p.parse_args(argv)
    try:
        recipe = load_recipe(args.config, args.overrides)
        validate_recipe(recipe)
        cfg = {**recipe["data"], "targets": [t.key for t in targets_from(recipe.get("targets"))]}
        if args.source:
            cfg["source"] = args.source
        dsd, report = build_dataset(cfg)
        save_dataset(dsd, report, args.output)
    except (DataError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for warning in report.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    print(summary(dsd, report, _tokenizer(args.tokenizer or (recipe.get("model") or {}).get("name_or_path"))))
    print(f"wrote {args.output}")
    return 0


def _tokenizer(name):
    """The tokenizer to count lengths with, if it can be had without a download."""
    if not name:
        return None
    try:
        path = resolve_model_path(name)
    except FileNotFoundError:
        return None
    if not Path(path).is_dir():  # a hub name: counting tokens is not worth a download
        return None
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(path)


if __name__ == "__main__":
    sys.exit(main())
