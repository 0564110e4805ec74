"""What the entry points share on the command line: a parser whose mistakes are one `error:` line."""
import argparse
import sys


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad flag is `error: ...` and exit code 2 (the usage stays in --help)."""

    def error(self, message):
        print(f"error: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def positive_int(value: str) -> int:
    """A whole number of at least 1 (a batch size, a count)."""
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return n


def shard(value: str):
    """`K/N`: the K-th of N shares of the input, K counted from 0 (data/shards.py)."""
    from data.shards import Shard
    k, _, n = value.partition("/")
    if not (k.isdigit() and n.isdigit() and int(k) < int(n)):
        raise argparse.ArgumentTypeError(f"{value!r} is not K/N with 0 <= K < N (the shares of 4 are 0/4 ... 3/4)")
    return Shard(int(k), int(n))
