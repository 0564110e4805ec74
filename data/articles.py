"""Turn raw records into validated articles: id, text, and one label id per target."""
from collections.abc import Iterator
from dataclasses import dataclass, field

from model.labels import LABEL2ID, LABELS, TARGETS

from .errors import DataError
from .readers import Unreadable, iter_records

DUPLICATE_GROUP = "duplicate_group"  # the builder's column: articles that are near duplicates share its value
SPLIT_ALIASES = {"train": "train", "training": "train", "validation": "validation", "valid": "validation",
                 "val": "validation", "dev": "validation", "test": "test"}


@dataclass
class InputSpec:
    """Where the fields live in a user's file. Mirrors the `data:` section of a recipe."""
    text_column: str = "text"
    title_column: str | None = "title"
    id_column: str = "id"
    target_columns: dict = field(default_factory=lambda: {t: t for t in TARGETS})  # target key -> column
    label_map: dict = field(default_factory=dict)  # the user's spellings -> contract labels
    split_column: str | None = None
    labels_file: str | None = None
    group_column: str | None = None  # e.g. the outlet: splits keep each group whole

    @classmethod
    def from_config(cls, cfg: dict) -> "InputSpec":
        """`cfg["targets"]` (the recipe's target keys) says which labels to read; `target_columns`
        names a column when it differs from the key."""
        known = cls.__dataclass_fields__
        spec = cls(**{k: v for k, v in cfg.items() if k in known and v is not None})
        columns = spec.target_columns or {}
        spec.target_columns = {t: columns.get(t, t) for t in cfg.get("targets") or TARGETS}
        return spec

    def __post_init__(self):
        self.label_map = {str(k).strip().lower(): str(v) for k, v in self.label_map.items()}

    def label_id(self, value, target: str, where: str) -> int:
        key = str(value).strip().lower() if value is not None else ""
        key = self.label_map.get(key, key)
        if key not in LABEL2ID:
            raise DataError(f"{where}: unknown label {value!r} for target '{target}' "
                            f"(expected one of {', '.join(LABELS)}, or an entry of label_map)")
        return LABEL2ID[key]


def article_text(record: dict, spec: InputSpec) -> str | None:
    """The text to classify; the headline, when there is one, leads it (it weighs most)."""
    text = record.get(spec.text_column)
    if text is None or isinstance(text, Unreadable):
        return text
    title = record.get(spec.title_column) if spec.title_column else None
    text = str(text)
    if title and str(title).strip():
        text = f"{str(title).strip()}\n\n{text}"
    return text


def iter_unlabelled(path, spec: InputSpec) -> Iterator[tuple[str, str, str | None]]:
    """(where, id, text) for prediction; text is None or `Unreadable` for a bad record."""
    for n, (where, record) in enumerate(iter_records(path, spec.labels_file), 1):
        if isinstance(record, Unreadable):
            yield where, str(n), record
            continue
        if n == 1 and spec.text_column not in record:
            raise DataError(f"{where}: no text column '{spec.text_column}' (columns: {', '.join(record)})")
        rid = record.get(spec.id_column)
        yield where, str(rid) if rid not in (None, "") else str(n), article_text(record, spec)


def read_articles(path, spec: InputSpec) -> list[dict]:
    """Read and validate a labelled file or folder; the first problem raises `DataError`.

    Besides id, text and labels, an article keeps the other columns of the first record (the
    outlet, the date, ...) as text, so reports can break scores down by them."""
    articles, first_seen = [], {}
    for n, (where, record) in enumerate(iter_records(path, spec.labels_file), 1):
        if isinstance(record, Unreadable):
            raise DataError(record)
        if n == 1:
            needed = [spec.text_column] + list(spec.target_columns.values())
            needed += [c for c in (spec.split_column, spec.group_column) if c]
            missing = [c for c in needed if c not in record]
            if missing:
                raise DataError(f"{where}: missing column {', '.join(repr(c) for c in missing)} "
                                f"(columns: {', '.join(record) or 'none'})")
            read = {spec.text_column, spec.title_column, spec.id_column, spec.split_column,
                    *spec.target_columns.values()}
            built = {"id", "text", "split", DUPLICATE_GROUP, *spec.target_columns}  # names the builder gives
            carried = [c for c in record if c == spec.group_column or c not in read | built]
        text = article_text(record, spec)
        if isinstance(text, Unreadable):
            raise DataError(str(text))
        body = record.get(spec.text_column)
        if body is None or not str(body).strip():
            raise DataError(f"{where}: empty text in column '{spec.text_column}'")
        rid = record.get(spec.id_column)
        rid = str(rid) if rid not in (None, "") else str(n)
        if rid in first_seen:
            raise DataError(f"{where}: duplicate id {rid!r} (first at {first_seen[rid]})")
        first_seen[rid] = where
        article = {"id": rid, "text": text}
        for target, column in spec.target_columns.items():
            article[target] = spec.label_id(record.get(column), target, where)
        for column in carried:
            value = record.get(column)
            article[column] = None if value is None or not str(value).strip() else str(value).strip()
        if spec.group_column and article[spec.group_column] is None:
            raise DataError(f"{where}: no value in the group column '{spec.group_column}'")
        if spec.split_column:
            value = str(record.get(spec.split_column) or "").strip().lower()
            if value not in SPLIT_ALIASES:
                raise DataError(f"{where}: unknown split {record.get(spec.split_column)!r} in column "
                                f"'{spec.split_column}' (expected train, validation or test)")
            article["split"] = SPLIT_ALIASES[value]
        articles.append(article)
    if not articles:
        raise DataError(f"{path}: no articles")
    return articles
