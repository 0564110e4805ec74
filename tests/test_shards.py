"""Prediction split across workers: torchrun's, or `--shard K/N` jobs joined by `--merge`."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, sample_articles
from predict import main as predict_cli
from test_predict import read_output

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
# 30 articles and two bad rows, in blocks of 4 rows: worker 1 of 2 gets rows 4-7, 12-15, ...
FLAGS = ["--buffer", "4", "--batch-size", "3"]

# predict.py, with worker 1 killed (SIGKILL, as by the OOM killer) before its second block is written
DIES = """
import os, signal, sys
sys.path.insert(0, {root!r})
import model.inference
real, calls = model.inference.predict_articles, []

def dies_on_second_block(*args, **kw):
    calls.append(1)
    if os.environ["RANK"] == "1" and len(calls) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kw)

model.inference.predict_articles = dies_on_second_block
import predict
sys.exit(predict.main())
"""


@pytest.fixture
def articles(tmp_path):
    rows = sample_articles(30)
    lines = [(json.dumps(r, ensure_ascii=False) + "\n").encode() for r in rows]
    lines.insert(5, b'{"id": "latin1", "text": "caf\xe9"}\n')  # in worker 1's first block
    lines.insert(13, b'{"id": "cut", "text": \n')  # and in its second
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(lines))
    return src


def one_process(tiny_run, src, out, *flags):
    assert predict_cli(["--model", str(tiny_run), "--input", str(src), "--output", str(out), *FLAGS, *flags]) == 0
    return read_output(out)


def torchrun(script, tiny_run, src, out, *flags):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script),
           "--model", str(tiny_run), "--input", str(src), "--output", str(out), *FLAGS, *flags]
    return subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)


def test_two_torchrun_workers_write_what_one_process_writes(tiny_run, tmp_path, articles):
    expected = one_process(tiny_run, articles, tmp_path / "one.jsonl")
    out = tmp_path / "two.jsonl"
    proc = torchrun(ROOT / "predict.py", tiny_run, articles, out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert read_output(out) == expected  # every record, error records included, in input order
    assert [i for i, r in enumerate(expected) if "error" in r] == [5, 13]
    assert "30 articles labelled, 2 error records" in proc.stdout  # both workers' articles
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "one.jsonl", "two.jsonl"]


def test_a_killed_worker_is_resumed_to_the_same_output(tiny_run, tmp_path, articles):
    expected = one_process(tiny_run, articles, tmp_path / "one.jsonl", "--on-error", "skip")
    assert len(expected) == 30
    out = tmp_path / "two.jsonl"
    dies = tmp_path / "dies.py"
    dies.write_text(DIES.format(root=str(ROOT)))
    proc = torchrun(dies, tiny_run, articles, out, "--on-error", "skip")
    assert proc.returncode != 0 and "exitcode  : -9" in proc.stderr
    assert not out.exists()
    part = tmp_path / "two.jsonl.part-1-of-2.jsonl"
    assert len(part.read_text().splitlines()) == 4  # its first block, the skipped row's placeholder among them
    assert not (tmp_path / "two.jsonl.part-1-of-2.done").exists()
    proc = torchrun(ROOT / "predict.py", tiny_run, articles, out, "--on-error", "skip", "--resume")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert read_output(out) == expected
    assert not list(tmp_path.glob("two.jsonl.*"))


def test_shards_joined_by_merge_equal_one_run(tiny_run, tmp_path, articles, capsys):
    expected = one_process(tiny_run, articles, tmp_path / "one.parquet")
    out = tmp_path / "sharded.parquet"

    def shard(k, *flags):
        return predict_cli(["--model", str(tiny_run), "--input", str(articles), "--output", str(out), *FLAGS,
                            "--shard", f"{k}/3", *flags])

    def merge():
        capsys.readouterr()
        code = predict_cli(["--merge", "--output", str(out)])
        return code, capsys.readouterr()

    assert shard(0) == 0 and shard(2) == 0
    assert "share 2/3; when all 3 are done: predict.py --merge" in capsys.readouterr().out
    code, said = merge()
    assert code == 2 and said.err == f"error: {out}: part 1/3 missing or unfinished; run predict.py --shard K/3 " \
                                     "for each (--resume continues an interrupted one), then merge\n"
    assert not out.exists()
    (tmp_path / "sharded.parquet.part-1-of-3.jsonl").write_text('{"id": "1"}\n')  # begun, never finished
    assert merge()[0] == 2 and not out.exists()
    assert predict_cli(["--model", str(tiny_run), "--input", str(articles), "--output", str(out), *FLAGS,
                        "--resume"]) == 2  # a 1-worker resume would start over beside the parts
    assert "the interrupted run had 3 worker(s), this one 1" in capsys.readouterr().err
    assert shard(1, "--buffer", "5") == 0
    code, said = merge()
    assert code == 2 and "the 3 parts do not fit together" in said.err and not out.exists()
    assert shard(1, "--resume") == 2 and "written with --buffer 5" in capsys.readouterr().err
    assert shard(1) == 0
    code, said = merge()
    assert code == 0 and said.out == f"merged: 30 articles labelled, 2 error records, 0 skipped -> {out}\n"
    assert read_output(out) == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "one.parquet", "sharded.parquet"]
