"""The bundled sample corpus: schema, label spread, lengths, every article individually written,
every label read twice, and a data card that still describes it."""
import re
from collections import Counter

from conftest import ROOT, sample_articles
from data.card import agreement_table, card, read_jsonl, settled_label
from data.clean import is_boilerplate
from model.labels import LABELS, TARGETS

FAMILIES = {"mainstream", "pro_russia", "islamist", "western"}
# split after . ! ? but not after the abbreviations of titles ("Dr. Ahmad")
SENTENCE_END = re.compile(r"(?<!\bDr\.)(?<!\bProf\.)(?<!\bIr\.)(?<!\bH\.)(?<=[.!?])\s+|\n+")


def test_schema_and_size():
    rows = sample_articles()
    assert len(rows) >= 700
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


def test_mostly_mainstream_and_mostly_without_a_side():
    rows = sample_articles()
    mainstream = [r for r in rows if r["outlet_family"] == "mainstream"]
    assert Counter(r["outlet_family"] for r in rows).most_common(1)[0][0] == "mainstream"
    sideless = sum(r["labels"][t] in ("neutral", "none") for r in mainstream for t in TARGETS)
    assert sideless / (3 * len(mainstream)) >= 0.8


SECOND_READING = ROOT / "data" / "sample" / "second_reading.jsonl"


def test_every_label_was_read_twice_and_every_disagreement_settled():
    rows = {r["id"]: r for r in sample_articles()}
    readings = read_jsonl(SECOND_READING)
    assert [r["id"] for r in readings] == list(rows)
    for reading in readings:
        disputed = {t for t in TARGETS if reading["first"][t] != reading["second"][t]}
        assert set(reading.get("settled", {})) == disputed, reading["id"]
        for t in disputed:
            decision = reading["settled"][t]
            assert decision["label"] in LABELS and decision["rule"].strip()
        for t in TARGETS:
            assert rows[reading["id"]]["labels"][t] == settled_label(reading, t), (reading["id"], t)


def test_the_data_card_tables_match_the_corpus():
    datacard = (ROOT / "data" / "sample" / "DATACARD.md").read_text(encoding="utf-8")
    tables = card(sample_articles(), "outlet_family", read_jsonl(SECOND_READING))
    missing = [block for block in tables.split("\n\n") if block not in datacard]
    assert missing == [], "rerun python -m data.card (see DATACARD.md) and update the card"


def test_kappa_is_one_for_identical_readers_and_drops_with_a_disagreement():
    rows = [{"id": str(i), "title": "", "text": "Rusia AS Damaskus"} for i in range(8)]
    labels = ["pro", "against", "neutral", "none"] * 2
    same = [{"first": {t: lab for t in TARGETS}, "second": {t: lab for t in TARGETS}, "id": r["id"]}
            for r, lab in zip(rows, labels)]
    assert agreement_table(same, rows).count("| 1.000 |") == 2 * len(TARGETS)
    same[0]["second"] = {t: "against" for t in TARGETS}
    kappas = re.findall(r"\| (0\.\d{3}) \|", agreement_table(same, rows))
    assert len(kappas) == 2 * len(TARGETS) and all(float(k) < 1 for k in kappas)


def test_the_card_command_prints_the_tables_and_refuses_bad_input(tmp_path, capsys):
    from data.card import main
    sample = str(ROOT / "data" / "sample" / "articles.jsonl")
    assert main([sample, "--group", "outlet_family"]) == 0
    assert capsys.readouterr().out.strip() == card(sample_articles(), "outlet_family")
    assert main([sample, "--second-reading", sample]) == 2  # articles are not readings
    assert main([str(tmp_path / "missing.jsonl")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("error: ") for line in err)
