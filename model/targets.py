"""Who the targets are: each has a key (its label column), a display name the model reads as
the target text, aliases that mark a mention, and exclusions that never do.

The contract's three targets (../shared/annotation-guidelines.md) are the default; a recipe's
`targets:` section extends or edits them (`syria: null` drops one), so a user can add `iran`
with a label column of that name and no code change:

    targets:
      iran: {name: Iran, aliases: [Iran, Teheran, Rouhani], case_sensitive: [IRGC]}

Aliases match whole words, case-insensitively, except those under `case_sensitive` (`AS` is
the United States only in capitals). Exclusions are masked before aliases are searched, so
"Pasukan Demokratik Suriah" (the SDF) is not a mention of the Syrian government.
"""
from dataclasses import asdict, dataclass

from .labels import TARGETS


@dataclass(frozen=True)
class Target:
    key: str
    name: str
    aliases: tuple[str, ...] = ()
    case_sensitive: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, key: str, d: dict) -> "Target":
        unknown = set(d) - {"name", "aliases", "case_sensitive", "exclude"}
        if unknown:
            raise ValueError(f"targets.{key}: unknown key {', '.join(sorted(unknown))} "
                             "(expected name, aliases, case_sensitive, exclude)")
        words = {f: tuple(str(w) for w in d.get(f) or ()) for f in ("aliases", "case_sensitive", "exclude")}
        if not words["aliases"] and not words["case_sensitive"]:
            raise ValueError(f"targets.{key}: give at least one alias (words that name the target)")
        return cls(key=str(key), name=str(d.get("name") or key), **words)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("key")
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


# Cues from the guidelines' table, widened with the names the sample corpus uses. Bare "Suriah"
# is not a `syria` alias: the country as a place is `none`; its government and army are named.
DEFAULT_TARGETS = {
    "russia": {"name": "Rusia",
               "aliases": ["Rusia", "Moskow", "Moscow", "Kremlin", "Putin", "Lavrov", "Shoigu", "Peskov",
                           "Zakharova", "Nebenzia", "Hmeimim", "Sputnik"],
               "case_sensitive": ["RT"]},
    "us": {"name": "Amerika Serikat",
           "aliases": ["Amerika Serikat", "Amerika", "Washington", "Pentagon", "Gedung Putih", "CIA",
                       "koalisi pimpinan", "Obama", "Trump", "Kerry", "Tillerson", "Pompeo", "Mattis", "Haley"],
           "case_sensitive": ["AS", "US", "USA"]},
    "syria": {"name": "pemerintah Suriah",
              "aliases": ["pemerintah Suriah", "pemerintahan Suriah", "rezim", "Damaskus", "Assad", "Bashar",
                          "Tentara Arab Suriah", "Angkatan Darat Suriah", "angkatan bersenjata Suriah",
                          "militer Suriah", "tentara Suriah", "pasukan Suriah", "pasukan pemerintah",
                          "Presiden Suriah", "Menteri Luar Negeri Suriah", "Kementerian Luar Negeri Suriah",
                          "Kementerian Pertahanan Suriah", "Duta Besar Suriah", "otoritas Suriah", "Muallem",
                          "Moualem", "Jaafari"],
              "case_sensitive": ["SANA", "SAA"],
              "exclude": ["Pasukan Demokratik Suriah", "SDF", "Tentara Pembebasan Suriah", "FSA", "pemberontak",
                          "oposisi Suriah", "pengungsi Suriah", "rakyat Suriah", "warga Suriah"]},
}
assert tuple(DEFAULT_TARGETS) == TARGETS


def targets_from(section: dict | None, base: dict = DEFAULT_TARGETS) -> tuple[Target, ...]:
    """The contract's three, with the recipe's `targets:` section (key -> settings) on top
    (`base={}`: exactly the section, as a run's stance.json saved it)."""
    if section is not None and not isinstance(section, dict):
        raise ValueError("targets: give a mapping of target key -> {name, aliases, ...}")
    merged = {k: dict(v) for k, v in base.items()}
    for key, settings in (section or {}).items():
        if settings is None:
            merged.pop(key, None)
        elif not isinstance(settings, dict):
            raise ValueError(f"targets.{key}: give a mapping of name, aliases, case_sensitive, exclude")
        else:
            merged[key] = {**merged.get(key, {}), **settings}
    if not merged:
        raise ValueError("targets: no target left to label")
    return tuple(Target.from_dict(k, v) for k, v in merged.items())


def targets_section(targets) -> dict:
    return {t.key: t.to_dict() for t in targets}
