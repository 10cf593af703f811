"""Compiling λp terms once, for the fast evaluator (``eval``): closures over environment slots.

A term compiles either to an ``Expr``, a Python function from an environment to a value, when its
evaluation can neither apply a function nor reach a handler (literals, variables, λ, data,
primitives, projections and ``case`` over such terms); or else to ``Code``, a small tree of
instructions that the machine in ``eval`` runs with an explicit continuation. Non-tail
sub-computations are bound first (A-normal form, left to right as the (step) rule evaluates):

    Ret(e)               the value of the expression e
    Let(c, body)         run c, bind its value, run body          (a frame on the continuation)
    LetS(e, body)        bind e's value, run body                 (no frame: e is an Expr)
    Call(f, a1 … an)     apply f to a1 … an                       (a tail call)
    Cases(e, branches)   (case) on e's value
    Install(h, s, body)  handle h s body
    Loop(n, x. body)     for x:n. body, traversed or run in (parallel) by the machine

Environments are tuples: slots are resolved at compile time (each foil name becomes an index),
and a λ captures only its free variables (flat closures), so that a continuation never holds on
to more than it needs. A λ of several parameters ``λa. λb. λc. e`` also gets an entry that takes
them all at once (``LamCode.full``), which a call with exactly that many arguments uses.

A global compiles to its value, computed once per definition (``Globals.values``, keyed by the
definition's foil name: a user definition named like a prelude one is another global).
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from calculi.core.syntax import Span
from calculi.lambda_p.delta import DELTA, Delta
from calculi.lambda_p.stuck import (
    bad_index,
    cannot_index,
    no_match,
    out_of_range,
    self_reference,
    undefined,
)
from calculi.lambda_p.subst import free_vars
from calculi.lambda_p.syntax import (
    RETURN,
    TRAVERSE,
    TUPLE,
    App,
    Arr,
    Case,
    Con,
    For,
    Global,
    Handle,
    Handler,
    Index,
    Lam,
    Lit,
    Perform,
    Prim,
    Term,
    Var,
)
from calculi.lambda_p.values import NULLARY, VArr, VCon, VPerform, describe

Expr = Callable[[tuple[Any, ...]], Any]
MAX_ARITY = 8  # λ chains longer than this take their first MAX_ARITY arguments at once
TRIM_SLACK = 8  # a body drops its environment's dead slots when there are more than this


class Code:
    __slots__ = ()


class Ret(Code):
    __slots__ = ("expr",)

    def __init__(self, expr: Expr) -> None:
        self.expr = expr


Trim = Callable[[tuple[Any, ...]], tuple[Any, ...]]
"""Keeps the slots a body needs (``None``: all of them)."""


class Let(Code):
    __slots__ = ("bind", "body", "rhs", "trim")

    def __init__(self, rhs: Code, body: Code, bind: bool, trim: Trim | None = None) -> None:
        self.rhs, self.body, self.bind, self.trim = rhs, body, bind, trim


class LetS(Code):
    __slots__ = ("bind", "body", "rhs", "trim")

    def __init__(self, rhs: Expr, body: Code, bind: bool, trim: Trim | None = None) -> None:
        self.rhs, self.body, self.bind, self.trim = rhs, body, bind, trim


class Call(Code):
    """f a1 … an: ``argv`` gives the arguments' values as a tuple; ``head`` is f's value once
    known for good (a global's), so that the machine need not evaluate ``fn`` again.

    ``later`` holds a2 … an when they may fail and so must wait for f a1 to be applied (then
    a2 is evaluated, the result applied to it, and so on), unless f turns out to be a λ of at
    least n parameters, whose partial applications only make closures."""

    __slots__ = ("argv", "first", "fn", "head", "later", "n", "span")

    def __init__(self, fn: Expr, args: Sequence[Expr], span: Span | None, head: Any = None,
                 ordered: bool = False) -> None:
        if head is None and callable(fn) and not isinstance(fn, operator.itemgetter):
            head = _CONSTANTS.get(fn)  # a constant head (perform op, a closed λ) is known now
        self.fn, self.argv, self.n, self.span, self.head = fn, _tuple(args), len(args), span, head
        self.first = _tuple(args[:1])
        self.later = tuple(args[1:]) if ordered else ()


class If(Code):
    """``if`` (the case on True and False that it desugars to): no binders, two branches."""

    __slots__ = ("cases", "condition", "otherwise", "then")

    def __init__(self, condition: Expr, then: Code, otherwise: Code, cases: Cases) -> None:
        self.condition, self.then, self.otherwise, self.cases = condition, then, otherwise, cases


class Cases(Code):
    """``case``: ``table`` maps (constructor, arity) to the first branch for it; ``default``, the
    first catch-all (before which no other branch is tried), binds the value."""

    __slots__ = ("default", "scrutinee", "span", "table", "tags")

    def __init__(self, scrutinee: Expr, table: dict[tuple[str, int], Code], default: Code | None,
                 tags: list[str | None], span: Span | None) -> None:
        self.scrutinee, self.table, self.default, self.tags, self.span = scrutinee, table, default, tags, span


class Install(Code):
    """handle h s body: ``clauses`` are (name, value) pairs, evaluated when the handle is."""

    __slots__ = ("body", "clauses", "handler", "ops", "param", "span")

    def __init__(self, clauses: tuple[tuple[str, Expr], ...], param: Expr, body: Code,
                 handler: Handler, span: Span | None) -> None:
        self.clauses, self.param, self.body = clauses, param, body
        self.ops = frozenset(name for name, _ in clauses if name not in (RETURN, TRAVERSE))
        self.handler, self.span = handler, span


class Loop(Code):
    """for x:n. body; ``simple`` is the body as an ``Expr`` when it is one."""

    __slots__ = ("body", "bound", "simple", "span", "trim")

    def __init__(self, bound: Expr, body: Code, simple: Expr | None, span: Span | None,
                 trim: Trim | None) -> None:
        self.bound, self.body, self.simple, self.span, self.trim = bound, body, simple, span, trim


class LamCode:
    """A compiled λ: the term (to read closures back), the foil names it captures (in slot order),
    its body (environment: captured values, then the parameter), and for a chain of ``n`` λs the
    body of the innermost one taking all ``n`` parameters at once (``full``; None when n = 1)."""

    __slots__ = ("body", "free", "full", "n", "term")

    def __init__(self, term: Lam, free: tuple[int, ...], body: Code, n: int, full: Code | None) -> None:
        self.term, self.free, self.body, self.n, self.full = term, free, body, n, full


# -- expressions ------------------------------------------------------------------------------------


_CONSTANTS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _const(v: Any) -> Expr:
    fn = lambda env: v  # noqa: E731  (a function object: the table below is keyed by it)
    _CONSTANTS[fn] = v
    return fn


def _slot(e: Expr) -> int | None:
    """The slot an expression reads, when it is a variable."""
    if type(e) is operator.itemgetter:
        items = e.__reduce__()[1]
        if len(items) == 1 and type(items[0]) is int:
            return items[0]
    return None


def _int_constant(e: Expr) -> int | None:
    v = _CONSTANTS.get(e) if callable(e) and not isinstance(e, operator.itemgetter) else None
    return v if type(v) is int else None


def _index(array: Expr, index: Expr, span: Span | None) -> Expr:
    def ev(env: tuple[Any, ...]) -> Any:
        a, i = array(env), index(env)
        return project(a, i, span)

    return ev


def project(a: Any, i: Any, span: Span | None) -> Any:
    """(index) ⟨v0,…,vn⟩.i → v_i"""
    if type(a) is not VArr:
        raise cannot_index(describe(a), span)
    if type(i) is not int:
        raise bad_index(describe(i), span)
    if not 0 <= i < len(a.items):
        raise out_of_range(i, len(a.items), span)
    return a.items[i]


def _prim(delta: Delta, args: Sequence[Expr], span: Span | None) -> Expr:
    rule = delta.rule
    if len(args) == 2 and delta.on_ints is not None:
        on_ints, x, y = delta.on_ints, args[0], args[1]
        i, k = _slot(x), _int_constant(y)
        if i is not None and k is not None:  # x ∘ 3, the commonest shape, without the calls

            def with_constant(env: tuple[Any, ...]) -> Any:
                a = env[i]
                if type(a) is int:
                    return on_ints(a, k)
                return rule([a, k], span)

            return with_constant

        def binary(env: tuple[Any, ...]) -> Any:
            a, b = x(env), y(env)
            if type(a) is int and type(b) is int:
                return on_ints(a, b)
            return rule([a, b], span)

        return binary
    if len(args) == 1:
        (x,) = args
        return lambda env: rule([x(env)], span)
    return lambda env: rule([a(env) for a in args], span)


def _tuple(parts: Sequence[Expr]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """The values of ``parts`` as a tuple (variables only: one C call)."""
    slots = [_slot(p) for p in parts]
    if len(parts) > 1 and all(i is not None for i in slots):
        return operator.itemgetter(*slots)
    constants = [_CONSTANTS.get(p) if not isinstance(p, operator.itemgetter) else None for p in parts]
    if all(c is not None for c in constants):
        values = tuple(constants)
        return lambda env: values
    if len(parts) == 1:
        (p,) = parts
        return lambda env: (p(env),)
    if len(parts) == 2:
        p, q = parts
        return lambda env: (p(env), q(env))
    if len(parts) == 3:
        p, q, r = parts
        return lambda env: (p(env), q(env), r(env))
    return lambda env: tuple([p(env) for p in parts])


def _capture(slots: Sequence[int]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    if not slots:
        return lambda env: ()
    if len(slots) == 1:
        (i,) = slots
        return lambda env: (env[i],)
    return operator.itemgetter(*slots)


def select(c: Cases, v: Any) -> tuple[Code, tuple[Any, ...] | None]:
    """(case): the branch for ``v`` and the values it binds (None: the catch-all binds ``v``)."""
    if type(v) is VCon:
        hit = c.table.get((v.tag, len(v.args)))
        if hit is not None:
            return hit, v.args
    if c.default is not None:
        return c.default, None
    sizes = None
    if type(v) is VCon and v.tag == TUPLE and c.tags == [TUPLE]:
        ((_, arity),) = c.table
        sizes = (arity, len(v.args))
    raise no_match(describe(v), c.tags, sizes, c.span)


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
        return _capture([self.names[x] for x in live]), Slots().bind(*live)


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
            return _const((lam_code, ()))
        capture = _capture([slots.names[x] for x in free])
        return lambda env: (lam_code, capture(env))

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
        final = slots
        for _ in range(sum(bound)):
            final = final.temporary()
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
            if isinstance(body, Code) or trim is not None:
                return LetS(rhs, body if isinstance(body, Code) else Ret(body), keep, trim)
            return _let_expr(rhs, body, keep)
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
                return _case_expr(cases)
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
        trim, scope = slots.trimmed(free_vars(t.body))
        body = self.compile(t.body, scope.bind(t.binder))
        bound = self.expr(t.bound, slots)
        if isinstance(body, Code):
            return Loop(bound, body, None, t.span, trim)
        return Loop(bound, Ret(body), body, t.span, trim)


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
    call = Call(global_expr(g), args, span)
    lookup = call.fn

    def fn(env: tuple[Any, ...]) -> Any:
        call.head = lookup(env)
        return call.head

    call.fn = fn
    return call


def _case_expr(c: Cases) -> Expr:
    """A ``case`` whose branches are all expressions."""

    def ev(env: tuple[Any, ...]) -> Any:
        v = c.scrutinee(env)
        code, bound = select(c, v)
        return code.expr(env + ((v,) if bound is None else bound))  # type: ignore[attr-defined]

    return ev


def _let_expr(rhs: Expr, body: Expr, keep: bool) -> Expr:
    if keep:
        return lambda env: body(env + (rhs(env),))

    def ev(env: tuple[Any, ...]) -> Any:
        rhs(env)
        return body(env)

    return ev


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
        return _const(NULLARY.get(t.tag) or VCon(t.tag))
    args, tag = _tuple([c.expr(a, slots) for a in t.args]), t.tag
    return lambda env: VCon(tag, args(env))


def _arr(c: Compiler, t: Arr, slots: Slots) -> Expr:
    items = _tuple([c.expr(i, slots) for i in t.items])
    return lambda env: VArr(items(env))


def _prim_rule(c: Compiler, t: Prim, slots: Slots) -> Code | Expr:
    return c.bind_all(t.args, slots, lambda es, _: _prim(DELTA[t.op], es, t.span))


def _index_rule(c: Compiler, t: Index, slots: Slots) -> Code | Expr:
    return c.bind_all([t.array, t.index], slots, lambda es, _: _index(es[0], es[1], t.span))


_RULES: dict[type, Callable[[Compiler, Any, Slots], Expr | Code]] = {
    Lit: lambda c, t, slots: _const(t.value),
    Var: _var,
    Perform: lambda c, t, slots: _const(VPerform(t.op)),
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
