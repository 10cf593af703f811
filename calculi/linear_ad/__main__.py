"""``python -m calculi.linear_ad COMMAND FILE ...``

    run FILE [f] [ARGS...] [--trace]       evaluate f (default: the last function) at ARGS; --trace prints
                                           each step of the small-step semantics with its rule name
    check FILE                             type-check and print each function's type
    grad FILE f ARGS... [--wrt 1,3]        the value and the gradient (reverse mode: T ∘ U ∘ J); --wrt
                                           keeps the arguments listed, counted from 1
    jvp FILE f ARGS... --tangent V...      forward mode: f's results and their tangents, one V per argument
    vjp FILE f ARGS... --cotangent C...    reverse mode: f's results and the cotangents of its arguments,
                                           one C per result
    hvp FILE f X... V...                   the Hessian-vector product H(x)·v of an f of ℝ arguments with
                                           one ℝ result (forward over reverse: J of the embedded gradient)
    hessian FILE f X...                    the Hessian H(x), one row per line
    show FILE f --stage source|jvp|unzip|transpose [--policy POLICY] [--ascii]
                                           a stage of f's reverse mode; a linear f (one with linear
                                           parameters or results) is transposed as written; --stage
                                           grad|dir|hvp|fof|rof prints a second-order program
    cost FILE f ARGS...                    work per operation class of f and of each stage

ARGS, V and C are numbers or tuples of numbers: ``1.5``, ``-1e-3`` or ``"(1.0, 2.0)"``, each of the type
of its parameter (a tangent's) or result (a cotangent's). ``--fuel N`` bounds the steps of ``run``,
``grad``, ``jvp``, ``vjp`` and ``cost``. Bad input of any kind prints one located error, and the exit
status is 1.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from calculi.core.errors import UsageError
from calculi.core.files import cli, positive_int, read_source
from calculi.core.syntax import Source, Span
from calculi.core.trace import DEFAULT_FUEL, Fuel
from calculi.linear_ad.types import REAL, Type
from calculi.linear_ad.values import format_value, format_values, ones, positions

# The passes, the parser (lark) and the domains (numpy) are imported inside the commands that use
# them, a deliberately lazy start-up: ``--help`` loads none of them.
if TYPE_CHECKING:
    from calculi.linear_ad.check import Typing
    from calculi.linear_ad.primitives import Value
    from calculi.linear_ad.syntax import FuncDef
    from calculi.linear_ad.unzip import Policy

PROG = "python -m calculi.linear_ad"
_NEGATIVE = re.compile(r"-[\d.]")
"""A word that starts like a negative number (``-3``, ``-1e-3``, ``-1.``, ``-.5``) is a value: no
option starts so."""
_MARK = " "
_TAKES_ONE = {"--fuel", "--stage", "--policy", "--wrt"}


def _policies() -> dict[str, Policy]:
    from calculi.linear_ad.unzip import POLICIES  # lazy start-up

    return dict(POLICIES)


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "check", "grad", "jvp", "vjp", "show", "cost", "hvp",
                                                         "hessian"])
    parser.add_argument("file")
    parser.add_argument("function", nargs="?")
    parser.add_argument("args", nargs="*", metavar="ARG", default=[])
    parser.add_argument("--tangent", nargs="+", metavar="V",
                        help="jvp: a tangent per argument, of its argument's type")
    parser.add_argument("--cotangent", nargs="+", metavar="C",
                        help="vjp: a cotangent per result, of its result's type")
    parser.add_argument("--wrt", metavar="I,J,...",
                        help="grad: differentiate with respect to these arguments only, counted from 1 "
                             "(default: all), the gradient in this order")
    parser.add_argument("--stage", default="transpose",
                        choices=["source", "jvp", "unzip", "transpose", "grad", "dir", "hvp", "fof", "rof"])
    parser.add_argument("--policy", default="save-all", metavar="POLICY",
                        help="show, grad, vjp, cost: what unzip saves on the tape (default save-all; "
                             "an unknown name lists them)")
    parser.add_argument("--ascii", action="store_true", help="print in ASCII instead of Unicode")
    parser.add_argument("--trace", action="store_true",
                        help="run: print every step of the small-step semantics with its rule name")
    parser.add_argument("--fuel", type=positive_int, default=DEFAULT_FUEL,
                        help=f"run, grad, jvp, vjp, cost: the most evaluation steps "
                             f"(default {DEFAULT_FUEL:,})")
    return parser


def protect_numbers(argv: Sequence[str]) -> list[str]:
    """argparse takes ``-1e-3`` and ``-1.`` for options: mark each word that starts like a negative
    number so that it stays a value (after ``--fuel`` and the like, join it to the option: ``--fuel=-1``)."""
    out: list[str] = []
    for a in argv:
        if _NEGATIVE.match(a) and out and out[-1] in _TAKES_ONE:
            out[-1] += "=" + a
        else:
            out.append(_MARK + a if _NEGATIVE.match(a) else a)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argument_parser()
    opts = parser.parse_args(protect_numbers(sys.argv[1:] if argv is None else argv))
    opts.file = opts.file.removeprefix(_MARK) if opts.file.startswith(_MARK + "-") else opts.file
    if opts.policy != "save-all" and opts.policy not in _policies():
        parser.error(f"argument --policy: invalid choice: {opts.policy!r} (choose from "
                     f"{', '.join(sorted(_policies()))})")
    print(run(opts))
    return 0


Located = tuple["Value", Span, str]
"""A value read from the command line, the span of its text, and the text."""


def parse_value(text: str, what: str = "argument") -> Located:
    """A number or a tuple of numbers (an error points into it)."""
    from calculi.linear_ad.calls import CallParser  # lazy start-up

    text = text.removeprefix(_MARK) if text.startswith(_MARK + "-") else text
    source = Source(text, f"<{what}>")
    return CallParser(source).argument(), source.span(0, max(1, len(text))), text


def run(opts: argparse.Namespace) -> str:
    from calculi.linear_ad.check import check_program  # lazy start-up
    from calculi.linear_ad.parse import parse_program

    for option, command in (("tangent", "jvp"), ("cotangent", "vjp"), ("wrt", "grad")):
        if getattr(opts, option) is not None and opts.command != command:
            raise UsageError(f"--{option} is for {command}, not {opts.command}")
    typing = check_program(parse_program(read_source(opts.file)))
    names = list(typing.signatures)
    if opts.command == "check":
        return "\n".join(f"{n} : {_sig(typing, n)}" for n in names)
    if opts.function is not None and opts.function.lstrip(_MARK)[:1] in (*"-.(", *"0123456789"):
        opts.args, opts.function = [opts.function, *opts.args], None  # ``run FILE 1.5``: the last function
    name = opts.function or (names[-1] if names else None)
    if name is None:
        raise UsageError("the file defines no function")
    if name not in typing.signatures:
        raise UsageError(f"no function named {name} (defined: {', '.join(names)})")
    return COMMANDS[opts.command](opts, typing, name)


def _run(opts: argparse.Namespace, typing: Typing, name: str) -> str:
    from calculi.linear_ad.eval import evaluate  # lazy start-up

    d = typing.signatures[name]
    args = _fit([parse_value(a) for a in opts.args], [*d.param_types, *d.lparam_types], d, "argument")
    split = len(d.params)
    if opts.trace:
        return trace(typing, name, args[:split], args[split:], not opts.ascii, Fuel(opts.fuel))
    nl, ln = evaluate(typing, name, args[:split], args[split:], fuel=Fuel(opts.fuel))
    return format_values(nl, ln)


def _grad(opts: argparse.Namespace, typing: Typing, name: str) -> str:
    from calculi.linear_ad.ad import grad  # lazy start-up

    d = _nonlinear(opts, typing, name)
    if d.result.nonlin != (REAL,):
        raise UsageError(f"grad needs a function with one ℝ result; {name} returns {d.result}. For the "
                         "cotangents of its arguments, give a cotangent per result to vjp:\n  "
                         + _suggest(opts, name, "vjp", "--cotangent", d.result.nonlin)
                         + "\nor for the tangents of its results, a tangent per argument to jvp:\n  "
                         + _suggest(opts, name, "jvp", "--tangent", d.param_types))
    wrt = None if opts.wrt is None else positions(Source(opts.wrt, "--wrt"), 0, name, len(d.params))
    args = _fit([parse_value(a) for a in opts.args], d.param_types, d, "argument")
    value, gradient = grad(typing, name, args, _policy(opts), fuel=Fuel(opts.fuel))
    kept = gradient if wrt is None else tuple(gradient[i] for i in wrt)
    return f"value    {value!r}\ngradient {format_values(kept, ())}"


def _jvp(opts: argparse.Namespace, typing: Typing, name: str) -> str:
    from calculi.linear_ad.ad import jvp_values  # lazy start-up

    d = _nonlinear(opts, typing, name)
    args = _fit([parse_value(a) for a in opts.args], d.param_types, d, "argument")
    tangents = _fit([parse_value(t, "tangent") for t in opts.tangent or []],
                    [ty.tangent() for ty in d.param_types], d, "tangent")
    values, out = jvp_values(typing, name, args, tangents, fuel=Fuel(opts.fuel))
    return f"value    {format_values(values, ())}\ntangent  {format_values(out, ())}"


def _vjp(opts: argparse.Namespace, typing: Typing, name: str) -> str:
    from calculi.linear_ad.ad import vjp_values  # lazy start-up

    d = _nonlinear(opts, typing, name)
    args = _fit([parse_value(a) for a in opts.args], d.param_types, d, "argument")
    cotangents = _fit([parse_value(c, "cotangent") for c in opts.cotangent or []],
                      [ty.tangent() for ty in d.result.nonlin], d, "cotangent")
    values, out = vjp_values(typing, name, args, cotangents, _policy(opts), fuel=Fuel(opts.fuel))
    return f"value     {format_values(values, ())}\ncotangent {format_values(out, ())}"


def _show(opts: argparse.Namespace, typing: Typing, name: str) -> str:
    from calculi.linear_ad.ad import stages  # lazy start-up
    from calculi.linear_ad.check import check_program
    from calculi.linear_ad.pretty import show_program
    from calculi.linear_ad.transpose import is_linear_function, transpose_program

    d = typing.signatures[name]
    if opts.stage in SECOND_ORDER_STAGES:
        from calculi.linear_ad.second_order import second_order

        program = second_order(typing, name, _policy(opts)).program(opts.stage)
    elif opts.stage == "source":
        program = typing.program
    elif is_linear_function(d):
        if opts.stage != "transpose":
            raise UsageError(f"{name} is linear (it has linear parameters or results): --stage {opts.stage} "
                             "applies to non-linear functions; --stage transpose transposes it as written")
        program = check_program(transpose_program(typing, name)).program
    else:
        program = stages(typing, name, _policy(opts)).program(opts.stage)
    return show_program(program, unicode=not opts.ascii)


def _cost(opts: argparse.Namespace, typing: Typing, name: str) -> str:
    from calculi.linear_ad.commands import format_cost, stage_costs  # lazy start-up

    d = typing.signatures[name]
    args = _fit([parse_value(a) for a in opts.args], d.param_types, d, "argument") if opts.args else []
    return format_cost(stage_costs(typing, name, args, _policy(opts), Fuel(opts.fuel)))


def _hvp(opts: argparse.Namespace, typing: Typing, name: str) -> str:
    from calculi.linear_ad.second_order import hvp_text  # lazy start-up

    d = _nonlinear(opts, typing, name)
    n = len(d.params)
    given = [parse_value(a) for a in opts.args]
    if len(given) != 2 * n:
        raise UsageError(f"hvp {name} takes {n} arguments and then {n} direction components; "
                         f"got {len(given)}",
                         given[2 * n][1] if len(given) > 2 * n else None)
    x = _fit(given[:n], d.param_types, d, "argument")
    v = _fit(given[n:], d.param_types, d, "direction")
    return hvp_text(typing, name, x, v, _policy(opts))


def _hessian(opts: argparse.Namespace, typing: Typing, name: str) -> str:
    from calculi.linear_ad.second_order import hessian_text  # lazy start-up

    d = _nonlinear(opts, typing, name)
    x = _fit([parse_value(a) for a in opts.args], d.param_types, d, "argument")
    return hessian_text(typing, name, x, _policy(opts))


SECOND_ORDER_STAGES = ("grad", "dir", "hvp", "fof", "rof")
COMMANDS: dict[str, Callable[[argparse.Namespace, Typing, str], str]] = {
    "run": _run, "grad": _grad, "jvp": _jvp, "vjp": _vjp, "show": _show, "cost": _cost, "hvp": _hvp,
    "hessian": _hessian,
}


def _policy(opts: argparse.Namespace) -> Policy:
    return _policies()[opts.policy]


def _nonlinear(opts: argparse.Namespace, typing: Typing, name: str) -> FuncDef:
    d = typing.signatures[name]
    if d.lparams or d.result.lin:
        raise UsageError(f"{opts.command} differentiates non-linear functions; {name} has linear parameters "
                         f"or results (its transpose: {PROG} show {shlex.quote(opts.file)} {name} --stage "
                         "transpose)")
    return d


def _fit(given: list[Located], types: Sequence[Type], d: FuncDef, what: str) -> list[Value]:
    """The values, if there are as many as ``types`` and each has its type (else an error at it)."""
    from calculi.linear_ad.eval import conforms  # lazy start-up

    per = "result" if what == "cotangent" else "argument"
    if per == "argument":
        names = [b.hint for b in (*d.params, *d.lparams)][:len(types)]
    else:
        names = [f"result {i + 1}" for i in range(len(types))]
    wanted = ", ".join(f"{n}: {ty}" for n, ty in zip(names, types, strict=True)) or "none"
    if len(given) != len(types):
        option = {"tangent": " (--tangent V...)", "cotangent": " (--cotangent C...)"}.get(what, "")
        count = (f"{len(d.params)} non-linear and {len(d.lparams)} linear arguments" if what == "argument"
                 else f"{len(types)} {what}{'s' if len(types) != 1 else ''}{option}, one per {per}")
        reason = f"{d.name} takes {count} ({wanted}); got {len(given)}"
        raise UsageError(reason, given[len(types)][1] if len(given) > len(types) else None)
    for i, ((value, span, text), ty, n) in enumerate(zip(given, types, names, strict=True)):
        if not conforms(value, ty):
            of = f" (for {n})" if per == "argument" and what != "argument" else ""
            raise UsageError(f"{what} {i + 1} of {d.name}{of} should be of type {ty}, got {text}", span)
    return [value for value, _, _ in given]


def _suggest(opts: argparse.Namespace, name: str, command: str, option: str, types: Sequence[Type]) -> str:
    """The command line that does what ``grad`` cannot, with a value of ones for each given type."""
    words = [command, opts.file, name, *(a.removeprefix(_MARK) for a in opts.args),
             *([option] if types else []), *(format_value(ones(ty)) for ty in types)]
    return " ".join([PROG, *(shlex.quote(w) for w in words)])


def trace(typing: Typing, name: str, args: list[Value], largs: list[Value], unicode: bool,
          fuel: Fuel | None = None) -> str:
    """The call, every step ``--> [rule] term``, and the value."""
    from calculi.linear_ad.semantics import show_state, start, steps, value  # lazy start-up

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
