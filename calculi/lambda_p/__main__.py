"""``python -m calculi.lambda_p run FILE [--trace] [--variant pepm22] [--jobs N] [--fuel N]``"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from calculi.core.errors import CalculusError
from calculi.core.syntax import Source
from calculi.core.trace import DEFAULT_FUEL, Fuel
from calculi.lambda_p.parse import Definition
from calculi.lambda_p.program import VARIANT_NAMES, Program
from calculi.lambda_p.run import MACHINES, run_term, show_value, trace_lines
from calculi.lambda_p.syntax import Term


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m calculi.lambda_p", description="λp: parallel algebraic effect handlers"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="evaluate a file and print the value of each expression in it")
    run.add_argument("file")
    run.add_argument("--trace", action="store_true", help="print every small-step with its rule name")
    run.add_argument("--variant", choices=VARIANT_NAMES, default="icfp24", help="the (traverse) rule")
    run.add_argument("--jobs", type=int, default=1, help="worker processes for (parallel) loops")
    run.add_argument("--fuel", type=int, default=DEFAULT_FUEL, help="step limit")
    run.add_argument("--machine", choices=MACHINES, default="fast", help="which interpreter runs it")
    args = parser.parse_args(argv)
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except OSError as err:
        print(f"error: cannot read {args.file}: {err.strerror}", file=sys.stderr)
        return 2
    if args.jobs < 1 or args.fuel < 1:
        print("error: --jobs and --fuel must be positive", file=sys.stderr)
        return 2
    machine = "small-step" if args.trace else args.machine

    def warn(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def evaluate(term: Term) -> Term:
        return run_term(term, Fuel(args.fuel), args.variant, args.jobs, machine, warn)

    program = Program.with_prelude(args.variant)
    try:
        items = program.load(Source(text, args.file))
        for warning in program.warnings:
            print(warning, file=sys.stderr)
        for item in items:
            if isinstance(item, Definition):
                program.run(item, evaluate)
            elif args.trace:
                for line in trace_lines(item, Fuel(args.fuel), args.variant):
                    print(line, flush=True)
            else:
                print(show_value(evaluate(item)), flush=True)
    except CalculusError as err:
        print(err.render(), file=sys.stderr)
        return 1
    except RecursionError:  # the parser's and the printer's recursion, not evaluation's
        print("error: a term or a value nested more than about 10^5 deep, past what the parser and "
              "the printer take", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
