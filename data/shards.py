"""One prediction job split across workers, and its parts joined back in input order.

Workers take turns by blocks of `--buffer` consecutive input rows (error rows included): block b
goes to worker b % N. No worker needs to know the input's length, each block is the very buffer
a single process reads (so a worker's records are those of a 1-process run to the last digit),
and the parts interleave back block by block. Worker K of N writes `<output>.part-K-of-N.jsonl`
and, once its share is done, `<output>.part-K-of-N.done` (its rows, the block size, the
targets): a part without it is unfinished, which `--resume` continues and `merge` refuses.
"""
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import count as naturals, islice
from pathlib import Path

from .errors import DataError
from .writers import Tally, partial_path, publish


@dataclass(frozen=True)
class Shard:
    """The `index`-th of `count` shares of the input (counted from 0)."""
    index: int = 0
    count: int = 1

    def part(self, output: Path) -> Path:
        """Where this share is written; a job of one worker keeps the plain partial file."""
        if self.count == 1:
            return partial_path(output)
        return output.with_name(f"{output.name}.part-{self.index}-of-{self.count}.jsonl")

    def marker(self, output: Path) -> Path:
        return output.with_name(f"{output.name}.part-{self.index}-of-{self.count}.done")

    def blocks(self, rows: Iterable, block: int) -> Iterator[list]:
        """This share's blocks of `block` consecutive rows."""
        rows = iter(rows)
        for b in naturals():
            chunk = list(islice(rows, block))
            if not chunk:
                return
            if b % self.count == self.index:
                yield chunk

    def rows(self, total: int, block: int) -> int:
        """How many of `total` input rows fall to this share."""
        full, rest = divmod(total, block)
        mine = full // self.count + (self.index < full % self.count)
        return mine * block + (rest if full % self.count == self.index else 0)

    def finish(self, output: Path, rows: int, block: int, targets: list[str]) -> None:
        """Mark the part complete (after its last line is on disk)."""
        tmp = self.marker(output).with_suffix(".tmp")
        tmp.write_text(json.dumps({"rows": rows, "block": block, "targets": targets}))
        tmp.replace(self.marker(output))

    def clear(self, output: Path) -> None:
        self.part(output).unlink(missing_ok=True)
        self.marker(output).unlink(missing_ok=True)


def _layouts(output: Path) -> set[int]:
    """The worker counts of the parts lying next to `output` (1 for a plain partial file)."""
    name = re.compile(re.escape(output.name) + r"\.part-\d+-of-(\d+)\.(jsonl|done)")
    found = {int(m[1]) for p in output.parent.glob(f"{output.name}.part-*") if (m := name.fullmatch(p.name))}
    return found | ({1} if partial_path(output).exists() else set())


def check_resumable(output: Path, count: int) -> None:
    """`--resume` with another number of workers than the interrupted run would start over unseen."""
    others = sorted(_layouts(output) - {count})
    if others:
        raise DataError(f"{output}: the interrupted run had {' or '.join(map(str, others))} worker(s), this one "
                        f"{count}; resume with as many workers as it had, or run without --resume")


def merge(output: Path, count: int | None = None) -> Tally:
    """Join the finished parts of a `count`-worker job (by default, the one lying next to `output`)
    into `output`, in input order, through `publish`; then remove them."""
    if count is None:
        layouts = _layouts(output) - {1}
        if len(layouts) != 1:
            raise DataError(f"{output}: no parts to merge (predict.py --shard K/N --output {output} writes them)"
                            if not layouts else f"{output}: parts of jobs split {' and '.join(map(str, sorted(layouts)))}"
                            " ways lie side by side; remove the ones you do not want merged")
        count = layouts.pop()
    shards = [Shard(k, count) for k in range(count)]
    unfinished = [f"{s.index}/{count}" for s in shards if not s.marker(output).exists()]
    if unfinished:
        raise DataError(f"{output}: part {', '.join(unfinished)} missing or unfinished; run predict.py --shard "
                        f"K/{count} for each (--resume continues an interrupted one), then merge")
    marks = [json.loads(s.marker(output).read_text()) for s in shards]
    block, targets = marks[0]["block"], marks[0]["targets"]
    total = sum(m["rows"] for m in marks)
    if any((m["block"], m["targets"], m["rows"]) != (block, targets, s.rows(total, block))
           for s, m in zip(shards, marks)):
        raise DataError(f"{output}: the {count} parts do not fit together (written from different inputs, "
                        "--buffer sizes or models?)")
    files = [open(s.part(output), encoding="utf-8") for s in shards]
    try:
        tally = publish(_interleave(files, [m["rows"] for m in marks], block, output), output, targets)
    finally:
        for f in files:
            f.close()
    for s in shards:
        s.clear(output)
    return tally


def _interleave(files: list, rows: list[int], block: int, output: Path) -> Iterator[str]:
    """The parts' lines in input order: a block of each part in turn."""
    left = list(rows)
    while any(left):
        for k, f in enumerate(files):
            want = min(block, left[k])
            lines = list(islice(f, want))
            if len(lines) < want or (lines and not lines[-1].endswith("\n")):
                raise DataError(f"{output}: part {k} of {len(files)} is shorter than it says it is")
            left[k] -= want
            yield from lines
