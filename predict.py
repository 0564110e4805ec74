"""Label the stance of many articles toward each target of a trained run (Russia, the US, Syria).

  python predict.py --model runs/quickstart --input articles/ --output predictions.jsonl
  python predict.py --model runs/quickstart --input news.parquet --output out.parquet --precision bf16

Input: a folder of .txt files (searched recursively), .jsonl, .csv or .parquet. Output:
.jsonl, .csv or .parquet, one record per article with the label and the probability of each
label per target (temperature-scaled as the run's stance.json says, unless --no-calibration),
the number of windows the article was read in and, for a `target_pair` run,
the number of mentions per target (a target never named is `none` by rule). Input is streamed and
output written as it goes, to <output>.partial.jsonl, renamed into place at the end;
--resume continues an interrupted run from that file.
"""
import argparse
import json
import sys
import time
from pathlib import Path

from tqdm.auto import tqdm

from data import DataError, InputSpec, iter_unlabelled
from data.clean import clean_text
from data.readers import Unreadable, check_source
from data.writers import OUTPUT_FORMATS, done_ids, partial_path, publish
from model.labels import LABELS
from model.cli import ArgumentParser, positive_int
from model.modeling import ModelUnavailable


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


def main(argv=None) -> int:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="run directory written by train.py")
    p.add_argument("--input", required=True, help="folder of .txt files, or .jsonl/.csv/.parquet")
    p.add_argument("--output", required=True, help=f"output file ({', '.join(OUTPUT_FORMATS)})")
    p.add_argument("--text-column", default="text")
    p.add_argument("--id-column", default="id")
    p.add_argument("--title-column", default="title", help="prepended to the text when present")
    p.add_argument("--batch-size", type=positive_int, default=32, help="windows per forward pass")
    p.add_argument("--buffer", type=positive_int, default=256,
                   help="articles read ahead and sorted by length together (bounds memory)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16", "int8"],
                   help="bf16/fp16: autocast; int8: dynamic quantization of Linear layers (CPU)")
    p.add_argument("--on-error", default="record", choices=["record", "skip"],
                   help="an unreadable or empty article becomes an error record, or is skipped with a warning")
    p.add_argument("--resume", action="store_true", help="skip ids already in <output>.partial.jsonl")
    p.add_argument("--no-calibration", action="store_true",
                   help="raw probabilities, without the run's temperatures (stance.json)")
    args = p.parse_args(argv)
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()  # weight-loading bars; ours reports the work itself
    output = Path(args.output)
    if output.suffix not in OUTPUT_FORMATS:
        print(f"error: {output}: output must end in {', '.join(OUTPUT_FORMATS)}", file=sys.stderr)
        return 2
    try:
        n_ok, n_bad, seconds = run(args, output)
    except (DataError, ModelUnavailable, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{n_ok} articles labelled, {n_bad} {'skipped' if args.on_error == 'skip' else 'error records'}, "
          f"{n_ok / max(seconds, 1e-9):.1f} articles/s -> {output}")
    return 0


def run(args, output: Path) -> tuple[int, int, float]:
    from model.inference import pick_device, predict_articles, prepare_model
    from model.modeling import load_for_inference
    check_source(args.input)
    tokenizer, model, reader, settings = load_for_inference(args.model)
    temperature = None if args.no_calibration else settings.get("temperature")
    device = pick_device(args.device)
    model = prepare_model(model, device, args.precision)
    spec = InputSpec(text_column=args.text_column, id_column=args.id_column, title_column=args.title_column)
    partial = partial_path(output)
    skip = done_ids(partial) if args.resume else set()
    if not args.resume:
        partial.unlink(missing_ok=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    n_ok = n_bad = 0
    start = time.time()
    buffer = []

    def flush(out):
        nonlocal n_ok
        if buffer:
            ids, texts = zip(*buffer)
            probs, info = predict_articles(model, tokenizer, reader, list(range(len(texts))), list(texts),
                                           temperature=temperature, batch_size=args.batch_size, device=device,
                                           precision=args.precision)
            for record in records(probs, info, ids, reader.keys):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
            n_ok += len(buffer)
            bar.update(len(buffer))
            buffer.clear()

    with open(partial, "a", encoding="utf-8") as out, tqdm(unit=" articles", desc="predict") as bar:
        for where, rid, text in iter_unlabelled(args.input, spec):
            if rid in skip:
                continue
            problem = str(text) if isinstance(text, Unreadable) else \
                f"{where}: empty text" if text is None or not text.strip() else None
            if problem:
                n_bad += 1
                if args.on_error == "skip":
                    tqdm.write(f"warning: skipped {problem}", file=sys.stderr)
                else:
                    flush(out)  # keep the output in input order
                    out.write(json.dumps({"id": rid, "error": problem}, ensure_ascii=False) + "\n")
                continue
            buffer.append((rid, clean_text(text)[0] if settings.get("clean", True) else text))
            if len(buffer) >= args.buffer:
                flush(out)
        flush(out)
    publish(partial, output, reader.keys)
    return n_ok, n_bad, time.time() - start


if __name__ == "__main__":
    sys.exit(main())
