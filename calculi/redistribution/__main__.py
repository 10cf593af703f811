"""``python -m calculi.redistribution``: synthesise, check and run redistributions.

    python -m calculi.redistribution synth --mesh x=2,y=3 "[3{x}6]" "[2{y}6]"
    python -m calculi.redistribution synth --mesh x=2,y=3 "[3{x}6]" "[2{y}6]" --json --strategy xla
    python -m calculi.redistribution synth --mesh x=2,y=3 "[3{x}6]" "[2{y}6]" --engine jax
    python -m calculi.redistribution synth --mesh x=4,y=2 "[3{x}12, 6{y}12]" "[12, 3{x}12]" --strategy optimal
    python -m calculi.redistribution check --mesh x=2,y=3 "[3{x}6]" "DynSlice(0, y); AllGather(0, x)"
    python -m calculi.redistribution run FILE        (a file of REPL inputs: ':mesh ...', 'A -> B')

Runs (``--engine``, ``run``) are refused when they would hold more than ``--memory`` (default 1GiB);
the paper's synthesis spends at most ``--fuel`` rewrites; the optimal search refuses graphs past its limits
(``optimal.MAX_TYPES``). Bad input ends in one located error and status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from calculi.core.files import cli, positive_int, read_source
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.redistribution.baselines import STRATEGIES
from calculi.redistribution.check import check_mesh, check_program, check_type
from calculi.redistribution.memory import DEFAULT_BUDGET, memory_argument
from calculi.redistribution.parse import parse_mesh, parse_program, parse_type
from calculi.redistribution.pretty import show_count, show_op, show_type
from calculi.redistribution.report import ENGINES, synth_report, verify
from calculi.redistribution.syntax import Mesh
from calculi.redistribution.synth import REWRITE_FUEL


def _mesh(text: str) -> Mesh:
    return check_mesh(parse_mesh(Source(text, "--mesh")))


def _synth(args: argparse.Namespace) -> str:
    mesh = _mesh(args.mesh)
    source = parse_type(Source(args.source, "source"))
    target = parse_type(Source(args.target, "target"))
    report = synth_report(source, target, mesh, args.strategy, Fuel(args.fuel))
    checked = verify(report, args.engine, args.memory) if args.engine else None
    if args.json:
        out = report.to_json()
        if checked:
            out["checked"] = checked
        return json.dumps(out)
    return report.to_text() + (f"\n{checked}" if checked else "")


def _check(args: argparse.Namespace) -> str:
    mesh = _mesh(args.mesh)
    ty = check_type(parse_type(Source(args.type, "type")), mesh)
    if not args.program:
        return (f"{show_type(ty)} : ok (local shape {ty.local_shape}, {show_count(ty.local_size)} "
                "elements per device)")
    program = parse_program(Source(args.program, "program"))
    types = check_program(ty, program, mesh)
    rows = [f"  {show_op(op)}  :  {show_type(t)}  ({show_count(t.local_size)})"
            for op, t in zip(program, types[1:], strict=True)]
    return "\n".join([f"{show_type(ty)}  ({show_count(ty.local_size)})", *rows])


def _run(args: argparse.Namespace) -> str:
    from calculi.redistribution.commands import Session  # the REPL's session sits above this module

    source = read_source(args.file)
    session = Session()
    session.tracing = args.trace
    session.memory = args.memory
    session.fuel_limit = args.fuel
    return "\n".join(session.load(source))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calculi.redistribution",
                                     description="distributed array types and typed collectives")
    sub = parser.add_subparsers(dest="command", required=True)
    synth = sub.add_parser("synth", help="synthesise a redistribution and print it with its memory profile")
    synth.add_argument("--mesh", required=True, help="mesh axes, e.g. x=2,y=3")
    synth.add_argument("source", help="source type, e.g. '[3{x}6]'")
    synth.add_argument("target", help="target type, e.g. '[2{y}6]'")
    synth.add_argument("--strategy", choices=list(STRATEGIES), default="paper")
    synth.add_argument("--engine", choices=list(ENGINES), default=None,
                       help="run the program and check every device's block")
    synth.add_argument("--json", action="store_true", help="print JSON")
    _limits(synth)
    synth.set_defaults(handler=_synth)
    check = sub.add_parser("check", help="check a type, or a program from a type")
    check.add_argument("--mesh", required=True)
    check.add_argument("type")
    check.add_argument("program", nargs="?", default="")
    check.set_defaults(handler=_check)
    run = sub.add_parser("run", help="run a file of REPL inputs")
    run.add_argument("file")
    run.add_argument("--trace", action="store_true", help="print each step with its rule")
    _limits(run)
    run.set_defaults(handler=_run)
    args = parser.parse_args(argv)
    print(args.handler(args))
    return 0


def _limits(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--memory", type=memory_argument, default=DEFAULT_BUDGET, metavar="SIZE",
                        help="refuse runs that would hold more (e.g. 4GiB, 512MiB; default 1GiB)")
    parser.add_argument("--fuel", type=positive_int, default=REWRITE_FUEL, metavar="N",
                        help=f"rewrites synthesis may spend (default {REWRITE_FUEL:,})")


if __name__ == "__main__":
    sys.exit(cli(main))
