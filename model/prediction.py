"""Batch prediction (predict.py): each worker labels its share of an article stream block by
block into its part file, written as it goes; the parts are published in the asked format at
the end (data/writers.py, data/shards.py)."""
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from data import DataError, InputSpec, iter_unlabelled
from data.clean import clean_text
from data.readers import Unreadable, check_source
from data.shards import Shard, check_resumable, merge
from data.writers import SKIPPED, check_output, done_ids, publish

from . import inference
from .engines import open_engine
from .labels import LABELS
from .modeling import load_for_inference
from .workers import Workers, launched, worker_device


def records(probs, info: dict, ids, targets: list[str]):
    for i, rid in enumerate(ids):
        record = {"id": rid,
                  "labels": {t: LABELS[int(probs[i, j].argmax())] for j, t in enumerate(targets)},
                  "probabilities": {t: {label: round(float(probs[i, j, k]), 5) for k, label in enumerate(LABELS)}
                                    for j, t in enumerate(targets)},
                  "windows": int(info["windows"][i])}
        if "mentions" in info:
            record["mentions"] = {t: int(info["mentions"][i, j]) for j, t in enumerate(targets)}
        yield record


@dataclass
class Reading:
    """What labelling a block takes: the engine, the run's way of reading articles, the flags."""
    engine: object
    tokenizer: object
    reader: object
    clean: bool
    batch_size: int
    skip_bad: bool
    temperature: dict | None  # stance.json's per target, or None: raw probabilities

    def lines(self, rows: list) -> tuple[list[str], int]:
        """A block of (where, id, text) rows as output lines, in input order (a bad article as an
        error record or a placeholder), and how many of them were labelled."""
        lines, good = [], []
        for where, rid, text in rows:
            problem = str(text) if isinstance(text, Unreadable) else \
                f"{where}: empty text" if text is None or not text.strip() else None
            if problem is None:
                good.append(len(lines))
                lines.append((rid, clean_text(text)[0] if self.clean else text))
                continue
            if self.skip_bad:
                tqdm.write(f"warning: skipped {problem}", file=sys.stderr)
            lines.append(json.dumps({"id": rid, SKIPPED if self.skip_bad else "error": problem}, ensure_ascii=False))
        if good:
            ids, texts = zip(*(lines[i] for i in good))
            probs, info = inference.predict_articles(self.engine, self.tokenizer, self.reader,
                                                     list(range(len(texts))), list(texts), self.batch_size,
                                                     self.temperature)
            for i, record in zip(good, records(probs, info, ids, self.reader.keys)):
                lines[i] = json.dumps(record, ensure_ascii=False)
        return lines, len(good)


def label_share(reading: Reading, stream, shard: Shard, output: Path, block: int, resume: bool, progress) -> int:
    """Label this shard's blocks of the stream into its part, after those an interrupted run wrote
    (`resume`; a finished part is left as it is); `progress(labelled, bad)` after each block.
    Returns the part's number of rows."""
    part, finished = shard.part(output), shard.marker(output)
    if resume and finished.exists():
        mark = json.loads(finished.read_text())
        if mark["block"] != block:
            raise DataError(f"{part}: written with --buffer {mark['block']}; resume with that, or run without --resume")
        return mark["rows"]
    done = done_ids(part, block) if resume else []
    if not resume:
        shard.clear(output)
    rows = 0
    with open(part, "a", encoding="utf-8") as out:
        for chunk in shard.blocks(stream, block):
            if rows < len(done):
                if done[rows:rows + len(chunk)] != [rid for _, rid, _ in chunk]:
                    raise DataError(f"{part}: written from another input or --buffer; run without --resume to start over")
            else:
                lines, labelled = reading.lines(chunk)
                out.write("".join(line + "\n" for line in lines))  # a block at once: resume restarts at a block
                out.flush()
                progress(labelled, len(lines) - labelled)
            rows += len(chunk)
    if rows < len(done):
        raise DataError(f"{part}: written from a longer input; run without --resume to start over")
    return rows


@dataclass
class Done:
    """What the closing line reports: this job's articles over all workers, and where they went."""
    labelled: int
    bad: int
    seconds: float
    written: Path
    shard: Shard


def predict(args) -> Done | None:
    """Label `args.input` into `args.output` (predict.py's flags) as this process's share of the
    job; the main worker publishes and returns the summary, the others return None."""
    output = check_output(Path(args.output))
    rank, count = launched()
    if count > 1 and args.shard:
        raise ValueError("--shard is for runs without torchrun (torchrun's workers take their shares themselves)")
    shard = Shard(rank, count) if count > 1 else args.shard or Shard()
    if args.resume:
        check_resumable(output, shard.count)
    # everything that can be checked is, before the workers start and wait on each other
    check_source(args.input)
    spec = InputSpec(text_column=args.text_column, id_column=args.id_column, title_column=args.title_column)
    next(iter_unlabelled(args.input, spec), None)  # a missing text column, an unreadable CSV
    tokenizer, model, reader, settings = load_for_inference(args.model)
    device = worker_device(args.device)
    engine = open_engine(args.model, model, tokenizer, settings, str(device), args.engine, args.precision)
    reading = Reading(engine, tokenizer, reader, settings.get("clean", True), args.batch_size, args.on_error == "skip",
                      None if args.no_calibration else settings.get("temperature"))
    output.parent.mkdir(parents=True, exist_ok=True)
    workers = Workers()
    if workers.main:
        print(f"engine: {engine}", file=sys.stderr)
    workers.start(device)
    try:
        start = time.time()
        with tqdm(unit=" articles", desc="predict", disable=not workers.main) as bar:
            def show():
                if workers.main:
                    bar.update(workers.counts()[0] - bar.n)

            def progress(labelled, bad):
                workers.add(labelled, bad)
                show()

            rows = label_share(reading, iter_unlabelled(args.input, spec), shard, output, args.buffer, args.resume,
                               progress)
            if shard.count > 1:
                shard.finish(output, rows, args.buffer, reader.keys)
            workers.finish(waiting=show)
            show()  # the other workers' last blocks
        if not workers.main:
            return None
        written = output
        if shard.count == 1:
            with open(shard.part(output), encoding="utf-8") as lines:
                publish(lines, output, reader.keys)
            shard.part(output).unlink()
        elif count > 1:
            merge(output, count)
        else:
            written = shard.part(output)
        return Done(*workers.counts(), time.time() - start, written, shard)
    finally:
        workers.close()
