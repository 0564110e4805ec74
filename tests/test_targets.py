"""Target-aware reading: mentions, focused excerpts, the `none` rule, a user-added target, and a
`target_pair` run read by plain `pipeline`."""
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, sample_articles
from data.mentions import MentionFinder, focused_excerpt, split_sentences
from model.formulations import TargetPair
from model.labels import LABEL2ID, LABELS, TARGETS
from model.targets import targets_from


def finder(key):
    return MentionFinder(next(t for t in targets_from(None) if t.key == key))


def test_aliases_exclusions_and_case_rules():
    us, syria, russia = finder("us"), finder("syria"), finder("russia")
    assert us.count("AS menolak resolusi itu.") == 1
    assert us.count("poros as roda dan kata as dalam bahasa Inggris") == 0  # `AS` only in capitals
    assert us.count("Amerika Serikat dan Washington") == 2  # the longest alias wins: not Amerika + Serikat
    assert us.count("Pentagon, Gedung Putih; koalisi pimpinan AS") == 4
    assert syria.count("Pasukan Demokratik Suriah (SDF) merebut Raqqa dari ISIS.") == 0
    assert syria.count("Pengungsi Suriah tiba di Turki; pemberontak bertahan.") == 0
    assert syria.count("Ia lahir di Suriah pada 1990.") == 0  # the country as a place
    assert syria.count("rezim Assad dan Tentara Arab Suriah") == 3
    assert syria.count("SDF dan pasukan pemerintah Suriah bentrok") == 1
    assert russia.count("Prusia dan Rusiaku") == 0 and russia.count("Rusia-Turki") == 1  # whole words only


def test_excerpt_is_lead_then_mentions_in_article_order_within_the_budget():
    text = ("Judul tentang Rusia\n\nKalimat pembuka tanpa target. Kalimat kedua tentang cuaca. "
            "Kalimat ketiga tentang harga minyak.\nMoskow membantah tuduhan itu. Kalimat tentang olahraga. "
            "Kalimat tentang musik. Kalimat tentang film.\nPenutup tentang ekonomi.")
    sentences = split_sentences(text)
    assert sentences[0] == "Judul tentang Rusia" and len(sentences) == 9
    excerpt, n = focused_excerpt(text, finder("russia"), max_tokens=None, context=0, lead=2)
    assert n == 2
    assert excerpt == ("Judul tentang Rusia Kalimat pembuka tanpa target. Moskow membantah tuduhan itu. "
                       "Penutup tentang ekonomi.")
    with_context, _ = focused_excerpt(text, finder("russia"), context=1, lead=2)
    assert "harga minyak" in with_context and "olahraga" in with_context and "musik" not in with_context
    # words here: headline 3, lead 4, the mention 4, the closing 3; what overflows is left out
    tight, _ = focused_excerpt(text, finder("russia"), max_tokens=11, context=1, lead=2)
    assert tight == "Judul tentang Rusia Kalimat pembuka tanpa target. Moskow membantah tuduhan itu."
    tighter, _ = focused_excerpt(text, finder("russia"), max_tokens=10, context=1, lead=2)
    assert tighter == "Judul tentang Rusia Kalimat pembuka tanpa target. Penutup tentang ekonomi."
    assert focused_excerpt(text, finder("syria"))[1] == 0


def test_a_target_never_named_is_none_by_rule_without_a_forward_pass():
    from model.modeling import train_tokenizer
    texts = ["Putin bertemu Erdogan di Sochi. Mereka membahas Idlib.", "Harga beras naik di Jakarta."]
    tok = train_tokenizer(texts, 200)
    reader = TargetPair(targets_from(None), {"max_length": 64, "stride": 16})
    windows = reader.encode({"id": ["a", "b"], "text": texts}, tok)
    assert windows["id"] == ["a"] and windows["target"] == [0] and windows["mentions"] == [1]
    logits = np.array([[2.0, 0.0, 0.0, 0.0]])  # the model's view of (a, russia): pro
    probs, info = reader.aggregate(logits, windows, ["a", "b"])
    assert probs[0, 0].argmax() == LABEL2ID["pro"]
    assert (probs[0, 1:].argmax(-1) == LABEL2ID["none"]).all() and (probs[1].argmax(-1) == LABEL2ID["none"]).all()
    assert info["rule_none"].tolist() == [[False, True, True], [True, True, True]]
    assert info["windows"].tolist() == [1, 0] and info["mentions"][0].tolist() == [1, 0, 0]
    ruleless = TargetPair(targets_from(None), {"max_length": 64, "stride": 16}, {"rule_none": False})
    every = ruleless.encode({"id": ["a", "b"], "text": texts}, tok)
    assert sorted(zip(every["id"], every["target"])) == [(a, t) for a in "ab" for t in range(3)]


def test_long_excerpts_are_read_in_windows_and_averaged():
    from model.modeling import train_tokenizer
    longest = max(sample_articles(), key=lambda r: len(r["text"]))["text"]
    tok = train_tokenizer([longest], 500)
    windows = {"max_length": 64, "stride": 16}
    one = TargetPair(targets_from(None), windows).encode({"id": ["x"], "text": [longest]}, tok)
    long = TargetPair(targets_from(None), windows, {"max_tokens": 400}).encode({"id": ["x"], "text": [longest]}, tok)
    named = sorted(set(one["target"]))
    assert named and [one["target"].count(t) for t in named] == [1] * len(named)  # default: one window each
    assert sorted(set(long["target"])) == named and all(long["target"].count(t) > 3 for t in named)
    assert max(long["length"]) == 64
    reader = TargetPair(targets_from(None), windows, {"max_tokens": 400})
    logits = np.random.default_rng(0).normal(size=(len(long["id"]), 4))
    probs, info = reader.aggregate(logits, long, ["x"])
    first = named[0]
    rows = [i for i, t in enumerate(long["target"]) if t == first]
    softmax = np.exp(logits[rows]) / np.exp(logits[rows]).sum(-1, keepdims=True)
    assert np.allclose(probs[0, first], softmax.mean(0)) and info["windows"][0] == len(long["id"])


def test_an_added_fourth_target_trains_predicts_and_evaluates_with_no_code_change(tmp_path):
    rows = sample_articles(368)
    for r in rows:  # a toy label column: Iran is neutral where it is named, else absent
        r["labels"]["iran"] = "neutral" if "Iran" in r["text"] else "none"
    src = tmp_path / "with_iran.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    run = tmp_path / "run"
    iran = "targets.iran={name: Iran, aliases: [Iran, Teheran, Rouhani], case_sensitive: [IRGC]}"
    train = subprocess.run([sys.executable, "train.py", "--config", "configs/tiny.yaml", iran, f"data.source={src}",
                            f"data.cache_dir={tmp_path / 'cache'}", f"training.output_dir={run}",
                            "training.num_train_epochs=1"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert train.returncode == 0, train.stderr[-2000:]
    assert list(json.loads((run / "stance.json").read_text())["targets"]) == [*TARGETS, "iran"]
    out = tmp_path / "p.jsonl"
    predict = subprocess.run([sys.executable, "predict.py", "--model", str(run), "--input", str(src),
                              "--output", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert predict.returncode == 0, predict.stderr[-2000:]
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(got) == len(rows) and all(set(r["labels"]) == {*TARGETS, "iran"} for r in got)
    named = [r["mentions"]["iran"] > 0 for r in got]
    assert named == [s["labels"]["iran"] == "neutral" for s in rows] or 0 < sum(named) < len(rows)
    assert all(r["labels"]["iran"] == "none" for r in got if r["mentions"]["iran"] == 0)
    evaluate = subprocess.run([sys.executable, "eval.py", "--model", str(run), "--bootstrap", "20"], cwd=ROOT,
                              capture_output=True, text=True, timeout=600)
    assert evaluate.returncode == 0, evaluate.stderr[-2000:]
    assert "iran macro-F1" in evaluate.stdout and (run / "confusion_iran.png").exists()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["systems"]["model"]["iran_macro_f1"] is not None and "iran" in metrics["rule_none"]


def test_a_target_pair_run_read_by_plain_pipeline_gives_predicts_labels(tiny_run, tmp_path):
    from transformers import AutoTokenizer, pipeline

    from data.clean import clean_text
    from data.articles import InputSpec, article_text
    from predict import main as predict_cli
    rows = sample_articles(25)
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "p.jsonl"
    # a plain pipeline knows nothing of stance.json's temperatures: compare with the raw probabilities
    assert predict_cli(["--model", str(tiny_run), "--input", str(src), "--output", str(out), "--no-calibration",
                        "--engine", "torch", "--precision", "fp32"]) == 0  # the pipeline's engine
    predicted = [json.loads(line) for line in out.read_text().splitlines()]

    # the documented recipe: the excerpt the run's stance.json describes, as a (name, excerpt) pair
    settings = json.loads((tiny_run / "stance.json").read_text())
    reader = TargetPair(targets_from(settings["targets"], base={}), settings["windows"], settings["excerpt"])
    tokenizer = AutoTokenizer.from_pretrained(tiny_run)
    texts = [clean_text(article_text(r, InputSpec()))[0] for r in rows]
    windows = reader.encode({"id": list(range(len(rows))), "text": texts}, tokenizer)
    single = {(i, t) for i, t in zip(windows["id"], windows["target"])
              if sum(1 for j, u in zip(windows["id"], windows["target"]) if (j, u) == (i, t)) == 1}
    pairs = [(i, t, x) for i, t, x in reader.excerpts(texts, tokenizer)[0] if (i, t) in single]
    assert len(pairs) > 30
    clf = pipeline("text-classification", model=str(tiny_run), top_k=None)
    outputs = clf([{"text": reader.targets[t].name, "text_pair": x} for _, t, x in pairs])
    for (i, t, _), scores in zip(pairs, outputs):
        key = TARGETS[t]
        assert {s["label"] for s in scores} == set(LABELS)
        assert max(scores, key=lambda s: s["score"])["label"] == predicted[i]["labels"][key]
        for s in scores:
            assert s["score"] == pytest.approx(predicted[i]["probabilities"][key][s["label"]], abs=1e-4)
