"""Check a whole recipe before anything is written: every key against what the code reads (for
`training:`, the fields of `transformers.TrainingArguments`), every value against its type.
A mistake is one `ValueError` naming the key and the value, with the closest valid key."""
import dataclasses
import difflib
import enum
import types
import typing

NUMBER, TEXT, FLAG, TABLE, LIST = (int, float), (str,), (bool,), (dict,), (list,)
OPTIONAL = (type(None),)
SCHEMA = {  # section -> key -> accepted types (None: any)
    "": {"base": TEXT, "model": TABLE, "data": TABLE, "windows": TABLE, "excerpt": TABLE, "targets": TABLE + OPTIONAL,
         "formulation": TEXT, "precision": TEXT, "early_stopping_patience": (int,) + OPTIONAL, "training": TABLE,
         "calibration": FLAG},
    "model": {"name_or_path": TEXT + OPTIONAL, "tiny": TABLE + OPTIONAL, "class_weights": FLAG,
              "label_smoothing": NUMBER, "freeze_word_embeddings": FLAG},
    "data": {"source": TEXT + OPTIONAL, "dataset": TEXT + OPTIONAL, "cache_dir": TEXT + OPTIONAL,
             "text_column": TEXT, "title_column": TEXT + OPTIONAL, "id_column": TEXT, "target_columns": TABLE,
             "label_map": TABLE + OPTIONAL, "split_column": TEXT + OPTIONAL, "labels_file": TEXT + OPTIONAL,
             "splits": TABLE, "seed": (int,), "clean": FLAG, "near_duplicate_threshold": NUMBER,
             "group_column": TEXT + OPTIONAL, "holdout_group": TEXT + (int,) + OPTIONAL},
    "windows": {"max_length": (int,), "stride": (int,), "train_strategy": TEXT, "head_tokens": (int,)},
    "excerpt": {"max_tokens": (int,) + OPTIONAL, "context": (int,), "lead": (int,), "rule_none": FLAG},
}
TYPE_NAMES = {dict: "a mapping", list: "a list", str: "text", int: "an integer", bool: "true or false",
              type(None): "null"}
CHOICES = {("", "formulation"): ("target_pair", "multi_head"), ("", "precision"): ("auto", "fp32", "bf16", "fp16"),
           ("windows", "train_strategy"): ("windows", "head_tail")}


def _name(section: str, key: str) -> str:
    return f"{section}.{key}" if section else key


def _unknown(section: str, key: str, known) -> ValueError:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    hint = f" (did you mean {_name(section, close[0])}?)" if close else ""
    return ValueError(f"recipe: unknown key {_name(section, key)}{hint}")


def _fits(value, accepted: tuple) -> bool:
    # YAML's true/false are ints to Python: only a flag takes them
    return isinstance(value, accepted) and (bool in accepted or not isinstance(value, bool))


def _accepts(annotation, value) -> bool:
    """Whether `value`, as YAML gives it, fits a dataclass field's annotation."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_accepts(a, value) for a in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation in (bool, str):
        return isinstance(value, annotation)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return value in {m.value for m in annotation}
    if origin in (list, dict):
        return isinstance(value, origin)
    return True  # anything else (callables, objects): TrainingArguments checks it itself


def validate_recipe(recipe: dict) -> None:
    from transformers import TrainingArguments
    for section, keys in SCHEMA.items():
        node = recipe if not section else recipe.get(section) or {}
        if not isinstance(node, dict):
            raise ValueError(f"recipe: {section} must be a section of key: value lines, not {node!r}")
        for key, value in node.items():
            if key not in keys:
                raise _unknown(section, key, keys)
            if not _fits(value, keys[key]):
                wanted = " or ".join(TYPE_NAMES[t] for t in keys[key] if t in TYPE_NAMES)
                raise ValueError(f"recipe: {_name(section, key)}={value!r} must be {wanted}")
            choices = CHOICES.get((section, key))
            if choices and value not in choices:
                raise ValueError(f"recipe: {_name(section, key)}={value!r} must be one of {', '.join(choices)}")
    fields = {f.name: f for f in dataclasses.fields(TrainingArguments) if f.init}
    training = recipe.get("training") or {}
    for key, value in training.items():
        if key not in fields:
            raise _unknown("training", key, fields)
        if not _accepts(fields[key].type, value):
            raise ValueError(f"recipe: training.{key}={value!r} is not a valid value "
                             f"(TrainingArguments.{key}: {_type_name(fields[key].type)})")
    if not training.get("output_dir"):
        raise ValueError("recipe: training.output_dir is missing (where the run is written)")


def _type_name(annotation) -> str:
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "one of " + ", ".join(str(m.value) for m in annotation)
    args = typing.get_args(annotation)
    if args:
        return " or ".join(_type_name(a) for a in args)
    return "null" if annotation is type(None) else getattr(annotation, "__name__", str(annotation))
