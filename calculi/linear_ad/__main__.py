"""``python -m calculi.linear_ad COMMAND FILE ...``

    run FILE [f] [ARGS...] [--trace]       evaluate f (default: the last function) at ARGS; --trace prints
                                           each step of the small-step semantics with its rule name
    check FILE                             type-check and print each function's type
    grad FILE f ARGS...                    the value and the gradient (reverse mode: T ∘ U ∘ J)
    show FILE f --stage jvp|unzip|transpose [--policy save-all|recompute-all|save-sin] [--ascii]
    cost FILE f ARGS...                    work per operation class of f and of each stage

ARGS are numbers or tuples of numbers, ``1.5`` or ``"(1.0, 2.0)"``; ``--fuel N`` bounds the steps of
``run``, ``grad`` and ``cost``. Bad input of any kind prints one located error, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from calculi.core.errors import UsageError
from calculi.core.files import cli, positive_int, read_source
from calculi.core.syntax import Source
from calculi.core.trace import DEFAULT_FUEL, Fuel
from calculi.linear_ad.ad import grad, stages
from calculi.linear_ad.calls import CallParser
from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.commands import format_cost, format_values, stage_costs
from calculi.linear_ad.eval import evaluate
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.pretty import show_program
from calculi.linear_ad.primitives import Value
from calculi.linear_ad.semantics import show_state, start, steps, value
from calculi.linear_ad.unzip import POLICIES


def parse_value(text: str) -> Value:
    """A command-line argument: a number or a tuple of numbers (an error points into it)."""
    return CallParser(Source(text, "<argument>")).argument()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calculi.linear_ad", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "check", "grad", "show", "cost"])
    parser.add_argument("file")
    parser.add_argument("function", nargs="?")
    parser.add_argument("args", nargs="*")
    parser.add_argument("--stage", default="transpose", choices=["source", "jvp", "unzip", "transpose"])
    parser.add_argument("--policy", default="save-all", choices=sorted(POLICIES))
    parser.add_argument("--ascii", action="store_true", help="print in ASCII instead of Unicode")
    parser.add_argument("--trace", action="store_true",
                        help="run: print every step of the small-step semantics with its rule name")
    parser.add_argument("--fuel", type=positive_int, default=DEFAULT_FUEL,
                        help=f"run, grad, cost: the most evaluation steps (default {DEFAULT_FUEL:,})")
    opts = parser.parse_args(argv)
    print(run(opts))
    return 0


def run(opts: argparse.Namespace) -> str:
    typing = check_program(parse_program(read_source(opts.file)))
    names = list(typing.signatures)
    if opts.command == "check":
        return "\n".join(f"{n} : {_sig(typing, n)}" for n in names)
    name = opts.function or (names[-1] if names else None)
    if name is None:
        raise UsageError("the file defines no function")
    args = [parse_value(a) for a in opts.args]
    policy = POLICIES[opts.policy]
    if opts.command == "run":
        split = len(typing.signatures[name].params) if name in typing.signatures else len(args)
        if opts.trace:
            return trace(typing, name, args[:split], args[split:], not opts.ascii, Fuel(opts.fuel))
        nl, ln = evaluate(typing, name, args[:split], args[split:], fuel=Fuel(opts.fuel))
        return format_values(nl, ln)
    if opts.command == "grad":
        value, gradient = grad(typing, name, args, policy, fuel=Fuel(opts.fuel))
        return f"value    {value!r}\ngradient {format_values(gradient, ())}"
    if opts.command == "cost":
        return format_cost(stage_costs(typing, name, args, policy, Fuel(opts.fuel)))
    st = stages(typing, name, policy)
    return show_program(st.program(opts.stage), unicode=not opts.ascii)


def trace(typing: Typing, name: str, args: list[Value], largs: list[Value], unicode: bool,
          fuel: Fuel | None = None) -> str:
    """The call, every step ``--> [rule] term``, and the value."""
    state = start(typing, name, args, largs)
    lines = [show_state(state, unicode)]
    for s in steps(state, Fuel() if fuel is None else fuel):
        lines.append(f"--> [{s.rule}] {show_state(s.term, unicode)}")
        state = s.term
    final = value(state)
    assert final is not None, "steps ends at a value"
    lines.append(f"value {format_values(*final)}")
    return "\n".join(lines)


def _sig(typing: Typing, name: str) -> str:
    d = typing.signatures[name]
    params = ", ".join(map(str, d.param_types))
    lparams = ", ".join(map(str, d.lparam_types))
    return f"({params} ; {lparams}) → {d.result}"


if __name__ == "__main__":
    sys.exit(cli(main))
