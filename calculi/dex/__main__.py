"""``python -m calculi.dex``: run or check a Dex file.

    python -m calculi.dex run FILE       evaluate each item, printing definitions' types and values
    python -m calculi.dex check FILE     each item's type, effect row, and which loops are parallel
    python -m calculi.dex grad FILE      the gradient of the last item (a Real program) with respect
                                         to the file's parameters (closed definitions of reals)

Bad input ends in one located error and status 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from calculi.core.errors import UsageError
from calculi.core.files import cli, positive_int, read_source
from calculi.core.syntax import Source
from calculi.core.trace import DEFAULT_FUEL
from calculi.dex.commands import Session, describe, items
from calculi.dex.syntax import Expr, Var


def _run(args: argparse.Namespace) -> str:
    session = Session()
    session.fuel_limit = args.fuel
    return "\n".join(session.load(read_source(args.file)))


def _check(args: argparse.Namespace) -> str:
    session = Session()
    session.fuel_limit = args.fuel
    source = read_source(args.file)
    out = []
    for first, text in items(source.text):
        padded = Source("\n" * (first - 1) + text, source.filename)
        defined = session.define(padded)
        if defined is not None:
            out.append(f"{defined[0]} : {describe(defined[1])}")
        else:
            out.append(session.type_of(session.parse(padded)))
    return "\n".join(out)


def _grad(args: argparse.Namespace) -> str:
    session = Session()
    session.fuel_limit = args.fuel
    source = read_source(args.file)
    program: Expr | None = None
    for first, text in items(source.text):
        padded = Source("\n" * (first - 1) + text, source.filename)
        defined = session.define(padded)
        program = Var(defined[0]) if defined else session.parse(padded)
    if program is None:
        raise UsageError(f"{args.file}: nothing to differentiate")
    return session.gradient(program)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calculi.dex",
                                     description="Dex: index sets, tables, typed effects")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, handler, text in (("run", _run, "evaluate a file"),
                                ("check", _check, "type-check a file, showing rows and loops"),
                                ("grad", _grad, "the gradient of a file's last item")):
        command = sub.add_parser(name, help=text)
        command.add_argument("file")
        command.add_argument("--fuel", type=positive_int, default=DEFAULT_FUEL, metavar="N",
                             help=f"evaluation steps allowed (default {DEFAULT_FUEL:,})")
        command.set_defaults(handler=handler)
    args = parser.parse_args(argv)
    print(args.handler(args))
    return 0


if __name__ == "__main__":
    sys.exit(cli(main))
