import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets import load_from_disk

from conftest import ROOT, sample_articles
from data import DataError, build_dataset, read_articles, InputSpec
from data.__main__ import main as data_cli
from data.clean import clean_text
from data.windows import tokenize_windows
from model.labels import TARGETS

CONFIG = str(ROOT / "configs" / "quickstart.yaml")


def flat(rows):
    return [{"id": r["id"], "title": r["title"], "text": r["text"], **r["labels"]} for r in rows]


def write_formats(tmp: Path, rows) -> dict[str, Path]:
    rows = flat(rows)
    paths = {"jsonl": tmp / "a.jsonl", "csv": tmp / "a.csv", "parquet": tmp / "a.parquet", "txt": tmp / "txt"}
    paths["jsonl"].write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    with open(paths["csv"], "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    pq.write_table(pa.Table.from_pylist(rows), paths["parquet"])
    paths["txt"].mkdir()
    with open(paths["txt"] / "labels.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["file", *TARGETS])
        w.writeheader()
        for r in rows:
            (paths["txt"] / f"{r['id']}.txt").write_text(f"{r['title']}\n\n{r['text']}", encoding="utf-8")
            w.writerow({"file": f"{r['id']}.txt", **{t: r[t] for t in TARGETS}})
    return paths


def test_all_input_formats_build_the_same_dataset(tmp_path):
    rows = sample_articles(40)
    paths = write_formats(tmp_path, rows)
    built = {}
    for name, path in paths.items():
        dsd, _ = build_dataset({"source": str(path), "seed": 3})
        # .txt ids are file names: map them back to compare
        built[name] = {s: sorted((r["id"].removesuffix(".txt"), r["text"], r["russia"], r["us"], r["syria"])
                                 for r in ds) for s, ds in dsd.items()}
        assert dsd["train"].features == built.get("_features", dsd["train"].features)
        built.setdefault("_features", dsd["train"].features)
    features = built.pop("_features")
    assert set(features) == {"id", "text", "russia", "us", "syria", "duplicate_group"}
    assert features["russia"].names == ["pro", "against", "neutral", "none"]
    reference = built["jsonl"]
    assert sum(len(v) for v in reference.values()) == 40
    for name in ("csv", "parquet", "txt"):
        assert built[name] == reference, name


def test_cli_writes_a_dataset_dict_and_prints_a_summary(tmp_path, capsys):
    paths = write_formats(tmp_path, sample_articles(40))
    assert data_cli(["--config", CONFIG, "--source", str(paths["csv"]), "--output", str(tmp_path / "out")]) == 0
    dsd = load_from_disk(str(tmp_path / "out"))
    assert sum(len(d) for d in dsd.values()) == 40
    out = capsys.readouterr().out
    assert "train" in out and "test" in out and "length in tokens" in out  # the recipe model's tokenizer


BAD_INPUTS = {
    "unknown label": (lambda r: r.update(us="mendukung"), "unknown label 'mendukung' for target 'us'"),
    "missing target column": (lambda r: r.pop("syria"), "missing column 'syria'"),
    "empty text": (lambda r: r.update(text="   \n "), "empty text"),
    "duplicate id": (lambda r: r.update(id="DUP"), "duplicate id 'DUP'"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_fails_with_one_clear_line_and_writes_nothing(tmp_path, capsys, case):
    change, message = BAD_INPUTS[case]
    rows = flat(sample_articles(6))
    bad_row = 0 if case == "missing target column" else 3
    change(rows[bad_row])
    if case == "duplicate id":
        rows[1]["id"] = "DUP"
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert data_cli(["--config", CONFIG, "--source", str(src), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert f"in.jsonl:{bad_row + 1}" in err  # names the line
    assert not (tmp_path / "out").exists() and [p.name for p in tmp_path.iterdir()] == ["in.jsonl"]


def test_non_utf8_file_is_named_and_nothing_is_written(tmp_path, capsys):
    folder = tmp_path / "txt"
    folder.mkdir()
    (folder / "good.txt").write_text("Berita yang dapat dibaca dengan baik.", encoding="utf-8")
    (folder / "bad.txt").write_bytes("Berita dengan ejaan lama: \xe9".encode("latin-1"))
    (folder / "labels.csv").write_text("file,russia,us,syria\ngood.txt,pro,none,pro\nbad.txt,none,none,none\n")
    assert data_cli(["--config", CONFIG, "--source", str(folder), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "bad.txt" in err and "not UTF-8" in err
    assert not (tmp_path / "out").exists()


def test_label_map_accepts_the_users_spellings(tmp_path):
    rows = flat(sample_articles(3))
    spelled = {"pro": "Mendukung", "against": "menentang", "neutral": "NETRAL", "none": "tidak ada"}
    for r in rows:
        for t in TARGETS:
            r[t] = spelled[r[t]]
    src = tmp_path / "in.csv"
    with open(src, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    spec = InputSpec(label_map={"mendukung": "pro", "menentang": "against", "netral": "neutral", "tidak ada": "none"})
    got = read_articles(src, spec)
    expected = sample_articles(3)
    labels = ["pro", "against", "neutral", "none"]
    assert [[labels[a[t]] for t in TARGETS] for a in got] == [[e["labels"][t] for t in TARGETS] for e in expected]
    with pytest.raises(DataError, match="unknown label '(Mendukung|menentang|NETRAL|tidak ada)'"):
        read_articles(src, InputSpec())


def test_near_duplicates_land_in_one_split_and_are_reported(tmp_path):
    rows = flat(sample_articles(80))
    twin = dict(rows[5], id="twin-of-5")
    sentences = twin["text"].split(". ")
    twin["text"] = ". ".join(s.replace(" dan ", " serta ", 1) if i % 3 == 0 else s for i, s in enumerate(sentences))
    twin["text"] += "\nBACA JUGA: Kabar lain dari perbatasan"
    twin["russia"] = "none" if rows[5]["russia"] != "none" else "pro"  # another stratum: a naive split could part them
    assert twin["text"] != rows[5]["text"]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows + [twin]), encoding="utf-8")
    for seed in range(6):
        dsd, report = build_dataset({"source": str(src), "seed": seed})
        where = {r["id"]: split for split, ds in dsd.items() for r in ds}
        assert where["twin-of-5"] == where[rows[5]["id"]]
        assert report["duplicate_groups_merged"] >= 1


def _outlets_with_a_cross_outlet_twin(tmp_path):
    """120 sample articles in 12 outlets, plus a near duplicate of an o5 article published by o7."""
    rows = flat(sample_articles(120))
    for i, r in enumerate(rows):
        r["outlet"] = f"o{i % 12}"
    twin = dict(rows[5], id="twin-of-5", outlet="o7", text=rows[5]["text"].replace(" dan ", " serta ", 2))
    src = tmp_path / "outlets.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows + [twin]), encoding="utf-8")
    return src, rows + [twin]


def test_group_aware_splits_never_split_a_group_nor_a_near_duplicate_across_groups(tmp_path):
    src, rows = _outlets_with_a_cross_outlet_twin(tmp_path)
    outlet = {r["id"]: r["outlet"] for r in rows}
    tests = set()
    for seed in range(5):
        dsd, _ = build_dataset({"source": str(src), "seed": seed, "group_column": "outlet"})
        where = {}
        for split, ds in dsd.items():
            assert len(ds) and set(ds["outlet"]) == {outlet[i] for i in ds["id"]}  # carried through
            for i in ds["id"]:
                where.setdefault(outlet[i], set()).add(split)
        assert all(len(splits) == 1 for splits in where.values()), where
        assert where["o5"] == where["o7"]  # the twin ties its outlet to o5's
        assert sum(len(ds) for ds in dsd.values()) == len(rows)
        tests.add(tuple(sorted(dsd["test"]["id"])))
    assert len(tests) > 1  # still seeded


def test_holding_out_a_group_tests_on_it_alone_and_trains_on_no_copy_of_it(tmp_path):
    src, rows = _outlets_with_a_cross_outlet_twin(tmp_path)
    dsd, report = build_dataset({"source": str(src), "group_column": "outlet", "holdout_group": "o5"})
    assert sorted(dsd["test"]["id"]) == sorted(r["id"] for r in rows if r["outlet"] == "o5")
    trained = set(dsd["train"]["id"]) | set(dsd["validation"]["id"])
    assert "twin-of-5" not in trained and report["left_out_as_near_duplicates_of_test"] == 1
    assert len(trained) == len(rows) - len(dsd["test"]) - 1
    assert abs(len(dsd["validation"]) - 0.15 * len(trained)) <= 2
    with pytest.raises(DataError, match=r"holdout_group='o99': no article has it in column 'outlet' \(values: o0, o1"):
        build_dataset({"source": str(src), "group_column": "outlet", "holdout_group": "o99"})
    rows = flat(sample_articles(40))
    for i, r in enumerate(rows):
        r["outlet"] = "ab"[i % 2]
    two = tmp_path / "two.jsonl"
    two.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(DataError, match="keeps its 2 groups whole: too few .* --leave-one-group-out"):
        build_dataset({"source": str(two), "group_column": "outlet"})


def test_user_split_column_is_honoured(tmp_path):
    rows = flat(sample_articles(30))
    for i, r in enumerate(rows):
        r["fold"] = ["train", "dev", "test"][i % 3]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    dsd, _ = build_dataset({"source": str(src), "split_column": "fold"})
    assert sorted(dsd["validation"]["id"]) == sorted(r["id"] for r in rows if r["fold"] == "dev")


def test_split_is_deterministic_and_stratified():
    src = str(ROOT / "data" / "sample" / "articles.jsonl")
    a, _ = build_dataset({"source": src, "seed": 5})
    b, _ = build_dataset({"source": src, "seed": 5})
    c, _ = build_dataset({"source": src, "seed": 6})
    assert list(a["test"]["id"]) == list(b["test"]["id"]) != list(c["test"]["id"])
    n = sum(len(d) for d in a.values())
    assert abs(len(a["test"]) - 0.15 * n) <= 3 and abs(len(a["validation"]) - 0.15 * n) <= 3
    for t in TARGETS:  # each label's share in test stays near its share overall
        for label in range(4):
            overall = sum(list(d[t]).count(label) for d in a.values()) / n
            assert abs(list(a["test"][t]).count(label) / len(a["test"]) - overall) < 0.08


def test_cleaning_drops_boilerplate_and_repeated_paragraphs():
    para = "Pasukan pemerintah kembali menguasai jalan utama menuju kota setelah pertempuran dua hari."
    text = (f"Judul berita\n\n{para}\nBACA JUGA: Warga kembali ke rumah mereka\nFoto: Asap di kejauhan (Istimewa)\n"
            f"{para}\nBagikan: Facebook Twitter WhatsApp\nBaca juga, kata dia, laporan resmi pemerintah.")
    cleaned, stats = clean_text(text)
    assert cleaned.count(para) == 1 and "BACA JUGA" not in cleaned and "Foto:" not in cleaned
    assert "Bagikan" not in cleaned and "laporan resmi pemerintah" in cleaned  # a real sentence stays
    assert stats.boilerplate_lines == 3 and stats.repeated_paragraphs == 1 and stats.chars_removed > 0


def test_windows_cover_the_article_and_map_back(tmp_path):
    from model.modeling import train_tokenizer
    rows = sample_articles(20)
    tok = train_tokenizer([r["text"] for r in rows], 800)
    texts = [r["text"] for r in rows[:3]]
    out = tokenize_windows(texts, tok, max_length=64, stride=16)
    full = [len(tok(t, add_special_tokens=False)["input_ids"]) for t in texts]
    for i in range(3):
        n = out["article"].count(i)
        assert n == max(1, -(-(full[i] - 16) // (62 - 16)))  # windows of 62 content tokens advancing by 46
    assert out["article"] == sorted(out["article"]) and max(out["length"]) == 64
    head_tail = tokenize_windows(texts, tok, max_length=64, stride=16, strategy="head_tail", head_tokens=20)
    assert head_tail["article"] == [0, 1, 2] and all(n <= 64 for n in head_tail["length"])
    ids = tok(texts[0], add_special_tokens=False)["input_ids"]
    assert head_tail["input_ids"][0][1:21] == ids[:20] and head_tail["input_ids"][0][-43:-1] == ids[-42:]


def test_multi_head_windows_inherit_the_article_labels():
    from model.formulations import MultiHead
    from model.modeling import train_tokenizer
    from model.targets import targets_from
    rows = sample_articles(3)
    tok = train_tokenizer([r["text"] for r in rows], 800)
    batch = {"id": [r["id"] for r in rows], "text": [r["text"] for r in rows], **{t: [0, 1, 2] for t in TARGETS}}
    out = MultiHead(targets_from(None), {"max_length": 64, "stride": 16}).encode(batch, tok)
    assert sorted(set(out["id"])) == sorted(batch["id"])
    assert all(lab == [batch["id"].index(w)] * 3 for lab, w in zip(out["labels"], out["id"]))


def test_tokenization_is_cached_by_datasets(tmp_path):
    from data import cached_dataset
    from model.modeling import train_tokenizer
    from model.training import window_split
    cfg = {"source": str(ROOT / "data" / "sample" / "articles.jsonl")}
    dsd, _ = cached_dataset(cfg, tmp_path)
    from model.formulations import formulation_from
    tok = train_tokenizer(dsd["train"]["text"], 800)
    reader = formulation_from({"windows": {"max_length": 64, "stride": 16}})
    first = window_split(dsd["train"], tok, reader, training=True)
    again, _ = cached_dataset(cfg, tmp_path)  # a second run with the same inputs
    second = window_split(again["train"], tok, formulation_from({"windows": {"max_length": 64, "stride": 16}}),
                          training=True)
    assert first.cache_files == second.cache_files and first.cache_files
    assert first.cache_files[0]["filename"].startswith(str(tmp_path))  # beside the built dataset


def test_non_utf8_line_in_jsonl_names_the_line(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    rows = flat(sample_articles(3))
    lines = [json.dumps(r).encode() for r in rows]
    lines[1] = lines[1].replace(b'"text": "', b'"text": "\xe9', 1)
    src.write_bytes(b"\n".join(lines) + b"\n")
    assert data_cli(["--config", CONFIG, "--source", str(src), "--output", str(tmp_path / "out")]) == 2
    assert f"{src}:2: not UTF-8 text" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
