"""``python -m calculi.partir run|apply|simulate|search FILE``.

    run FILE [--trace]               the reference semantics on fixed random inputs (--trace: the
                                     small-step semantics, every step with its rule)
    apply FILE --schedule S          the partitioned program (PartIR:Core) and its SPMD lowering
    simulate FILE --schedule S       predicted cost; a simulated (or --engine jax) run checked
    search FILE [--axes a,b] [--memory SIZE] [--method beam|mcts] [--width N] [--episodes N] [--seed N]
                                     automap: beam search or Monte Carlo tree search
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

from calculi.core.errors import ShapeError
from calculi.core.files import cli, positive_int, read_source
from calculi.core.syntax import Source
from calculi.partir.automap import METHODS
from calculi.partir.commands import Session, simulate_text
from calculi.partir.engine import measure, run_jax
from calculi.partir.loops import to_loops
from calculi.partir.lower import lower
from calculi.partir.parse import parse_schedule
from calculi.partir.pretty import show_func
from calculi.partir.report import inputs_for, show_spmd
from calculi.partir.semantics import evaluate
from calculi.partir.simulator import CostModel
from calculi.partir.tactics import apply_schedule
from calculi.redistribution.memory import memory_argument


def _program(args: argparse.Namespace) -> Session:
    session = Session()
    session.func = session.parse(read_source(args.file))
    if getattr(args, "schedule", None):
        session.schedule = parse_schedule(Source(args.schedule, "--schedule"))
    return session


def _run(args: argparse.Namespace) -> str:
    session = Session()
    source = read_source(args.file)
    if args.trace:
        return "\n".join(session.trace(source))
    return "\n".join(session.load(source))


def _apply(args: argparse.Namespace) -> str:
    session = _program(args)
    part = apply_schedule(session._need(), session.schedule)
    return show_func(to_loops(part)) + "\n\n" + show_spmd(lower(part))


def _simulate(args: argparse.Namespace) -> str:
    session = _program(args)
    part = apply_schedule(session._need(), session.schedule)
    text = simulate_text(part, CostModel())
    if args.engine == "jax":
        spmd, inputs = lower(part), inputs_for(part.func)
        pairs = zip(run_jax(spmd, inputs), evaluate(part.func, inputs), strict=True)
        worst = max(float(np.max(np.abs(a - b))) for a, b in pairs)
        if worst > 1e-4:
            raise ShapeError(f"the JAX run differs from the reference by {worst:.3g}", part.func.span)
        text += f"\nJAX run          equals the reference (max error {worst:.1e}); " \
                f"measured {measure(spmd, inputs) * 1e6:,.1f} µs per step"
    return text


def _search(args: argparse.Namespace) -> str:
    session = _program(args)
    session.memory, session.width = args.memory, args.width
    session.episodes, session.seed = args.episodes, args.seed
    return session._search(f"{args.method} {args.axes}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calculi.partir",
                                     description="PartIR: tactics, propagation, SPMD lowering, automap")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a program by the reference semantics")
    run.add_argument("file")
    run.add_argument("--trace", action="store_true", help="every step of the small-step semantics")
    run.set_defaults(handler=_run)
    for name, handler, text in (("apply", _apply, "print the partitioned program and its SPMD lowering"),
                                ("simulate", _simulate, "predict the cost and check a simulated run")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("file")
        cmd.add_argument("--schedule", default="", help="tactics, e.g. 'ManualPartition({x: 0}, batch)'")
        cmd.set_defaults(handler=handler)
        if name == "simulate":
            cmd.add_argument("--engine", choices=["sim", "jax"], default="sim")
    find = sub.add_parser("search", help="automap: search for a schedule")
    find.add_argument("file")
    find.add_argument("--axes", default="", help="mesh axes to partition over (default: all)")
    find.add_argument("--memory", type=memory_argument, default=None, metavar="SIZE",
                      help="per-device memory limit, e.g. 128KiB")
    find.add_argument("--method", choices=METHODS, default="beam",
                      help="beam search, or Monte Carlo tree search (UCT) as in the automap paper")
    find.add_argument("--width", type=positive_int, default=4, help="beam search: schedules kept per length")
    find.add_argument("--episodes", type=positive_int, default=300, help="tree search: its budget")
    find.add_argument("--seed", type=int, default=0, help="tree search: its random seed")
    find.set_defaults(handler=_search)
    args = parser.parse_args(argv)
    print(args.handler(args))
    return 0


if __name__ == "__main__":
    sys.exit(cli(main))
