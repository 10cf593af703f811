"""``python -m calculi.redistribution``: synthesise, check and run redistributions.

    python -m calculi.redistribution synth --mesh x=2,y=3 "[3{x}6]" "[2{y}6]"
    python -m calculi.redistribution synth --mesh x=2,y=3 "[3{x}6]" "[2{y}6]" --json --strategy xla
    python -m calculi.redistribution synth --mesh x=2,y=3 "[3{x}6]" "[2{y}6]" --engine jax
    python -m calculi.redistribution check --mesh x=2,y=3 "[3{x}6]" "DynSlice(0, y); AllGather(0, x)"
    python -m calculi.redistribution run FILE        (a file of REPL inputs: ':mesh ...', 'A -> B')
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from calculi.core.errors import CalculusError
from calculi.core.syntax import Source
from calculi.redistribution.baselines import STRATEGIES
from calculi.redistribution.check import check_mesh, check_program, check_type
from calculi.redistribution.parse import parse_mesh, parse_program, parse_type
from calculi.redistribution.pretty import show_op, show_type
from calculi.redistribution.report import ENGINES, synth_report, verify
from calculi.redistribution.syntax import Mesh


def _mesh(text: str) -> Mesh:
    return check_mesh(parse_mesh(Source(text, "--mesh")))


def _synth(args: argparse.Namespace) -> str:
    mesh = _mesh(args.mesh)
    source = parse_type(Source(args.source, "source"))
    target = parse_type(Source(args.target, "target"))
    report = synth_report(source, target, mesh, args.strategy)
    checked = verify(report, args.engine) if args.engine else None
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
        return f"{show_type(ty)} : ok (local shape {ty.local_shape}, {ty.local_size} elements per device)"
    program = parse_program(Source(args.program, "program"))
    types = check_program(ty, program, mesh)
    rows = [f"  {show_op(op)}  :  {show_type(t)}  ({t.local_size})" for op, t in zip(program, types[1:],
                                                                                    strict=True)]
    return "\n".join([f"{show_type(ty)}  ({ty.local_size})", *rows])


def _run(args: argparse.Namespace) -> str:
    from calculi.redistribution.commands import Session

    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except OSError as err:
        raise CalculusError(f"cannot read {args.file}: {err.strerror}") from None
    session = Session()
    session.tracing = args.trace
    return "\n".join(session.load(Source(text, args.file)))


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
    synth.set_defaults(handler=_synth)
    check = sub.add_parser("check", help="check a type, or a program from a type")
    check.add_argument("--mesh", required=True)
    check.add_argument("type")
    check.add_argument("program", nargs="?", default="")
    check.set_defaults(handler=_check)
    run = sub.add_parser("run", help="run a file of REPL inputs")
    run.add_argument("file")
    run.add_argument("--trace", action="store_true", help="print each step with its rule")
    run.set_defaults(handler=_run)
    args = parser.parse_args(argv)
    try:
        print(args.handler(args))
    except CalculusError as err:
        print(err.render(), file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader (``| head``) left early
        sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
