"""``python -m calculi.linear_ad COMMAND FILE ...``

    run FILE [f] [ARGS...] [--trace]       evaluate f (default: the last function) at ARGS; --trace prints
                                           each step of the small-step semantics with its rule name
    check FILE                             type-check and print each function's type
    grad FILE f ARGS...                    the value and the gradient (reverse mode: T ∘ U ∘ J)
    show FILE f --stage jvp|unzip|transpose [--policy save-all|recompute-all|save-sin] [--ascii]
    cost FILE f ARGS...                    work per operation class of f and of each stage
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

from calculi.core.errors import CalculusError, UsageError
from calculi.core.trace import Fuel
from calculi.linear_ad.ad import grad, load, stages
from calculi.linear_ad.check import Typing
from calculi.linear_ad.commands import format_cost, format_values, stage_costs
from calculi.linear_ad.eval import evaluate
from calculi.linear_ad.pretty import show_program
from calculi.linear_ad.primitives import Value
from calculi.linear_ad.semantics import show_state, start, steps, value
from calculi.linear_ad.unzip import POLICIES


def parse_value(text: str) -> Value:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise UsageError(f"not a number or tuple of numbers: {text}") from None
    return _floats(value, text)


def _floats(value: object, text: str) -> Value:
    if isinstance(value, tuple):
        return tuple(_floats(v, text) for v in value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise UsageError(f"not a number or tuple of numbers: {text}")


def main(argv: list[str] | None = None) -> int:
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
    opts = parser.parse_args(argv)
    try:
        print(run(opts))
    except CalculusError as err:
        print(err.render(), file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except RecursionError:
        print("error: input nested too deeply; bind sub-expressions with let", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"cannot read {opts.file}: {err.strerror}", file=sys.stderr)
        return 1
    return 0


def run(opts: argparse.Namespace) -> str:
    typing = load(Path(opts.file).read_text(encoding="utf-8"), opts.file)
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
            return trace(typing, name, args[:split], args[split:], not opts.ascii)
        nl, ln = evaluate(typing, name, args[:split], args[split:])
        return format_values(nl, ln)
    if opts.command == "grad":
        value, gradient = grad(typing, name, args, policy)
        return f"value    {value!r}\ngradient {format_values(gradient, ())}"
    if opts.command == "cost":
        return format_cost(stage_costs(typing, name, args, policy))
    st = stages(typing, name, policy)
    return show_program(st.program(opts.stage), unicode=not opts.ascii)


def trace(typing: Typing, name: str, args: list[Value], largs: list[Value], unicode: bool) -> str:
    """The call, every step ``--> [rule] term``, and the value."""
    state = start(typing, name, args, largs)
    lines = [show_state(state, unicode)]
    for s in steps(state, Fuel()):
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
    sys.exit(main())
