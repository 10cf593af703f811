"""Compiling λp terms once, for the fast evaluator (``eval``): closures over environment slots.

A term compiles either to an ``Expr``, when its evaluation can neither apply a function nor
reach a handler (literals, variables, λ, data, primitives, projections and ``case`` over such
terms), or else to ``Code`` (both in ``instructions``). Non-tail sub-computations are bound
first (A-normal form, left to right as the (step) rule evaluates).

Environments are tuples: slots are resolved at compile time (each foil name becomes an index),
and a λ captures only its free variables (flat closures), so that a continuation never holds on
to more than it needs. A λ of several parameters ``λa. λb. λc. e`` also gets an entry that takes
them all at once (``LamCode.full``), which a call with exactly that many arguments uses.

A global compiles to its value, computed once per definition (``Globals.values``, keyed by the
definition's foil name: a user definition named like a prelude one is another global).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from calculi.core.syntax import Span
from calculi.lambda_p.delta import DELTA
from calculi.lambda_p.instructions import (
    Call,
    Cases,
    Code,
    Expr,
    If,
    Install,
    LamCode,
    Let,
    LetS,
    Loop,
    Ret,
    Trim,
    capture,
    case_expr,
    const,
    index_expr,
    let_expr,
    prim_expr,
    tuple_of,
)
from calculi.lambda_p.stuck import (
    self_reference,
    undefined,
)
from calculi.lambda_p.subst import free_vars
from calculi.lambda_p.syntax import (
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
from calculi.lambda_p.values import NULLARY, VArr, VCon, VPerform

MAX_ARITY = 8  # λ chains longer than this take their first MAX_ARITY arguments at once
TRIM_SLACK = 8  # a body drops its environment's dead slots when there are more than this

# -- the compiler -----------------------------------------------------------------------------------


class Slots:
    """The compile-time environment: the slot of each foil name in scope, and how many slots the
    run-time tuple has (temporaries of the A-normal form take slots with no name)."""

    __slots__ = ("names", "size")

    def __init__(self, names: dict[int, int] | None = None, size: int = 0) -> None:
        self.names = names or {}
        self.size = size

    def bind(self, *names: int) -> Slots:
        inner = dict(self.names)
        for k, x in enumerate(names):
            inner[x] = self.size + k
        return Slots(inner, self.size + len(names))

    def temporary(self) -> Slots:
        return Slots(self.names, self.size + 1)

    def trimmed(self, needed: frozenset[int]) -> tuple[Trim | None, Slots]:
        """Only the slots of ``needed`` (and a getter of them), when many others are dead: a body
        under a long chain of bindings or loops then copies what it uses, not what came before."""
        live = sorted(x for x in needed if x in self.names)
        if self.size - len(live) <= TRIM_SLACK:
            return None, self
        return capture([self.names[x] for x in live]), Slots().bind(*live)


class Compiler:
    """Compile one closed term (and the λs inside it, each once)."""

    def compile(self, t: Term, slots: Slots) -> Expr | Code:
        rule = _RULES.get(type(t))
        if rule is None:
            raise TypeError(f"not a λp term: {t!r}")
        return rule(self, t, slots)

    def code(self, t: Term, slots: Slots) -> Code:
        out = self.compile(t, slots)
        return out if isinstance(out, Code) else Ret(out)

    def expr(self, t: Term, slots: Slots) -> Expr:
        out = self.compile(t, slots)
        assert not isinstance(out, Code), "values compile to expressions"
        return out

    def lam(self, t: Lam, slots: Slots, interior: bool = False) -> Expr:
        """A closure of ``t``; ``interior``: ``t`` is the body of a λ (no all-at-once entry)."""
        free = tuple(sorted(free_vars(t)))
        lam_code = self.lam_code(t, free, interior)
        if not free:
            return const((lam_code, ()))
        captured = capture([slots.names[x] for x in free])
        return lambda env: (lam_code, captured(env))

    def lam_code(self, t: Lam, free: tuple[int, ...], interior: bool) -> LamCode:
        captured = Slots().bind(*free)
        body = self.body(t.body, captured.bind(t.binder))
        params, innermost = [t.binder], t.body
        while not interior and isinstance(innermost, Lam) and len(params) < MAX_ARITY:
            params.append(innermost.binder)
            innermost = innermost.body
        full = self.body(innermost, captured.bind(*params)) if len(params) > 1 else None
        return LamCode(t, free, body, len(params), full)

    def body(self, t: Term, slots: Slots) -> Code:
        """The body of a λ: a λ there is the rest of a chain, compiled without its own full entry."""
        return Ret(self.lam(t, slots, interior=True)) if isinstance(t, Lam) else self.code(t, slots)

    def bind_all(
        self, parts: Sequence[Term], slots: Slots, build: Callable[[list[Expr], Slots], Code | Expr]
    ) -> Code | Expr:
        """Evaluate ``parts`` left to right, binding each one that is not an expression (and each
        expression before it that may fail) to a temporary, then ``build`` from expressions only.
        Each part is compiled in the environment it runs in: a bound part with the temporaries
        bound before it, every other part (evaluated by ``build``'s code) with all of them."""
        last = max((k for k, p in enumerate(parts) if not is_expr(p)), default=-1)
        bound = [k <= last and not (is_expr(p) and _safe(p)) for k, p in enumerate(parts)]
        final = Slots(slots.names, slots.size + sum(bound))
        scope, exprs, binds = slots, [], []
        for p, is_bound in zip(parts, bound, strict=True):
            if not is_bound:
                exprs.append(self.expr(p, final))
                continue
            binds.append(self.compile(p, scope))
            exprs.append(operator.itemgetter(scope.size))
            scope = scope.temporary()
        out = build(exprs, final)
        body = out if isinstance(out, Code) else Ret(out)
        for c in reversed(binds):
            body = Let(c, body, True) if isinstance(c, Code) else LetS(c, body, True)
        return body if binds else out

    def app(self, t: App, slots: Slots) -> Code | Expr:
        if isinstance(t.fn, Lam):  # x ← e1; e2
            rhs = self.compile(t.arg, slots)
            inner = free_vars(t.fn.body)
            keep = t.fn.binder in inner
            trim, scope = slots.trimmed(inner)
            body = self.compile(t.fn.body, scope.bind(t.fn.binder) if keep else scope)
            if isinstance(rhs, Code):
                return Let(rhs, body if isinstance(body, Code) else Ret(body), keep, trim)
            if isinstance(body, Code):
                return LetS(rhs, body, keep, trim)
            return let_expr(rhs, body, keep, trim)
        # a global defined as λx1 … λxm applied to at most m arguments: one call (the partial
        # applications only make closures, so evaluating every argument first changes nothing)
        spine: list[Term] = []
        root: Term = t
        while isinstance(root, App):
            spine.append(root.arg)
            root = root.fn
        span = t.span
        if isinstance(root, Global) and 1 < len(spine) <= min(_chain(root), MAX_ARITY):
            g = root
            return self.bind_all(spine[::-1], slots, lambda es, _: _global_call(g, es, span))
        # f a1 … an as one call when a2 … an may be evaluated before f a1 is applied
        args: list[Term] = []
        head: Term = t
        while isinstance(head, App) and (not args or _safe(args[-1])) and len(args) < MAX_ARITY:
            args.append(head.arg)
            head = head.fn
        args.reverse()
        if isinstance(head, App) and 1 < len(spine) <= MAX_ARITY and all(is_expr(a) for a in spine[:-1]):
            # f a1 … an with a2 … an expressions that may fail: one call, ordered at run time
            parts = [root, *spine[::-1]]
            return self.bind_all(parts, slots, lambda es, _: ordered_call(es[0], es[1:], span))
        if isinstance(head, Global):
            return self.bind_all(args, slots, lambda es, _: _global_call(head, es, span))
        return self.bind_all([head, *args], slots, lambda es, _: Call(es[0], es[1:], span))

    def case(self, t: Case, slots: Slots) -> Code | Expr:
        tags = [br.tag for br in t.branches]

        def build(es: list[Expr], scope: Slots) -> Code | Expr:
            table: dict[tuple[str, int], Code] = {}
            default: Code | None = None
            simple = True
            for br in t.branches:
                body = self.compile(br.body, scope.bind(*br.binders))
                simple = simple and not isinstance(body, Code)
                code = body if isinstance(body, Code) else Ret(body)
                if default is None and br.tag is None:
                    default = code
                elif default is None:
                    table.setdefault((br.tag or "", len(br.binders)), code)
            cases = Cases(es[0], table, default, tags, t.span)
            if simple:
                return case_expr(cases)
            if tags == ["True", "False"] and default is None:
                return If(es[0], table[("True", 0)], table[("False", 0)], cases)
            return cases

        return self.bind_all([t.scrutinee], slots, build)

    def handle(self, t: Handle, slots: Slots) -> Code:
        def build(es: list[Expr], scope: Slots) -> Code:
            clauses = tuple((name, self.expr(f, scope)) for name, f in t.handler.clauses)
            return Install(clauses, es[0], self.code(t.body, scope), t.handler, t.span)

        out = self.bind_all([t.param], slots, build)
        assert isinstance(out, Code)
        return out

    def loop(self, t: For, slots: Slots) -> Code:
        free = free_vars(t.body)
        trim, scope = slots.trimmed(free)
        body = self.compile(t.body, scope.bind(t.binder))
        bound = self.expr(t.bound, slots)
        names = tuple((x, scope.names[x]) for x in sorted(free) if x != t.binder)
        if isinstance(body, Code):
            return Loop(bound, body, None, t.span, trim, t, names)
        return Loop(bound, Ret(body), body, t.span, trim, t, names)


def ordered_call(fn: Expr, args: Sequence[Expr], span: Span | None) -> Call:
    """f a1 … an whose later arguments wait for the applications before them (see ``Call``)."""
    return Call(fn, args, span, ordered=True)


def _chain(g: Global) -> int:
    """How many λs a global's definition starts with (0 while it is pending)."""
    d: Term | None = g
    seen = 0
    while isinstance(d, Global) and seen < 100:
        d, seen = d.definition(), seen + 1
    n = 0
    while isinstance(d, Lam):
        d, n = d.body, n + 1
    return n


def _global_call(g: Global, args: Sequence[Expr], span: Span | None) -> Call:
    """A call of a global: its value is looked up once, then kept as the call's ``head``."""

    def fn(env: tuple[Any, ...]) -> Any:
        call.head = global_value(g, g.span)
        return call.head

    call = Call(fn, args, span)
    return call


_IS_EXPR: dict[int, tuple[Term, bool]] = {}


def is_expr(t: Term) -> bool:
    """Does ``t`` compile to an ``Expr``? (No application, handler or loop is evaluated in it;
    memoized per node, as terms are shared and immutable.)"""
    hit = _IS_EXPR.get(id(t))
    if hit is not None and hit[0] is t:
        return hit[1]
    if isinstance(t, Lit | Var | Perform | Global | Lam | Con | Arr):
        return True
    if isinstance(t, Prim):
        out = all(is_expr(a) for a in t.args)
    elif isinstance(t, Index):
        out = is_expr(t.array) and is_expr(t.index)
    elif isinstance(t, Case):
        out = is_expr(t.scrutinee) and all(is_expr(br.body) for br in t.branches)
    elif isinstance(t, App):
        out = isinstance(t.fn, Lam) and is_expr(t.arg) and is_expr(t.fn.body)
    else:
        out = False
    if len(_IS_EXPR) > 200_000:
        _IS_EXPR.clear()
    _IS_EXPR[id(t)] = (t, out)
    return out


def _safe(t: Term) -> bool:
    """Can evaluating ``t`` neither fail nor do anything observable (so it may move earlier)?"""
    if isinstance(t, Var | Lit | Perform | Lam):
        return True
    if isinstance(t, Global):
        return t.definition() is not None
    if isinstance(t, Arr):
        return all(_safe(i) for i in t.items)
    if isinstance(t, Con):
        return all(_safe(a) for a in t.args)
    return False


def _var(c: Compiler, t: Var, slots: Slots) -> Expr:
    return operator.itemgetter(slots.names[t.name])


def _con(c: Compiler, t: Con, slots: Slots) -> Expr:
    if not t.args:
        return const(NULLARY.get(t.tag) or VCon(t.tag))
    args, tag = tuple_of([c.expr(a, slots) for a in t.args]), t.tag
    return lambda env: VCon(tag, args(env))


def _arr(c: Compiler, t: Arr, slots: Slots) -> Expr:
    items = tuple_of([c.expr(i, slots) for i in t.items])
    return lambda env: VArr(items(env))


def _prim_rule(c: Compiler, t: Prim, slots: Slots) -> Code | Expr:
    return c.bind_all(t.args, slots, lambda es, _: prim_expr(DELTA[t.op], es, t.span))


def _index_rule(c: Compiler, t: Index, slots: Slots) -> Code | Expr:
    return c.bind_all([t.array, t.index], slots, lambda es, _: index_expr(es[0], es[1], t.span))


_RULES: dict[type, Callable[[Compiler, Any, Slots], Expr | Code]] = {
    Lit: lambda c, t, slots: const(t.value),
    Var: _var,
    Perform: lambda c, t, slots: const(VPerform(t.op)),
    Global: lambda c, t, slots: global_expr(t),
    Lam: lambda c, t, slots: c.lam(t, slots),
    Con: _con,
    Arr: _arr,
    Prim: _prim_rule,
    Index: _index_rule,
    App: lambda c, t, slots: c.app(t, slots),
    Case: lambda c, t, slots: c.case(t, slots),
    Handle: lambda c, t, slots: c.handle(t, slots),
    For: lambda c, t, slots: c.loop(t, slots),
}


# -- globals and values ----------------------------------------------------------------------------

_BUSY = object()


def global_value(g: Global, span: Span | None) -> Any:
    """The run-time value of a global: its definition (a value term) compiled and evaluated once,
    cached under the definition's key in its own table."""
    values = g.table.values
    v = values.get(g.key)
    if v is _BUSY:
        raise self_reference(g.name, span)
    if v is not None:
        return v
    term = g.definition()
    if term is None:
        raise undefined(g.name, g.table.sites.get(g.key), span)
    values[g.key] = _BUSY
    try:
        v = value_of(term)
    finally:
        if values.get(g.key) is _BUSY:
            del values[g.key]
    values[g.key] = v
    return v


def global_expr(g: Global) -> Expr:
    span = g.span
    box: list[Any] = []

    def ev(env: tuple[Any, ...]) -> Any:
        if box:
            return box[0]
        v = global_value(g, span)
        box.append(v)
        return v

    return ev


def value_of(term: Term) -> Any:
    """The run-time value of a closed value term (a λ is compiled)."""
    return Compiler().expr(term, Slots())(())


_COMPILED: dict[int, tuple[Term, Code]] = {}


def compile_term(term: Term) -> Code:
    """A closed term as code for the machine (compiled once per term: code is immutable)."""
    hit = _COMPILED.get(id(term))
    if hit is not None and hit[0] is term:
        return hit[1]
    code = Compiler().code(term, Slots())
    if len(_COMPILED) > 1_000:
        _COMPILED.clear()
    _COMPILED[id(term)] = (term, code)
    return code
