"""The tables of a corpus's data card: labels per target and per group, lengths, and the
agreement between two annotators.

    python -m data.card data/sample/articles.jsonl --group outlet_family \
        --second-reading data/sample/second_reading.jsonl

The input is JSON lines with `labels` ({target: label}) and `text`, as the sample corpus is;
the second reading, one line per article: `{"id", "first": {target: label}, "second": {...},
"settled": {target: {"label", "rule"}}}` (settled: the targets the two readers disagreed on).
DATACARD.md carries these tables verbatim; tests/test_corpus.py checks they are still true.
"""
import json
import sys
from collections import Counter

from sklearn.metrics import cohen_kappa_score

from data.mentions import MentionFinder
from model.cli import ArgumentParser
from model.labels import LABELS, TARGETS
from model.targets import targets_from

LENGTH_BANDS = ((0, 119), (120, 400), (401, 600), (601, None))


def read_jsonl(path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header, rows) -> str:
    return "\n".join([_row(header), _row(["---"] * len(header)), *map(_row, rows)])


def label_table(rows: list[dict]) -> str:
    """Articles per label and target, with their share of the corpus."""
    out = []
    for t in TARGETS:
        counts = Counter(r["labels"][t] for r in rows)
        out.append([t] + [f"{counts[label]} ({counts[label] / len(rows):.1%})" for label in LABELS])
    return _table(["target", *LABELS], out)


def group_table(rows: list[dict], group: str) -> str:
    """Per group: its size, then per target the counts of pro / against / neutral / none."""
    out = []
    for g in sorted({r[group] for r in rows}):
        mine = [r for r in rows if r[group] == g]
        cells = [g, len(mine)]
        for t in TARGETS:
            counts = Counter(r["labels"][t] for r in mine)
            cells.append(" / ".join(str(counts[label]) for label in LABELS))
        out.append(cells)
    return _table([group, "articles", *(f"{t} ({'/'.join(LABELS)})" for t in TARGETS)], out)


def _band(lo, hi) -> str:
    return f"{lo}-{hi}" if hi is not None else f"> {lo - 1}"


def length_table(rows: list[dict], group: str | None = None) -> str:
    """Words per article: how many fall in each band, per group and overall."""
    groups = sorted({r[group] for r in rows}) if group else []
    out = []
    for g in [*groups, "all"]:
        words = sorted(len(r["text"].split()) for r in rows if g == "all" or r[group] == g)
        bands = [sum(lo <= w and (hi is None or w <= hi) for w in words) for lo, hi in LENGTH_BANDS]
        out.append([g, len(words), words[0], words[len(words) // 2], words[-1], *bands])
    return _table([group or "", "articles", "min", "median", "max",
                   *(f"{_band(lo, hi)} words" for lo, hi in LENGTH_BANDS)], out)


def _kappa(pairs) -> str:
    a, b = zip(*pairs)
    return f"{cohen_kappa_score(a, b, labels=list(LABELS)):.3f}"


def agreement_table(readings: list[dict], rows: list[dict]) -> str:
    """Per target: Cohen's kappa and the observed agreement of the two readers before settling,
    over all articles and over those that name the target (where `none` is not decided by
    absence alone, and the pairs the model reads)."""
    text = {r["id"]: r["title"] + "\n" + r["text"] for r in rows}
    out = []
    for target in targets_from(None):
        t, finder = target.key, MentionFinder(target)
        pairs = [(r["first"][t], r["second"][t]) for r in readings]
        named = [(r["first"][t], r["second"][t]) for r in readings if finder.count(text[r["id"]])]
        same = sum(x == y for x, y in pairs)
        out.append([t, len(pairs), _kappa(pairs), f"{same / len(pairs):.1%}", len(named), _kappa(named),
                    len(pairs) - same])
    return _table(["target", "articles", "Cohen's kappa", "agreement", "articles naming it",
                   "kappa there", "disagreements settled"], out)


def settled_label(reading: dict, target: str) -> str:
    """The label the corpus carries after the second reading."""
    if reading["first"][target] == reading["second"][target]:
        return reading["first"][target]
    return reading["settled"][target]["label"]


def card(rows: list[dict], group: str | None = None, readings: list[dict] | None = None) -> str:
    parts = ["Labels (articles, share of the corpus):", label_table(rows)]
    if group:
        parts += [f"Labels per {group} (articles {' / '.join(LABELS)}):", group_table(rows, group)]
    parts += ["Length in words:", length_table(rows, group)]
    if readings:
        parts += ["Agreement of the first and second reading:", agreement_table(readings, rows)]
    return "\n\n".join(parts)


def main(argv=None) -> int:
    p = ArgumentParser(prog="python -m data.card", description=__doc__.split("\n\n")[0])
    p.add_argument("corpus", help="JSON lines with `labels` and `text`")
    p.add_argument("--group", help="a column to break the labels and lengths down by, e.g. outlet_family")
    p.add_argument("--second-reading", help="JSON lines of first and second labels per article")
    args = p.parse_args(argv)
    try:
        readings = read_jsonl(args.second_reading) if args.second_reading else None
        tables = card(read_jsonl(args.corpus), args.group, readings)
    except (OSError, ValueError) as e:  # json.JSONDecodeError is a ValueError
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyError as e:
        print(f"error: an article or reading without {e} (see python -m data.card --help)", file=sys.stderr)
        return 2
    print(tables)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
