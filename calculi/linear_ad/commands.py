"""The Linear A REPL session: define functions, then look at every stage of reverse mode.

    > def f(x: R, y: R) -> R = sin(x) * y
    f : (ℝ, ℝ ; ) → (ℝ ; )
    > :grad f 1.5 2.0
    > :unzip f recompute-all
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from calculi.core import registry
from calculi.core.errors import UsageError
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.linear_ad.ad import grad, jvp, linearize, require, stages
from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.eval import Cost, Evaluator
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.pretty import show_def, show_program
from calculi.linear_ad.primitives import FLOAT, Value
from calculi.linear_ad.syntax import FuncDef, Program
from calculi.linear_ad.transpose import transpose_program
from calculi.linear_ad.unzip import POLICIES, Policy

_CALL = re.compile(r"^\s*([A-Za-z_][\w.']*)\s*\((.*)\)\s*$", re.S)
_NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def format_values(nl: Sequence[Value], ln: Sequence[Value]) -> str:
    left = ", ".join(_fmt(v) for v in nl)
    right = ", ".join(_fmt(v) for v in ln)
    return f"({left} ; {right})" if right else f"({left})"


def _fmt(v: Value) -> str:
    if isinstance(v, tuple):
        inner = ", ".join(_fmt(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    return repr(v)


def default_args(d: FuncDef) -> list[Value]:
    return [0.5 if ty.size() == 1 and not isinstance(ty.zero(FLOAT), tuple) else ty.zero(FLOAT)
            for ty in d.param_types]


def stage_costs(typing: Typing, name: str, args: Sequence[Value] | None,
                policy: Policy) -> list[tuple[str, Cost]]:
    """The cost of f and of each stage of its reverse mode, by running them at ``args``."""
    require(typing, name)
    d = typing.signatures[name]
    if d.lparams:
        raise UsageError(f"{name} is linear; :cost measures the stages of a non-linear function")
    xs = list(args) if args else default_args(d)
    st = stages(typing, name, policy)
    rows: list[tuple[str, Cost]] = []

    def run(label: str, t: Typing, fn: str, a: Sequence[Value], la: Sequence[Value]) -> Value:
        cost = Cost()
        out = Evaluator(t, FLOAT, cost=cost).call(fn, a, la)
        rows.append((label, cost))
        return out

    run(f"{name}", typing, name, xs, [])
    tangents = [ty.zero(FLOAT) if isinstance(ty.zero(FLOAT), tuple) else 1.0 for ty in d.param_types]
    run(f"{st.jvp_fn}", st.jvp, st.jvp_fn, xs, tangents)
    nl, _ = run(f"{st.nonlin_fn}", st.unzipped, st.nonlin_fn, xs, [])
    run(f"{st.lin_fn}", st.unzipped, st.lin_fn, [nl[-1]], tangents)
    cts = [1.0 if ty.size() == 1 else ty.zero(FLOAT) for ty in d.result.nonlin]
    run(f"{st.transposed_fn}", st.transposed, st.transposed_fn, [nl[-1]], cts)
    return rows


def format_cost(rows: list[tuple[str, Cost]]) -> str:
    classes = sorted({k for _, c in rows for k, w in c.work.items() if w})
    width = max(len(label) for label, _ in rows)
    lines = [f"{'function':<{width}}  {'work':>6}  " + "  ".join(f"{k:>6}" for k in classes)]
    for label, c in rows:
        cells = "  ".join(f"{c.work.get(k, 0):>6}" for k in classes)
        lines.append(f"{label:<{width}}  {c.total:>6}  {cells}")
    return "\n".join(lines)


class Session(registry.Session[FuncDef]):
    name = "linear_ad"
    prompt = "linA> "

    def __init__(self) -> None:
        super().__init__()
        self.program = Program(())
        self.typing = check_program(self.program)
        self.ascii = False

    # -- definitions ----------------------------------------------------------------------------

    def define(self, source: Source) -> list[FuncDef]:
        new = parse_program(source, known=self.program)
        program = self.program.with_defs(new.defs)
        self.typing = check_program(program)
        self.program = program
        return list(new.defs)

    def signature(self, d: FuncDef) -> str:
        u = not self.ascii
        params = ", ".join(t.show(u) for t in d.param_types)
        lparams = ", ".join(t.show(u) for t in d.lparam_types)
        return f"{d.name} : ({params} ; {lparams}) {'→' if u else '->'} {d.result.show(u)}"

    def parse(self, source: Source) -> FuncDef:
        text = source.text.strip()
        if text in self.typing.signatures:
            return self.typing.signatures[text]
        defs = parse_program(source, known=self.program).defs
        if not defs:
            raise UsageError("expected a function name or a definition")
        return defs[-1]

    def show(self, term: FuncDef) -> str:
        return show_def(term, unicode=not self.ascii)

    def type_of(self, term: FuncDef) -> str:
        return self.signature(term)

    def evaluate(self, term: FuncDef, fuel: Fuel) -> str:
        return self.signature(term)

    def input(self, source: Source) -> str:
        if source.text.lstrip().startswith("def"):
            return "\n".join(self.signature(d) for d in self.define(source))
        return self.call(source.text)

    def load(self, source: Source) -> Iterator[str]:
        yield "\n".join(self.signature(d) for d in self.define(source))

    def call(self, text: str) -> str:
        """``f(1.5, 2.0 ; 1.0)``: evaluate a function at numbers."""
        m = _CALL.match(text)
        if not m:
            raise UsageError("enter a definition 'def f(...) -> ... = ...', a call 'f(1.5, 2.0)', "
                             "or a command (:help)")
        name, inner = m.group(1), m.group(2)
        require(self.typing, name)
        left, _, right = inner.partition(";")
        args = _numbers(left)
        largs = _numbers(right)
        nl, ln = Evaluator(self.typing, FLOAT, Fuel(self.fuel_limit)).call(name, args, largs)
        return format_values(nl, ln)

    # -- commands -------------------------------------------------------------------------------

    def _fn(self, args: str, usage: str) -> tuple[str, list[str]]:
        words = args.split()
        if not words:
            raise UsageError(f"usage: {usage}")
        require(self.typing, words[0])
        return words[0], words[1:]

    def _policy(self, words: list[str]) -> Policy:
        if not words:
            return POLICIES["save-all"]
        if words[0] not in POLICIES:
            raise UsageError(f"unknown policy {words[0]}; choose one of {', '.join(sorted(POLICIES))}")
        return POLICIES[words[0]]

    def _show(self, p: Program) -> str:
        return show_program(p, unicode=not self.ascii)

    def cmd_jvp(self, args: str) -> str:
        name, _ = self._fn(args, ":jvp f")
        return self._show(jvp(self.typing, name).program)

    def cmd_unzip(self, args: str) -> str:
        name, rest = self._fn(args, ":unzip f [save-all|recompute-all|save-sin]")
        _, u, report = linearize(self.typing, name, self._policy(rest))
        tape = ", ".join(f"{k}: {v}" for k, v in report.tape_size.items())
        recomputed = ", ".join(f"{k}: {v}" for k, v in report.recomputed_work.items())
        return self._show(u.program) + f"\n-- tape sizes: {tape}\n-- recomputed work: {recomputed}"

    def cmd_transpose(self, args: str) -> str:
        name, _ = self._fn(args, ":transpose f")
        d = self.typing.signatures[name]
        if d.lparams or d.result.lin:
            return self._show(check_program(transpose_program(self.typing, name)).program)
        return self._show(stages(self.typing, name).program("transpose"))

    def cmd_vjp(self, args: str) -> str:
        name, rest = self._fn(args, ":vjp f [policy]")
        st = stages(self.typing, name, self._policy(rest))
        nonlin = st.unzipped.signatures[st.nonlin_fn]
        return self._show(Program((nonlin,))) + "\n\n" + self._show(st.transposed.program)

    def cmd_grad(self, args: str) -> str:
        name, rest = self._fn(args, ":grad f X1 X2 ...")
        value, gradient = grad(self.typing, name, _numbers(" ".join(rest).replace(" ", ",")),
                               fuel=Fuel(self.fuel_limit))
        return f"value    {value!r}\ngradient {format_values(gradient, ())}"

    def cmd_cost(self, args: str) -> str:
        name, rest = self._fn(args, ":cost f [X1 X2 ...]")
        values = _numbers(",".join(rest)) if rest else None
        return format_cost(stage_costs(self.typing, name, values, POLICIES["save-all"]))

    def cmd_defs(self, args: str) -> str:
        return self._show(self.program) if self.program.defs else "(no functions defined)"

    def commands(self) -> Mapping[str, registry.Command]:
        return {
            "jvp": registry.Command("jvp", ":jvp f", "the JVP of f (forward mode, structurally linear)",
                                    self.cmd_jvp),
            "unzip": registry.Command("unzip", ":unzip f [policy]",
                                      "linearize f: its non-linear and linear halves (policy: save-all, "
                                      "recompute-all, save-sin)", self.cmd_unzip),
            "transpose": registry.Command("transpose", ":transpose f",
                                          "transpose a linear f (or the linear half of f's JVP)",
                                          self.cmd_transpose),
            "vjp": registry.Command("vjp", ":vjp f [policy]", "f's forward half and its transposed pullback",
                                    self.cmd_vjp),
            "grad": registry.Command("grad", ":grad f X1 X2 ...", "value and gradient of f at a point",
                                     self.cmd_grad),
            "cost": registry.Command("cost", ":cost f [X1 ...]", "work per operation class of each stage",
                                     self.cmd_cost),
            "defs": registry.Command("defs", ":defs", "print every function defined so far", self.cmd_defs),
        }

    def settings(self) -> Mapping[str, Any]:
        def set_ascii(value: str) -> str:
            self.ascii = value.strip().lower() in ("1", "on", "true", "yes", "ascii")
            return f"ascii {'on' if self.ascii else 'off'}"

        return {"ascii": set_ascii}


def _numbers(text: str) -> list[Value]:
    out: list[Value] = []
    for part in text.replace(",", " ").split():
        if not _NUMBER.match(part):
            raise UsageError(f"not a number: {part}")
        out.append(float(part))
    return out


__all__ = ["Counter", "Session", "format_cost", "format_values", "stage_costs"]
