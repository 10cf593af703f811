"""The fast evaluator: environments instead of substitution, effects as a free monad.

Evaluating a term gives a value or a suspended computation: ``Op`` (``perform op v`` waiting for
its answer, with the rest of the computation as a Python continuation) or ``Loop`` (a ``for``
waiting for the array of its iterations). A handler interprets both exactly as (perform) and
(traverse) do, so the continuation it builds is ``k = λs. λx. handle h s E[x]`` (deep); what
reaches the top is an unhandled operation or a handler-free loop, which (parallel) runs. Tail
calls (application, ``case``) loop instead of recursing; fuel counts applications.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from calculi.core.errors import CalculusError
from calculi.core.syntax import Span
from calculi.core.trace import Fuel
from calculi.lambda_p import parallel
from calculi.lambda_p.deep import CANCEL
from calculi.lambda_p.prims import Stuck
from calculi.lambda_p.syntax import (
    RETURN,
    TRAVERSE,
    App,
    Arr,
    Case,
    Con,
    For,
    Global,
    Handle,
    Index,
    Lam,
    Lit,
    Perform,
    Prim,
    Term,
    Var,
)
from calculi.lambda_p.values import (
    FALSE_V,
    TRUE_V,
    UNIT_V,
    VALUE_PRIMS,
    Closure,
    HostFn,
    VArr,
    VCon,
    VPerform,
    describe,
    from_term,
    to_term,
)

K = Callable[[Any], Any]


class Op:
    """perform op v, suspended: ``k`` resumes the computation with the operation's answer."""

    __slots__ = ("arg", "k", "op", "passed", "span")

    def __init__(
        self, op: str, arg: Any, k: K, span: Span | None, passed: frozenset[str] = frozenset()
    ) -> None:
        self.op, self.arg, self.k, self.span, self.passed = op, arg, k, span, passed


class Loop:
    """for x:n. e, suspended: ``body(i)`` runs iteration i, ``k`` continues with the array."""

    __slots__ = ("body", "k", "n", "span")

    def __init__(self, n: int, body: Callable[[int], Any], k: K, span: Span | None) -> None:
        self.n, self.body, self.k, self.span = n, body, k, span


_INT_OPS: dict[str, Callable[[int, int], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "==": lambda a, b: TRUE_V if a == b else FALSE_V,
    "!=": lambda a, b: TRUE_V if a != b else FALSE_V,
    "<": lambda a, b: TRUE_V if a < b else FALSE_V,
    "<=": lambda a, b: TRUE_V if a <= b else FALSE_V,
    ">": lambda a, b: TRUE_V if a > b else FALSE_V,
    ">=": lambda a, b: TRUE_V if a >= b else FALSE_V,
}


def _ident(x: Any) -> Any:
    return x


def bind(c: Any, k: K) -> Any:
    """c >>= k: a value goes straight to k; a suspended computation carries k along."""
    if type(c) is Op:
        return Op(c.op, c.arg, lambda x: bind(c.k(x), k), c.span, c.passed)
    if type(c) is Loop:
        return Loop(c.n, c.body, lambda xs: bind(c.k(xs), k), c.span)
    return k(c)


class HandlerV:
    __slots__ = ("clauses", "node")

    def __init__(self, clauses: dict[str, Any], node: Handle) -> None:
        self.clauses, self.node = clauses, node

    def clause(self, name: str) -> Any:
        f = self.clauses.get(name)
        if f is None:
            raise Stuck("missing clause", f"the handler has no {name!r} clause", self.node.handler.span)
        return f


def _term_of(v: Any) -> Term:
    try:
        return to_term(v)
    except parallel.NotTransferable:
        return Var(-1, "<continuation>")


class Evaluator:
    """One evaluation: its fuel, its variant of (traverse), and how (parallel) runs."""

    def __init__(self, fuel: Fuel, variant: str = "icfp24", jobs: int = 1) -> None:
        self.fuel = fuel
        self.variant = variant
        self.jobs = jobs
        self.globals: dict[str, Any] = {}

    # -- expressions -------------------------------------------------------------------------------

    def ev(self, t: Term, env: dict[int, Any]) -> Any:
        while True:
            if type(t) is Var:
                return env[t.name]
            if type(t) is Lit:
                return t.value
            if type(t) is Prim and len(t.args) == 2:
                a0 = self.ev(t.args[0], env)
                if type(a0) is int:
                    a1 = self.ev(t.args[1], env)
                    if type(a1) is int and t.op in _INT_OPS:
                        return _INT_OPS[t.op](a0, a1)
                    if type(a1) is Op or type(a1) is Loop:
                        return bind(a1, self._then_prim(t, 1, [a0], env))
                    return self.ev_prim(t, 2, [a0, a1], env)
                if type(a0) is Op or type(a0) is Loop:
                    return bind(a0, self._then_prim(t, 0, [], env))
                return self.ev_prim(t, 1, [a0], env)
            if type(t) is Lam:
                return Closure(t.binder, t.body, env, t.hint)
            if type(t) is App:
                f = self.ev(t.fn, env)
                if type(f) is Op or type(f) is Loop:
                    return bind(f, self._then_arg(t, env))
                a = self.ev(t.arg, env)
                if type(a) is Op or type(a) is Loop:
                    return bind(a, self._then_apply(f, t))
                if type(f) is Global:
                    f = self.global_value(f)
                if type(f) is Closure:  # tail call
                    if CANCEL.is_set():
                        raise KeyboardInterrupt
                    self.fuel.tick(t.span)
                    env = {**f.env, f.binder: a}
                    t = f.body
                    continue
                return self.apply(f, a, t)
            if type(t) is Case:
                s = self.ev(t.scrutinee, env)
                if type(s) is Op or type(s) is Loop:
                    return bind(s, self._then_case(t, env))
                t, env = self.select(t, s, env)
                continue
            return self.ev_other(t, env)

    def _then_arg(self, t: App, env: dict[int, Any]) -> K:
        return lambda fv: bind(self.ev(t.arg, env), self._then_apply(fv, t))

    def _then_apply(self, f: Any, t: App) -> K:
        return lambda av: self.apply(f, av, t)

    def _then_case(self, t: Case, env: dict[int, Any]) -> K:
        return lambda sv: self.ev_case(t, sv, env)

    def ev_other(self, t: Term, env: dict[int, Any]) -> Any:
        if isinstance(t, Con):
            args = tuple(self.ev(a, env) for a in t.args)
            return VCon(t.tag, args) if args else from_term(t)
        if isinstance(t, Arr):
            return VArr(tuple(self.ev(a, env) for a in t.items))
        if isinstance(t, Perform):
            return VPerform(t.op)
        if isinstance(t, Global):
            return self.global_value(t)
        if isinstance(t, Index):
            return bind(
                self.ev(t.array, env), lambda a: bind(self.ev(t.index, env), lambda i: self.index(a, i, t))
            )
        if isinstance(t, Prim):
            return self.ev_prim(t, 0, [], env)
        if isinstance(t, For):
            return bind(self.ev(t.bound, env), lambda n: self.loop(t, n, env))
        if isinstance(t, Handle):
            clauses = {name: self.ev(f, env) for name, f in t.handler.clauses}
            h = HandlerV(clauses, t)
            return bind(self.ev(t.param, env), lambda s: self.handle(h, s, self.ev(t.body, env)))
        raise TypeError(f"not a λp term: {t!r}")

    def ev_case(self, t: Case, s: Any, env: dict[int, Any]) -> Any:
        body, env2 = self.select(t, s, env)
        return self.ev(body, env2)

    def select(self, t: Case, s: Any, env: dict[int, Any]) -> tuple[Term, dict[int, Any]]:
        """(case): the branch for the constructor of ``s``, with its binders bound."""
        if type(s) is Global:
            s = self.global_value(s)
        for br in t.branches:
            if br.tag is None:
                return br.body, {**env, br.binders[0]: s}
            if type(s) is VCon and s.tag == br.tag and len(s.args) == len(br.binders):
                return br.body, {**env, **dict(zip(br.binders, s.args, strict=True))}
        raise Stuck("no match", f"no case branch matches {describe(s)}", t.span)

    def _then_prim(self, t: Prim, i: int, done: list[Any], env: dict[int, Any]) -> K:
        return lambda x: self.ev_prim(t, i + 1, [*done, x], env)

    def ev_prim(self, t: Prim, i: int, done: list[Any], env: dict[int, Any]) -> Any:
        while i < len(t.args):
            v = self.ev(t.args[i], env)
            if type(v) is Op or type(v) is Loop:
                return bind(v, self._then_prim(t, i, done, env))
            done = [*done, v]
            i += 1
        done = [self.global_value(v) if type(v) is Global else v for v in done]
        return VALUE_PRIMS[t.op](done, t.span)

    def global_value(self, g: Global) -> Any:
        v = self.globals.get(g.name)
        if v is None:
            v = self.ev(g.definition(), {})
            while type(v) is Global:
                v = self.ev(v.definition(), {})
            self.globals[g.name] = v
        return v

    # -- rules -------------------------------------------------------------------------------------

    def apply(self, f: Any, a: Any, node: Term) -> Any:
        """(app), or (perform) suspending, or a host continuation."""
        if type(f) is Global:
            f = self.global_value(f)
        if type(f) is Closure:
            if CANCEL.is_set():
                raise KeyboardInterrupt
            self.fuel.tick(node.span)
            return self.ev(f.body, {**f.env, f.binder: a})
        if type(f) is HostFn:
            self.fuel.tick(node.span)
            return f.fn(a)
        if type(f) is VPerform:
            return Op(f.op, a, _ident, node.span)
        raise Stuck("not a function", f"cannot apply {describe(f)} to an argument", node.span)

    def apply_all(self, f: Any, args: list[Any], node: Term) -> Any:
        if not args:
            return f
        return bind(self.apply(f, args[0], node), lambda g: self.apply_all(g, args[1:], node))

    def index(self, a: Any, i: Any, t: Index) -> Any:
        """(index) ⟨v0,…,vn⟩.i → v_i"""
        if type(a) is Global:
            a = self.global_value(a)
        if type(a) is not VArr:
            raise Stuck("bad index", f"cannot index {describe(a)}", t.span)
        if type(i) is not int:
            raise Stuck("bad index", f"an index must be an integer, got {describe(i)}", t.span)
        if not 0 <= i < len(a.items):
            raise Stuck("bad index", f"index {i} out of range for array of length {len(a.items)}", t.span)
        return a.items[i]

    def loop(self, t: For, n: Any, env: dict[int, Any]) -> Loop:
        if not (type(n) is int and n >= 0):
            raise Stuck(
                "bad loop bound", f"a for bound must be a non-negative integer, got {describe(n)}", t.span
            )
        return Loop(n, lambda i: self.ev(t.body, {**env, t.binder: i}), _ident, t.span)

    def handle(self, h: HandlerV, s: Any, c: Any) -> Any:
        """handle h s c: (return), (perform) for the handler's operations, (traverse) for loops."""
        node = h.node
        if type(c) is Op:
            if c.op in h.clauses and c.op not in (RETURN, TRAVERSE):
                k = self.resumption(h, c.k)
                return self.apply_all(h.clauses[c.op], [s, c.arg, k], node)
            return Op(
                c.op,
                c.arg,
                lambda x: self.handle(h, s, c.k(x)),
                c.span,
                c.passed | (set(h.clauses) - {RETURN, TRAVERSE}),
            )
        if type(c) is Loop:
            self.fuel.tick(c.span, c.n)
            f_t = h.clause(TRAVERSE)
            return self.apply_all(f_t, [c.n, s, self.bodies(h, c), self.resumption(h, c.k)], node)
        return self.apply_all(h.clause(RETURN), [s, c], node)

    def resumption(self, h: HandlerV, k: K) -> HostFn:
        """k = λs. λx. handle h s E[x]"""
        return HostFn(lambda s2: HostFn(lambda x: self.handle(h, s2, k(x))))

    def bodies(self, h: HandlerV, c: Loop) -> Any:
        """ℓ: ICFP'24 ⟨λs. handle h s e[x:=i]⟩ᵢ; PEPM'22 λss. for x:n. handle h (ss.x) e."""
        if self.variant == "pepm22":

            def ell(ss: Any) -> Loop:
                return Loop(
                    c.n, lambda i: self.handle(h, self.index(ss, i, _PEPM_INDEX), c.body(i)), _ident, c.span
                )

            return HostFn(ell)
        return VArr(tuple(HostFn(self._body_continuation(h, c, i)) for i in range(c.n)))

    def _body_continuation(self, h: HandlerV, c: Loop, i: int) -> K:
        """ℓi = λs. handle h s e[x:=i]"""
        return lambda s2: self.handle(h, s2, c.body(i))

    # -- top level ---------------------------------------------------------------------------------

    def _iteration(self, loop: Loop) -> Callable[[int, Fuel], Any]:
        return lambda i, fuel: self.run(loop.body(i))

    def run(self, c: Any) -> Any:
        """Drive a computation to a value: unhandled operations are stuck; loops run in (parallel)."""
        while True:
            if type(c) is Op:
                from calculi.lambda_p.pretty import show

                handlers = "{" + ", ".join(sorted(c.passed)) + "}" if c.passed else "none"
                raise Stuck(
                    "unhandled operation",
                    f"unhandled operation '{c.op}' (argument "
                    f"{show(_term_of(c.arg))}); enclosing handlers handle: {handlers}",
                    c.span,
                    rule="perform",
                )
            if type(c) is Loop:
                loop = c
                self.fuel.tick(loop.span, loop.n)
                values = parallel.run_all(
                    range(loop.n),
                    self._iteration(loop),
                    self.fuel,
                    self.jobs,
                    encode=to_term,
                    decode=from_term,
                )
                c = loop.k(VArr(tuple(values)))
                continue
            return c


_PEPM_INDEX = Index(Var(-1), Var(-1))


def from_value(v: Any) -> Term:
    """A value as a term, for δ-rules and messages (a continuation stands for itself)."""
    if isinstance(v, Global):
        return v
    if isinstance(v, VCon) and v.tag in ("True", "False") and not v.args:
        return Con(v.tag)
    return _term_of(v)


def evaluate(term: Term, fuel: Fuel | None = None, variant: str = "icfp24", jobs: int = 1) -> Any:
    """Run a closed term to its value (a run-time value; ``to_term`` reads it back)."""
    ev = Evaluator(fuel or Fuel(), variant, jobs)
    return ev.run(ev.ev(term, {}))


def evaluate_term(term: Term, fuel: Fuel | None = None, variant: str = "icfp24", jobs: int = 1) -> Term:
    return _term_of(evaluate(term, fuel, variant, jobs))


__all__ = ["UNIT_V", "CalculusError", "Evaluator", "evaluate", "evaluate_term"]
