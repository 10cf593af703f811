"""``python -m calculi.lambda_p run FILE [--trace | --full-trace] [--variant pepm22] [--jobs N]
[--fuel N] [--machine small-step]``"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from calculi.core.files import cli, positive_int, read_source
from calculi.core.trace import DEFAULT_FUEL, Fuel
from calculi.lambda_p.parse import Definition
from calculi.lambda_p.program import VARIANT_NAMES, Program
from calculi.lambda_p.run import MACHINES, run_term, run_text, trace_lines, trace_summary
from calculi.lambda_p.syntax import Term


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m calculi.lambda_p", description="λp: parallel algebraic effect handlers"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="evaluate a file and print the value of each expression in it")
    run.add_argument("file")
    traces = run.add_mutually_exclusive_group()
    traces.add_argument("--trace", action="store_true",
                        help="run on the small-step machine and summarise its trace: the first and "
                             "last steps with their rule names, and how often each rule fired")
    traces.add_argument("--full-trace", action="store_true", help="print every small step with its rule")
    run.add_argument("--variant", choices=VARIANT_NAMES, default="icfp24", help="the (traverse) rule")
    run.add_argument("--jobs", type=positive_int, default=1, help="worker processes for (parallel) loops")
    run.add_argument("--fuel", type=positive_int, default=DEFAULT_FUEL, help="step limit")
    run.add_argument("--machine", choices=MACHINES, default="fast", help="which interpreter runs it")
    args = parser.parse_args(argv)
    source = read_source(args.file)
    tracing = args.trace or args.full_trace
    machine = "small-step" if tracing else args.machine

    def warn(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def evaluate(term: Term) -> Term:
        return run_term(term, Fuel(args.fuel), args.variant, args.jobs, machine, warn)

    program = Program.with_prelude(args.variant)
    items = program.load(source)
    for warning in program.warnings:
        print(warning, file=sys.stderr)
    for item in items:
        if isinstance(item, Definition):
            program.run(item, evaluate)
        elif tracing:
            trace = trace_lines if args.full_trace else trace_summary
            for line in trace(item, Fuel(args.fuel), args.variant):
                print(line, flush=True)
        else:
            print(run_text(item, Fuel(args.fuel), args.variant, args.jobs, machine, warn), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(cli(main))
