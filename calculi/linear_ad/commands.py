"""The Linear A REPL session: define functions, then look at every stage of reverse mode.

    > def f(x: R, y: R) -> R = sin(x) * y
    f : (ℝ, ℝ ; ) → (ℝ ; )
    > :grad f 1.5 2.0
    > :unzip f recompute-all
    > :trace f 1.5 2.0              (the small-step semantics, one named rule per line)
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from calculi.core import registry
from calculi.core.errors import ParseError, UnboundError, UsageError
from calculi.core.syntax import Source, Span
from calculi.core.trace import Fuel, Step, run_steps
from calculi.linear_ad.ad import grad, jvp, linearize, require, stages
from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.eval import Cost, Evaluator
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.pretty import show_def, show_program
from calculi.linear_ad.primitives import FLOAT, Value
from calculi.linear_ad.semantics import State, show_mixed, show_state, start
from calculi.linear_ad.semantics import run as run_semantics
from calculi.linear_ad.semantics import step as step_semantics
from calculi.linear_ad.syntax import FuncDef, Program
from calculi.linear_ad.transpose import transpose_program
from calculi.linear_ad.unzip import POLICIES, Policy

_CALL = re.compile(r"^\s*([A-Za-z_][\w.']*)\s*\((.*)\)\s*$", re.S)
_NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_TOKEN = re.compile(r"\s*(?:(?P<num>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<name>[A-Za-z_][\w.']*)"
                    r"|(?P<punct>[(),;]))")


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


class CallParser:
    """``f 1.5 2.0 ; 1.0`` or ``f(1.5, (2.0, 3.0) ; 1.0)``: a call of a function at values, with spans.

        call  ::= NAME values [";" values]  |  NAME "(" values [";" values] ")"
        value ::= NUMBER | "(" value ("," value)* [","] ")"
    """

    def __init__(self, source: Source) -> None:
        self.source = source
        self.tokens: list[tuple[str, str, int, int]] = []
        text, pos = source.text, 0
        while text[pos:].strip():
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                at = len(text) - len(text[pos:].lstrip())
                raise ParseError(f"unexpected {text[at]!r} in a call; write f 1.5 2.0 or f(1.5, 2.0)",
                                 source.span(at))
            kind = m.lastgroup or "punct"
            self.tokens.append((kind, m.group(kind), m.start(kind), m.end(kind)))
            pos = m.end()
        self.i = 0

    def peek(self) -> tuple[str, str, int, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def at_end(self) -> Span:
        end = len(self.source.text.rstrip())
        return self.source.span(max(0, end - 1), max(1, end))

    def expect(self, text: str) -> None:
        tok = self.peek()
        if tok is None or tok[1] != text:
            where = self.source.span(tok[2], tok[3]) if tok else self.at_end()
            raise ParseError(f"expected {text!r}", where)
        self.i += 1

    def value(self) -> Value:
        tok = self.peek()
        if tok is not None and tok[0] == "num":
            self.i += 1
            return float(tok[1])
        if tok is not None and tok[1] == "(":
            self.i += 1
            items = [self.value()]
            while (nxt := self.peek()) is not None and nxt[1] == ",":
                self.i += 1
                if (after := self.peek()) is not None and after[1] == ")":
                    break
                items.append(self.value())
            self.expect(")")
            return tuple(items)
        where = self.source.span(tok[2], tok[3]) if tok else self.at_end()
        raise ParseError("expected a number or a tuple of numbers", where)

    def values(self, closing: str | None) -> list[Value]:
        out: list[Value] = []
        while (tok := self.peek()) is not None and tok[1] not in (";", closing):
            out.append(self.value())
            if (nxt := self.peek()) is not None and nxt[1] == ",":
                self.i += 1
        return out

    def call(self) -> tuple[str, Span, list[Value], list[Value], Span]:
        """The function's name and span, its non-linear and linear arguments, and their span."""
        tok = self.peek()
        if tok is None or tok[0] != "name":
            raise ParseError("expected a call: a function name, then its arguments",
                             self.source.span(tok[2], tok[3]) if tok else self.at_end())
        self.i += 1
        name_span = self.source.span(tok[2], tok[3])
        nxt = self.peek()
        closing = ")" if nxt is not None and nxt[1] == "(" and nxt[2] == tok[3] else None
        if closing:
            self.i += 1
        first = self.peek()
        args = self.values(closing)
        largs: list[Value] = []
        if (semi := self.peek()) is not None and semi[1] == ";":
            self.i += 1
            largs = self.values(closing)
        if closing:
            self.expect(")")
        if (extra := self.peek()) is not None:
            raise ParseError(f"unexpected {extra[1]!r} after the call", self.source.span(extra[2], extra[3]))
        start_at = first[2] if first is not None else tok[3]
        end = self.tokens[-1][3] if self.tokens else tok[3]
        args_span = self.source.span(start_at, end) if end > start_at else self.at_end()
        return tok[1], name_span, args, largs, args_span


Term = FuncDef | State


class Session(registry.Session[Term]):
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

    def parse(self, source: Source) -> Term:
        text = source.text.strip()
        if text in self.typing.signatures:
            return self.typing.signatures[text]
        defs = parse_program(source, known=self.program).defs
        if not defs:
            raise UsageError("expected a function name or a definition")
        return defs[-1]

    def show(self, term: Term) -> str:
        if isinstance(term, State):
            return show_state(term, unicode=not self.ascii)
        return show_def(term, unicode=not self.ascii)

    def type_of(self, term: Term) -> str:
        if isinstance(term, State):
            return term.result.show(not self.ascii)
        return self.signature(term)

    def evaluate(self, term: Term, fuel: Fuel) -> str:
        if isinstance(term, State):
            return show_mixed(run_semantics(term, fuel)[0], unicode=not self.ascii)
        return self.signature(term)

    # -- the small-step semantics: :step f 1.5 2.0 and :trace f 1.5 2.0 ----------------------------

    def start(self, source: Source) -> State:
        """The closed term ``f(v̄ ; v̇̄)`` of a call written ``f 1.5 2.0 ; 1.0`` or ``f(1.5, 2.0 ; 1.0)``."""
        name, name_span, args, largs, args_span = CallParser(source).call()
        d = self.typing.signatures.get(name)
        if d is None:
            known = ", ".join(self.typing.signatures) or "none yet"
            raise UnboundError(f"no function named {name} (defined: {known})", name_span)
        if len(args) != len(d.params) or len(largs) != len(d.lparams):
            raise UsageError(f"{name} takes {len(d.params)} non-linear and {len(d.lparams)} linear "
                             f"arguments, got {len(args)} ; {len(largs)}", args_span)
        return start(self.typing, name, args, largs, FLOAT, args_span)

    def step(self, term: Term) -> Step[Term] | None:
        if isinstance(term, FuncDef):
            raise UsageError(f"give a call to step: :step {term.name} X1 X2 ...")
        nxt = step_semantics(term)
        return None if nxt is None else Step(nxt.rule, nxt.term)

    def step_once(self, source: Source | None) -> str:
        """``:step f 1.5 2.0`` starts stepping the call; ``:step`` alone takes the next step."""
        if source is None:
            return super().step_once(None)
        self.stepping = self.start(source)
        return self.show(self.stepping)

    def trace(self, source: Source) -> Iterator[str]:
        """Every step of the call to its value, each labelled with its rule."""
        state = self.start(source)
        yield self.show(state)
        for nxt in run_steps(step_semantics, state, Fuel(self.fuel_limit), lambda s: s.term.span):
            yield f"--> [{nxt.rule}] {self.show(nxt.term)}"

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
