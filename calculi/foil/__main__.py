"""``python -m calculi.foil run FILE [--trace] [--fuel N] [--open]``: normalise each term of a file.

Files hold one term per line (``--`` comments; a ``let`` may span lines), as in lambda-n-ways.
``--trace`` prints every normal-order step with its rule (at most ``TRACE_STEPS`` per term).
Bad input prints ``file:line:col`` with a caret, and the exit status is 1; a file that cannot be
read, or is not UTF-8, is one such error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from calculi.core.errors import CalculusError
from calculi.core.files import cli, positive_int, read_source
from calculi.core.syntax import Source
from calculi.core.trace import DEFAULT_FUEL, Fuel
from calculi.foil.normalize import normalize
from calculi.foil.parse import parse_source, split_terms
from calculi.foil.pretty import pretty
from calculi.foil.semantics import trace


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calculi.foil", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="normalise each term of a file")
    run.add_argument("file")
    run.add_argument("--trace", action="store_true", help="print every step with its rule")
    run.add_argument("--fuel", type=positive_int, default=DEFAULT_FUEL, help="β-steps allowed per term")
    run.add_argument("--open", action="store_true", help="allow free names (constants)")
    args = parser.parse_args(argv)
    source = read_source(args.file)
    status = 0
    for lineno, chunk in split_terms(source.text):
        try:
            term = parse_source(Source(chunk, source.filename, first_line=lineno), free=args.open)
            if args.trace:
                print(pretty(term))
                for nxt in trace(term, args.fuel, term.span):
                    print(f"--> [{nxt.rule}] {pretty(nxt.term)}")
                print()
            else:
                print(pretty(normalize(term, Fuel(args.fuel))))
        except CalculusError as err:
            print(err.render(), file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(cli(main))
