"""``python -m calculi.foil run FILE [--trace] [--fuel N] [--open]``: normalise each term of a file.

Files hold one term per line (``--`` comments; a ``let`` may span lines), as in lambda-n-ways.
``--trace`` prints every normal-order step with its rule. Bad input prints ``file:line:col``
with a caret, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import sys

from calculi.core.errors import CalculusError
from calculi.core.syntax import Source
from calculi.core.trace import DEFAULT_FUEL, Fuel
from calculi.foil.normalize import normalize
from calculi.foil.parse import parse_source, split_terms
from calculi.foil.pretty import pretty
from calculi.foil.semantics import step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calculi.foil", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="normalise each term of a file")
    run.add_argument("file")
    run.add_argument("--trace", action="store_true", help="print every step with its rule")
    run.add_argument("--fuel", type=int, default=DEFAULT_FUEL, help="β-steps allowed per term")
    run.add_argument("--open", action="store_true", help="allow free names (constants)")
    args = parser.parse_args(argv)
    try:
        with open(args.file, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as err:
        print(f"cannot read {args.file}: {err.strerror}", file=sys.stderr)
        return 2
    status = 0
    for lineno, chunk in split_terms(text):
        try:
            term = parse_source(Source("\n" * (lineno - 1) + chunk, args.file), free=args.open)
            fuel = Fuel(args.fuel)
            if args.trace:
                print(pretty(term))
                while (nxt := step(term)) is not None:
                    fuel.tick(term.span)
                    term = nxt.term
                    print(f"--> [{nxt.rule}] {pretty(term)}")
                print()
            else:
                print(pretty(normalize(term, fuel)))
        except CalculusError as err:
            print(err.render(), file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        sys.stderr.close()
        sys.exit(0)
