"""Prediction output: streamed to a partial JSONL file, published atomically in the asked format.

The partial file is `<output>.partial.jsonl`; a run that dies leaves only that file, never a
truncated output that looks complete, and `--resume` picks it up.
"""
import csv
import json
import os
from pathlib import Path

from model.labels import LABELS

OUTPUT_FORMATS = (".jsonl", ".csv", ".parquet")


def partial_path(output: Path) -> Path:
    return output.with_name(output.name + ".partial.jsonl")


def done_ids(partial: Path) -> set[str]:
    """Ids already written by an interrupted run; a torn last line is cut off."""
    if not partial.exists():
        return set()
    ids, good = set(), 0
    with open(partial, "rb") as f:
        for line in f:
            try:
                ids.add(json.loads(line)["id"])
            except (json.JSONDecodeError, KeyError, UnicodeDecodeError):
                break
            if not line.endswith(b"\n"):
                break
            good += len(line)
    with open(partial, "r+b") as f:
        f.truncate(good)
    return ids


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


def publish(partial: Path, output: Path, targets: list[str], chunk: int = 10_000) -> None:
    """Convert the partial JSONL to the output's format (streaming, in chunks) and rename it into place."""
    if output.suffix == ".jsonl":
        os.replace(partial, output)
        return
    tmp = output.with_name(output.name + ".tmp")
    columns = list(flat_row({"id": ""}, targets))
    with open(partial, encoding="utf-8") as f:
        rows = (flat_row(json.loads(line), targets) for line in f)
        if output.suffix == ".csv":
            with open(tmp, "w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, fieldnames=columns)
                writer.writeheader()
                writer.writerows(rows)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq
            schema = pa.schema([("id", pa.string()), ("windows", pa.int32()), ("error", pa.string()),
                                *[(c, pa.string() if c in targets else pa.int32() if c.endswith("_mentions")
                                  else pa.float32()) for c in columns[3:]]])
            with pq.ParquetWriter(tmp, schema) as writer:
                batch = []
                for row in rows:
                    batch.append(row)
                    if len(batch) == chunk:
                        writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                        batch = []
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
    os.replace(tmp, output)
    partial.unlink()
