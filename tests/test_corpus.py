"""The bundled sample corpus: schema, label spread, lengths, and every article individually written."""
import re
from collections import Counter

from conftest import sample_articles
from data.clean import is_boilerplate
from model.labels import LABELS, TARGETS

FAMILIES = {"mainstream", "pro_russia", "islamist", "western"}
# split after . ! ? but not after the abbreviations of titles ("Dr. Ahmad")
SENTENCE_END = re.compile(r"(?<!\bDr\.)(?<!\bProf\.)(?<!\bIr\.)(?<!\bH\.)(?<=[.!?])\s+|\n+")


def test_schema_and_size():
    rows = sample_articles()
    assert len(rows) >= 360
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert set(r) == {"id", "title", "text", "labels", "outlet_family"}
        assert r["title"].strip() and r["text"].strip()
        assert set(r["labels"]) == set(TARGETS) and set(r["labels"].values()) <= set(LABELS)
        assert r["outlet_family"] in FAMILIES
    assert {r["outlet_family"] for r in rows} == FAMILIES


def test_every_label_covers_at_least_12_percent_of_each_target():
    rows = sample_articles()
    for t in TARGETS:
        counts = Counter(r["labels"][t] for r in rows)
        assert min(counts[label] for label in LABELS) / len(rows) >= 0.12, (t, counts)


def test_lengths_make_long_documents_the_normal_case():
    words = [len(r["text"].split()) for r in sample_articles()]
    assert sum(120 <= w <= 400 for w in words) / len(words) > 0.5
    assert sum(w > 600 for w in words) / len(words) >= 0.15


def test_no_sentence_is_shared_between_two_articles():
    seen, shared = {}, []
    for r in sample_articles():
        for sentence in SENTENCE_END.split(r["title"] + "\n" + r["text"]):
            key = " ".join(re.findall(r"\w+", sentence.lower()))
            if len(key.split()) < 6 or is_boilerplate(sentence):  # scraped share buttons repeat by nature
                continue
            if seen.setdefault(key, r["id"]) != r["id"]:
                shared.append((seen[key], r["id"], sentence))
    assert shared == []


def test_hard_cases_are_present():
    texts = [r["title"] + "\n" + r["text"] for r in sample_articles()]
    assert sum("BACA JUGA" in t.upper() for t in texts) >= 10  # scrape noise
    assert sum(bool(re.search(r"\b(SDF|FSA)\b", t)) for t in texts) >= 20
    assert sum(bool(re.search(r"\b(Kremlin|Washington|Damaskus)\b", t)) for t in texts) >= 100
