"""Build a `DatasetDict` (train/validation/test) of validated, cleaned, de-leaked articles."""
import hashlib
import json
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from datasets import ClassLabel, Dataset, DatasetDict, Features, Value, load_from_disk

from model.labels import LABELS

from .articles import DUPLICATE_GROUP, InputSpec, read_articles
from .clean import CleanStats, clean_text
from .dedup import duplicate_groups
from .errors import DataError
from .readers import check_source
from .split import SPLITS, assign_splits, hold_out_group, keep_groups_together, merge_groups

BUILDER_VERSION = 3


def features(targets, carried=()) -> Features:
    """id, text, a label per target, the near-duplicate group, and the source's other columns as text."""
    return Features({"id": Value("string"), "text": Value("string"),
                     **{t: ClassLabel(names=list(LABELS)) for t in targets}, DUPLICATE_GROUP: Value("int32"),
                     **{c: Value("string") for c in carried}})


DEFAULTS = {"splits": {"validation": 0.15, "test": 0.15}, "seed": 13, "clean": True,
            "near_duplicate_threshold": 0.5}


def build_dataset(cfg: dict) -> tuple[DatasetDict, dict]:
    """Read `cfg["source"]`, validate, clean, group duplicates, split. Returns the splits and a report."""
    cfg = {**DEFAULTS, **cfg}
    spec = InputSpec.from_config(cfg)
    targets = list(spec.target_columns)
    articles = read_articles(cfg["source"], spec)
    stats = CleanStats()
    if cfg["clean"]:
        for a in articles:
            a["text"], s = clean_text(a["text"])
            stats.add(s)
    groups = duplicate_groups([a["text"] for a in articles], cfg["near_duplicate_threshold"], cfg["seed"])
    keys = [tuple(a[t] for t in targets) for a in articles]  # each article's stratum
    column, held = spec.group_column, cfg.get("holdout_group")
    values = [a[column] for a in articles] if column else None
    units = merge_groups(groups, values) if column else groups  # a near duplicate joins its outlets' units
    moved = 0
    if held is not None:
        held = str(held)
        if not column or spec.split_column:
            raise DataError("data.holdout_group needs data.group_column, and no data.split_column")
        if held not in values:
            raise DataError(f"data.holdout_group={held!r}: no article has it in column '{column}' "
                            f"(values: {', '.join(sorted(set(values)))})")
        splits = hold_out_group(values, held, keys, groups,
                                cfg["splits"].get("validation", DEFAULTS["splits"]["validation"]), cfg["seed"])
    elif spec.split_column:
        splits, moved = keep_groups_together([a.pop("split") for a in articles], units)
    else:
        fractions = cfg["splits"]
        if sum(fractions.values()) >= 1 or set(fractions) - set(SPLITS[1:]):
            raise DataError(f"splits {fractions}: give validation and test fractions summing below 1")
        splits = assign_splits(keys, units, fractions, cfg["seed"], shuffle_strata=bool(column))
    empty = [name for name in SPLITS if name not in splits]
    if empty:
        few_groups = column and held is None and not spec.split_column
        what = (f"data.group_column={column!r} keeps its {len(set(units))} groups whole: too few"
                if few_groups else f"{len(articles)} articles are too few")
        remedy = ("use more groups, or train.py --leave-one-group-out to hold out one group at a time"
                  if few_groups else "add articles" + ("" if spec.split_column else " or change data.splits"))
        raise DataError(f"{cfg['source']}: {what} for a train/validation/test split "
                        f"({cfg['splits'] if not spec.split_column else 'column ' + repr(spec.split_column)}): "
                        f"the {' and '.join(empty)} split would be empty; {remedy}")
    for a, g in zip(articles, groups):
        a[DUPLICATE_GROUP] = g
    carried = [c for c in articles[0] if c not in ("id", "text", "split", DUPLICATE_GROUP, *targets)]
    dsd = DatasetDict({
        name: Dataset.from_list([a for a, s in zip(articles, splits) if s == name],
                                features=features(targets, carried))
        for name in SPLITS})
    report = {"articles": len(articles),
              "duplicate_groups_merged": len(groups) - len(set(groups)),
              "articles_in_duplicate_groups": sum(n for n in Counter(groups).values() if n > 1),
              "moved_to_keep_duplicates_together": moved,
              "group_column": column, "held_out_group": held,
              "left_out_as_near_duplicates_of_test": splits.count(""),
              "cleaning": vars(stats),
              "warnings": [f"target '{t}' has a single label ('{LABELS[dsd['train'][t][0]]}') in the training "
                           "split: the model cannot learn to tell its labels apart"
                           for t in targets if len(set(dsd["train"][t])) == 1]}
    return dsd, report


def group_values(cfg: dict) -> list[str]:
    """The distinct values of `cfg["group_column"]` in the source, sorted: the groups
    leave-one-group-out holds out in turn."""
    spec = InputSpec.from_config({**DEFAULTS, **cfg})
    return sorted({a[spec.group_column] for a in read_articles(cfg["source"], spec)})


def _input_fingerprint(cfg: dict) -> str:
    """Hash of the input bytes and every setting that shapes the built dataset."""
    h = hashlib.blake2b(digest_size=12)
    h.update(json.dumps({**DEFAULTS, **cfg, "builder": BUILDER_VERSION}, sort_keys=True, default=str).encode())
    source = check_source(cfg["source"])
    files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
    if cfg.get("labels_file"):
        files.append(Path(cfg["labels_file"]))
    for p in files:
        h.update(str(p.relative_to(source) if source.is_dir() else p.name).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def cached_dataset(cfg: dict, cache_dir: str | Path) -> tuple[DatasetDict, dict]:
    """The built dataset for these inputs, built once and reused: a stable location on disk is
    also what lets `datasets` reuse its cached tokenization on the next run."""
    path = Path(cache_dir) / _input_fingerprint(cfg)
    if not (path / "build_report.json").exists():
        dsd, report = build_dataset(cfg)
        save_dataset(dsd, report, path)
    report = json.loads((path / "build_report.json").read_text())
    # a run keeps it (data_report.json), so eval can tell when its input has changed since
    return load_from_disk(str(path)), {**report, "fingerprint": path.name}


def save_dataset(dsd: DatasetDict, report: dict, out: str | Path) -> None:
    """Write atomically: into a temporary sibling folder, renamed into place once complete."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        dsd.save_to_disk(str(tmp))
        (tmp / "build_report.json").write_text(json.dumps(report, indent=2))
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def summary(dsd: DatasetDict, report: dict, tokenizer=None) -> str:
    """Counts per split and label, and length statistics (tokens when a tokenizer is given)."""
    import numpy as np
    targets = [k for k, f in next(iter(dsd.values())).features.items() if isinstance(f, ClassLabel)]
    lines = [f"{report['articles']} articles; {report['duplicate_groups_merged']} near-duplicate merges; "
             f"cleaning removed {report['cleaning']['boilerplate_lines']} boilerplate lines and "
             f"{report['cleaning']['repeated_paragraphs']} repeated paragraphs"]
    header = f"{'split':<11}{'n':>5}  " + "  ".join(f"{t + ' ' + '/'.join(l[:3] for l in LABELS):>24}" for t in targets)
    lines.append(header)
    for name, ds in dsd.items():
        cells = []
        for t in targets:
            counts = np.bincount(ds[t], minlength=len(LABELS)) if len(ds) else np.zeros(len(LABELS), int)
            cells.append(f"{'/'.join(str(c) for c in counts):>24}")
        lines.append(f"{name:<11}{len(ds):>5}  " + "  ".join(cells))
    texts = [t for ds in dsd.values() for t in ds["text"]]
    unit = "tokens" if tokenizer is not None else "words"
    lengths = np.array([len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
                       if tokenizer is not None else [len(t.split()) for t in texts])
    if len(lengths):
        lines.append(f"length in {unit}: mean {lengths.mean():.0f}, median {np.median(lengths):.0f}, "
                     f"p90 {np.percentile(lengths, 90):.0f}, max {lengths.max()}")
    return "\n".join(lines)
