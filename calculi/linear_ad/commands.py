"""The Linear A REPL session: define functions, then look at every stage of reverse mode.

    > def f(x: R, y: R) -> R = sin(x) * y
    f : (ℝ, ℝ ; ) → (ℝ ; )
    > :grad f 1.5 2.0
    > :jvp f 1.5 2.0 ; 1.0 0.0      (forward mode at a point: the results and their tangents)
    > :vjp f 1.5 2.0 ; 1.0          (reverse mode: the results and the cotangents of the arguments)
    > :hessian f 1.5 2.0            (the Hessian, one row per line; :hvp f 1.5 2.0 ; 1.0 0.0 for H·v)
    > :unzip f recompute-all
    > :trace f 1.5 2.0              (the small-step semantics, one named rule per line)
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from calculi.core import registry
from calculi.core.errors import UnboundError, UsageError
from calculi.core.syntax import Source, Span
from calculi.core.trace import Fuel, Step, run_steps
from calculi.linear_ad.ad import grad, jvp, jvp_values, linearize, require, stages, vjp_values
from calculi.linear_ad.calls import CallParser, CallText
from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.eval import Cost, Evaluator, conforms
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.pretty import show_def, show_program
from calculi.linear_ad.primitives import FLOAT, Value
from calculi.linear_ad.second_order import hessian_text, hvp_text
from calculi.linear_ad.semantics import State, show_mixed, show_state, start
from calculi.linear_ad.semantics import run as run_semantics
from calculi.linear_ad.semantics import step as step_semantics
from calculi.linear_ad.syntax import FuncDef, Program
from calculi.linear_ad.transpose import transpose_program
from calculi.linear_ad.types import REAL, Mixed, Type
from calculi.linear_ad.unzip import POLICIES, Policy
from calculi.linear_ad.values import format_value, format_values, ones, positions

_COMMENTS = r"(?:\s*(?:#|--)[^\n]*(?:\n|$))*\s*"
_DEF = re.compile(_COMMENTS + r"def\b")
_BLANK = re.compile(_COMMENTS)
_NAME = re.compile(r"[^\W\d][\w.'\u0300-\u036f]*")


def default_args(d: FuncDef) -> list[Value]:
    return [0.5 if ty.size() == 1 and not isinstance(ty.zero(FLOAT), tuple) else ty.zero(FLOAT)
            for ty in d.param_types]


def stage_costs(typing: Typing, name: str, args: Sequence[Value] | None,
                policy: Policy, fuel: Fuel | None = None) -> list[tuple[str, Cost]]:
    """The cost of f and of each stage of its reverse mode, by running them at ``args`` (with
    ``fuel`` steps for all the runs together)."""
    require(typing, name)
    d = typing.signatures[name]
    if d.lparams:
        raise UsageError(f"{name} is linear; :cost measures the stages of a non-linear function")
    xs = list(args) if args else default_args(d)
    st = stages(typing, name, policy)
    rows: list[tuple[str, Cost]] = []

    def run(label: str, t: Typing, fn: str, a: Sequence[Value], la: Sequence[Value]) -> Value:
        cost = Cost()
        out = Evaluator(t, FLOAT, fuel, cost=cost).call(fn, a, la)
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
        if _NAME.fullmatch(text):
            raise self.unknown(text, source.span(len(source.text) - len(source.text.lstrip()),
                                                 len(source.text.rstrip())))
        defs = parse_program(source, known=self.program).defs
        if not defs:
            raise UsageError("expected a function name or a definition", source.span(0, len(source.text)))
        return defs[-1]

    def known(self, name: str, span: Span) -> None:
        """Raise unless ``name`` is a function defined so far."""
        if name not in self.typing.signatures:
            raise self.unknown(name, span)

    def unknown(self, name: str, span: Span | None) -> UnboundError:
        known = ", ".join(self.typing.signatures) or "none yet"
        return UnboundError(f"no function named {name} (defined: {known})", span)

    def names(self) -> Iterable[str]:
        """The functions defined so far (tab completion offers them)."""
        return list(self.typing.signatures)

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
        c = self.read_call(source)
        return start(self.typing, c.name, c.args, c.largs, FLOAT, c.args_span)

    def read_call(self, source: Source, what: str = "a call: a function name, then its arguments"
                  ) -> CallText:
        """A call of a defined function, with as many values as it takes (each error located)."""
        c = CallParser(source).call(what, self.known)
        Evaluator(self.typing, FLOAT).check_arguments(c.name, c.args, c.largs, c.args_span)
        return c

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
        if _BLANK.fullmatch(source.text):
            return ""
        if _DEF.match(source.text):
            return "\n".join(self.signature(d) for d in self.define(source))
        return self.call(source)

    def load(self, source: Source) -> Iterator[str]:
        yield "\n".join(self.signature(d) for d in self.define(source))

    def call(self, source: Source) -> str:
        """``f 1.5 2.0 ; 1.0`` or ``f(1.5, 2.0 ; 1.0)``: evaluate a function at numbers."""
        c = self.read_call(source, "a definition 'def f(...) -> ... = ...', a call 'f(1.5, 2.0)', or a "
                                   "command (:help)")
        nl, ln = Evaluator(self.typing, FLOAT, Fuel(self.fuel_limit)).call(c.name, c.args, c.largs)
        return format_values(nl, ln)

    # -- commands -------------------------------------------------------------------------------

    def _fn(self, args: str, usage: str) -> tuple[str, list[tuple[str, Span]]]:
        """The function named by the first word of a command's arguments (an error points at it),
        and the other words with their spans."""
        source = Source(args, "<input>")
        words = [(m.group(), source.span(m.start(), m.end())) for m in re.finditer(r"\S+", args)]
        if not words:
            raise UsageError(f"usage: {usage}")
        name, span = words[0]
        if name not in self.typing.signatures:
            raise self.unknown(name, span)
        return name, words[1:]

    def _policy(self, words: list[tuple[str, Span]]) -> Policy:
        if not words:
            return POLICIES["save-all"]
        word, span = words[0]
        if word not in POLICIES:
            raise UsageError(f"unknown policy {word}; choose one of {', '.join(sorted(POLICIES))}", span)
        if len(words) > 1:
            raise UsageError(f"unexpected {words[1][0]} after the policy", words[1][1])
        return POLICIES[word]

    def _only(self, words: list[tuple[str, Span]], usage: str) -> None:
        if words:
            raise UsageError(f"unexpected {words[0][0]}; usage: {usage}", words[0][1])

    def _show(self, p: Program) -> str:
        return show_program(p, unicode=not self.ascii)

    def cmd_jvp(self, args: str) -> str:
        usage = ":jvp f [X1 X2 ... ; V1 V2 ...]"
        name, rest = self._fn(args, usage)
        if not rest or rest[0][0][0].isalpha():
            self._only(rest, usage)
            return self._show(jvp(self.typing, name).program)
        c = self._point(args, usage, "tangent", lambda d: [ty.tangent() for ty in d.param_types])
        values, out = jvp_values(self.typing, c.name, c.args, c.largs, fuel=Fuel(self.fuel_limit))
        return f"value    {format_values(values, ())}\ntangent  {format_values(out, ())}"

    def cmd_unzip(self, args: str) -> str:
        name, rest = self._fn(args, f":unzip f [{'|'.join(sorted(POLICIES))}]")
        _, u, report = linearize(self.typing, name, self._policy(rest))
        tape = ", ".join(f"{k}: {v}" for k, v in report.tape_size.items())
        recomputed = ", ".join(f"{k}: {v}" for k, v in report.recomputed_work.items())
        return self._show(u.program) + f"\n-- tape sizes: {tape}\n-- recomputed work: {recomputed}"

    def cmd_transpose(self, args: str) -> str:
        name, rest = self._fn(args, ":transpose f")
        self._only(rest, ":transpose f")
        d = self.typing.signatures[name]
        if d.lparams or d.result.lin:
            return self._show(check_program(transpose_program(self.typing, name)).program)
        return self._show(stages(self.typing, name).program("transpose"))

    def cmd_vjp(self, args: str) -> str:
        usage = ":vjp f [policy]  or  :vjp f X1 X2 ... ; C1 C2 ..."
        name, rest = self._fn(args, usage)
        if rest and not rest[0][0][0].isalpha():
            c = self._point(args, usage, "cotangent", lambda d: [ty.tangent() for ty in d.result.nonlin])
            values, out = vjp_values(self.typing, c.name, c.args, c.largs, fuel=Fuel(self.fuel_limit))
            return f"value     {format_values(values, ())}\ncotangent {format_values(out, ())}"
        st = stages(self.typing, name, self._policy(rest))
        nonlin = st.unzipped.signatures[st.nonlin_fn]
        return self._show(Program((nonlin,))) + "\n\n" + self._show(st.transposed.program)

    def cmd_grad(self, args: str) -> str:
        """``:grad f X1 X2 …`` and ``:grad f X1 X2 … --wrt 1,3`` (positions counted from 1)."""
        wrt = re.search(r"\s--wrt(?:\s+|=)(?=\S)", args)
        c = self._values(args[:wrt.start()] if wrt else args, ":grad f X1 X2 ... [--wrt 1,3]",
                         lambda d: bool(d.lparams or d.result.lin),
                         "grad needs a function with one ℝ result; {f} returns {result} and is linear "
                         "(:transpose {f} transposes it)")
        d = self.typing.signatures[c.name]
        if d.result != Mixed((REAL,), ()):
            point = " ".join(format_value(v) for v in c.args)
            cts = " ".join(format_value(ones(t)) for t in d.result.nonlin)
            ts = " ".join(format_value(ones(t)) for t in d.param_types)
            raise UsageError(f"grad needs a function with one ℝ result; {c.name} returns {d.result}: try  "
                             f":vjp {c.name} {point} ; {cts}  (a cotangent per result: the cotangents of the "
                             f"arguments) or  :jvp {c.name} {point} ; {ts}  (a tangent per argument: the "
                             "tangents of the results)", c.name_span)
        kept = None if wrt is None else positions(Source(args, "<input>"), wrt.end(), c.name, len(d.params))
        value, gradient = grad(self.typing, c.name, c.args, fuel=Fuel(self.fuel_limit))
        gradient = gradient if kept is None else tuple(gradient[i] for i in kept)
        return f"value    {value!r}\ngradient {format_values(gradient, ())}"

    def _second(self, c: CallText) -> None:
        d = self.typing.signatures[c.name]
        if d.result != Mixed((REAL,), ()) or any(t != REAL for t in d.param_types):
            raise UsageError(f"second-order derivatives need a function of ℝ arguments with one ℝ result; "
                             f"{c.name} returns {d.result}", c.name_span)

    def cmd_hessian(self, args: str) -> str:
        """``:hessian f X1 X2 …``: H(x), one row per line."""
        c = self._values(args, ":hessian f X1 X2 ...", lambda d: bool(d.lparams or d.result.lin),
                         "{f} is linear; :hessian differentiates a non-linear function twice")
        self._second(c)
        return hessian_text(self.typing, c.name, c.args)

    def cmd_hvp(self, args: str) -> str:
        """``:hvp f X1 X2 … ; V1 V2 …``: the value, the gradient and H(x)·v."""
        usage = ":hvp f X1 X2 ... ; V1 V2 ..."
        c = self._point(args, usage, "direction component", lambda d: list(d.param_types))
        self._second(c)
        return hvp_text(self.typing, c.name, c.args, c.largs)

    def cmd_cost(self, args: str) -> str:
        c = self._values(args, ":cost f [X1 X2 ...]", lambda d: bool(d.lparams),
                         "{f} is linear; :cost measures the stages of a non-linear function", optional=True)
        return format_cost(stage_costs(self.typing, c.name, c.args or None, POLICIES["save-all"],
                                       Fuel(self.fuel_limit)))

    def _values(self, args: str, usage: str, unfit: Callable[[FuncDef], bool], why: str,
                optional: bool = False) -> CallText:
        """``f X1 X2 …``: a function that is not ``unfit`` (else ``why``, at its name) and values for
        its non-linear parameters (none at all when ``optional``); every error located."""
        if not args.strip():
            raise UsageError(f"usage: {usage}")
        c = CallParser(Source(args, "<input>")).call(f"a function name; usage: {usage}", self.known)
        d = self.typing.signatures[c.name]
        if unfit(d):
            raise UsageError(why.format(f=c.name, result=d.result), c.name_span)
        if c.largs:
            raise UsageError(f"{usage.split()[0]} takes values for the non-linear parameters only",
                             c.args_span)
        if not (optional and not c.args):
            Evaluator(self.typing, FLOAT).check_arguments(c.name, c.args, (), c.args_span)
        return c

    def _point(self, args: str, usage: str, what: str, types: Callable[[FuncDef], list[Type]]) -> CallText:
        """``f X1 X2 … ; V1 V2 …``: a non-linear function, values for its parameters, and as many
        ``what`` (tangents or cotangents) as ``types`` has, each of its type; every error located."""
        c = CallParser(Source(args, "<input>")).call(f"a function name; usage: {usage}", self.known)
        d = self.typing.signatures[c.name]
        if d.lparams or d.result.lin:
            raise UsageError(f"{c.name} is linear (it has linear parameters or results); {usage.split()[0]} "
                             f"differentiates non-linear functions (:transpose {c.name} transposes it)",
                             c.name_span)
        Evaluator(self.typing, FLOAT).check_arguments(c.name, c.args, (), c.args_span)
        want = types(d)
        per = "result" if what == "cotangent" else "argument"
        if len(c.largs) != len(want):
            raise UsageError(f"{c.name} takes {len(want)} {what}{'' if len(want) == 1 else 's'} after ';', "
                             f"one per {per} ({', '.join(map(str, want)) or 'none'}); got {len(c.largs)}",
                             c.args_span)
        for i, (v, ty) in enumerate(zip(c.largs, want, strict=True)):
            if not conforms(v, ty):
                raise UsageError(f"{what} {i + 1} of {c.name} should be of type {ty}, got {format_value(v)}",
                                 c.args_span)
        return c

    def cmd_defs(self, args: str) -> str:
        return self._show(self.program) if self.program.defs else "(no functions defined)"

    def commands(self) -> Mapping[str, registry.Command]:
        return {
            "jvp": registry.Command("jvp", ":jvp f [X1 ... ; V1 ...]",
                                    "the JVP of f (forward mode, structurally linear); given a point "
                                    "X1 ... and a tangent per argument V1 ..., f's results and their "
                                    "tangents",
                                    self.cmd_jvp),
            "unzip": registry.Command("unzip", ":unzip f [policy]",
                                      "linearize f: its non-linear and linear halves (policy: "
                                      f"{', '.join(POLICIES)})", self.cmd_unzip),
            "transpose": registry.Command("transpose", ":transpose f",
                                          "transpose a linear f (or the linear half of f's JVP)",
                                          self.cmd_transpose),
            "vjp": registry.Command("vjp", ":vjp f [policy | X1 ... ; C1 ...]",
                                    "f's forward half and its transposed pullback; given a point X1 ... and "
                                    "a cotangent per result C1 ..., f's results and the cotangents of its "
                                    "arguments", self.cmd_vjp),
            "grad": registry.Command("grad", ":grad f X1 X2 ... [--wrt 1,3]",
                                     "value and gradient of f at a point (--wrt: with respect to these "
                                     "arguments only, counted from 1)", self.cmd_grad),
            "hvp": registry.Command("hvp", ":hvp f X1 ... ; V1 ...",
                                    "value, gradient and Hessian-vector product H(x)·v of f (forward over "
                                    "reverse: J of the embedded gradient program)", self.cmd_hvp),
            "hessian": registry.Command("hessian", ":hessian f X1 X2 ...", "the Hessian of f at a point, "
                                        "one row per line", self.cmd_hessian),
            "cost": registry.Command("cost", ":cost f [X1 ...]", "work per operation class of each stage",
                                     self.cmd_cost),
            "defs": registry.Command("defs", ":defs", "print every function defined so far", self.cmd_defs),
        }

    def settings(self) -> Mapping[str, Any]:
        def set_ascii(value: str) -> str:
            self.ascii = value.strip().lower() in ("1", "on", "true", "yes", "ascii")
            return f"ascii {'on' if self.ascii else 'off'}"

        return {"ascii": set_ascii}


__all__ = ["Counter", "Session", "format_cost", "format_value", "format_values", "ones", "stage_costs"]
