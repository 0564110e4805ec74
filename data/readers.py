"""Stream raw records out of the input formats users bring.

Every reader yields `(where, record)`: `where` names the file and line or row for error
messages; `record` is a flat dict of strings, or `Unreadable` (the reason) for a line that
cannot be decoded, so that prediction can record it and go on. Readers never hold a whole file in memory,
so prediction over millions of articles streams through them too.
"""
import csv
import json
from collections.abc import Iterator
from pathlib import Path

from .errors import DataError

FORMATS = (".jsonl", ".json", ".csv", ".parquet")


class Unreadable(str):
    """A record, or a record's text, that could not be read (e.g. not UTF-8); carries the reason."""


def check_source(path: str | Path) -> Path:
    """The input path, if it exists and has a readable format; else `DataError`."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if not path.is_dir() and path.suffix not in FORMATS:
        raise DataError(f"{path}: unsupported format '{path.suffix}' (use a folder of .txt files, {', '.join(FORMATS)})")
    return path


def iter_records(path: str | Path, labels_file: str | Path | None = None) -> Iterator[tuple[str, dict]]:
    path = check_source(path)
    if path.is_dir():
        yield from _iter_txt_folder(path, labels_file)
    elif path.suffix in (".jsonl", ".json"):
        yield from _iter_jsonl(path)
    elif path.suffix == ".csv":
        yield from _iter_csv(path)
    else:
        yield from _iter_parquet(path)


def _flatten(record: dict) -> dict:
    # The bundled corpus nests labels as {"labels": {"russia": "pro", ...}}; flat columns win.
    nested = record.get("labels")
    if isinstance(nested, dict):
        record = {**nested, **{k: v for k, v in record.items() if k != "labels"}}
    return record


def _iter_jsonl(path: Path):
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            where = f"{path}:{n}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                yield where, Unreadable(f"{where}: not UTF-8 text (byte {e.start} of the line: "
                                        f"{raw[e.start:e.start + 4]!r})")
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                yield where, Unreadable(f"{where}: invalid JSON ({e.msg})")
                continue
            if not isinstance(record, dict):
                yield where, Unreadable(f"{where}: expected a JSON object, got {type(record).__name__}")
                continue
            yield where, _flatten(record)


def _read_utf8(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text (byte {e.start}: {data[e.start:e.start + 4]!r})")


def _iter_csv(path: Path):
    import io
    reader = csv.DictReader(io.StringIO(_read_utf8(path), newline=""))
    for record in reader:
        yield f"{path}:line {reader.line_num}", record


def _iter_parquet(path: Path):
    import pyarrow.parquet as pq
    try:
        batches = pq.ParquetFile(path).iter_batches(batch_size=1024)
    except Exception as e:  # pyarrow raises several types for a corrupt file
        raise DataError(f"{path}: not a readable Parquet file ({e})")
    n = 0
    for batch in batches:
        for record in batch.to_pylist():
            n += 1
            yield f"{path}:row {n}", _flatten(record)


def _iter_txt_folder(folder: Path, labels_file):
    """A folder of .txt articles (searched recursively); ids are paths relative to the folder.

    Labels, when present, come from a CSV keyed by file name (column `file`): `labels_file`,
    or `labels.csv` inside the folder.
    """
    labels = {}
    labels_path = Path(labels_file) if labels_file else folder / "labels.csv"
    if labels_file and not labels_path.exists():
        raise DataError(f"{labels_path}: no such labels file")
    if labels_path.exists():
        for where, row in _iter_csv(labels_path):
            key = (row.get("file") or "").strip()
            if not key:
                raise DataError(f"{where}: labels file needs a 'file' column naming each .txt file")
            labels[key] = row
    files = sorted(p for p in folder.rglob("*.txt") if p.is_file())
    if not files:
        raise DataError(f"{folder}: no .txt files found")
    seen = set()
    for p in files:
        rel = p.relative_to(folder).as_posix()
        try:
            text = _read_utf8(p)
        except DataError as e:
            text = Unreadable(str(e))
        row = labels.get(rel, labels.get(p.name, {}))
        seen.add(row.get("file"))
        yield str(p), {**{k: v for k, v in row.items() if k != "file"}, "id": rel, "text": text}
    missing = set(labels) - seen
    if missing:
        raise DataError(f"{labels_path}: labels for files not in {folder}: {', '.join(sorted(missing)[:5])}")
