"""Prediction output: streamed to a partial JSONL file, published atomically in the asked format.

The partial file is `<output>.partial.jsonl` (for a run split across workers, one part per
worker: see data/shards.py); a run that dies leaves only that file, never a truncated output
that looks complete, and `--resume` picks it up. A partial file holds one line per input row,
in input order: a record, an error record, or the placeholder of a skipped article (so that a
row's position is its line number), which `publish` leaves out.
"""
import csv
import json
import os
from collections.abc import Iterable
from pathlib import Path

from model.labels import LABELS

from .errors import DataError

OUTPUT_FORMATS = (".jsonl", ".csv", ".parquet")
SKIPPED = "skipped"  # the key of a skipped article's placeholder


def check_output(output: Path) -> Path:
    if output.suffix not in OUTPUT_FORMATS:
        raise DataError(f"{output}: output must end in {', '.join(OUTPUT_FORMATS)}")
    return output


def partial_path(output: Path) -> Path:
    return output.with_name(output.name + ".partial.jsonl")


def done_ids(partial: Path, block: int = 1) -> list[str]:
    """Ids already written by an interrupted run, in order. A torn last line is cut off, and so is
    an unfinished block of `block` lines, so that a resumed run reads the same blocks again."""
    if not partial.exists():
        return []
    ids, ends = [], [0]
    with open(partial, "rb") as f:
        for line in f:
            try:
                rid = json.loads(line)["id"]
            except (json.JSONDecodeError, KeyError, UnicodeDecodeError):
                break
            if not line.endswith(b"\n"):
                break
            ids.append(rid)
            ends.append(ends[-1] + len(line))
    keep = len(ids) - len(ids) % block
    with open(partial, "r+b") as f:
        f.truncate(ends[keep])
    return ids[:keep]


def flat_row(record: dict, targets: list[str]) -> dict:
    """One table row: id, a label column per target, a probability column per (target, label),
    and for `target_pair` runs the number of mentions per target."""
    row = {"id": record["id"], "windows": record.get("windows"), "error": record.get("error")}
    for t in targets:
        row[t] = record.get("labels", {}).get(t)
        for label in LABELS:
            row[f"{t}_{label}"] = record.get("probabilities", {}).get(t, {}).get(label)
        row[f"{t}_mentions"] = record.get("mentions", {}).get(t)
    return row


class Tally:
    """Counts the records that pass by: labelled, error records, skipped placeholders."""

    def __init__(self):
        self.labelled = self.errors = self.skipped = 0

    def kept(self, lines: Iterable[str]):
        """The lines that belong in the output (placeholders of skipped articles left out), counted."""
        for line in lines:
            record = json.loads(line)
            if SKIPPED in record:
                self.skipped += 1
                continue
            if "error" in record:
                self.errors += 1
            else:
                self.labelled += 1
            yield line, record


def publish(lines: Iterable[str], output: Path, targets: list[str], chunk: int = 10_000) -> Tally:
    """Write the partial file's lines in the output's format (streaming, in chunks) and rename the
    result into place; nothing is left behind if the lines give out with an error."""
    tmp = output.with_name(output.name + ".tmp")
    tally = Tally()
    records = tally.kept(lines)
    columns = list(flat_row({"id": ""}, targets))
    try:
        if output.suffix == ".jsonl":
            with open(tmp, "w", encoding="utf-8") as out:
                out.writelines(line for line, _ in records)
        elif output.suffix == ".csv":
            with open(tmp, "w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, fieldnames=columns)
                writer.writeheader()
                writer.writerows(flat_row(record, targets) for _, record in records)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq
            schema = pa.schema([("id", pa.string()), ("windows", pa.int32()), ("error", pa.string()),
                                *[(c, pa.string() if c in targets else pa.int32() if c.endswith("_mentions")
                                  else pa.float32()) for c in columns[3:]]])
            with pq.ParquetWriter(tmp, schema) as writer:
                batch = []
                for _, record in records:
                    batch.append(flat_row(record, targets))
                    if len(batch) == chunk:
                        writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                        batch = []
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, output)
    return tally
