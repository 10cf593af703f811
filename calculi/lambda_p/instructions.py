"""The instructions of compiled λp (see ``compile``) and the expressions they hold.

An ``Expr`` is a Python function from an environment (a tuple of values, slots resolved at compile
time) to a value: it applies no function and reaches no handler. ``Code`` is what the machine in
``eval`` runs with an explicit continuation:

    Ret(e)               the value of the expression e
    Let(c, body)         run c, bind its value, run body          (a frame on the continuation)
    LetS(e, body)        bind e's value, run body                 (no frame: e is an Expr)
    Call(f, a1 … an)     apply f to a1 … an                       (a tail call)
    If(e, then, else)    the case on True and False
    Cases(e, branches)   (case) on e's value
    Install(h, s, body)  handle h s body
    Loop(n, x. body)     for x:n. body, traversed or run in (parallel) by the machine

A λ is compiled once (``LamCode``); its closures are pairs (code, captured values).
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from calculi.core.syntax import Span
from calculi.lambda_p.delta import Delta
from calculi.lambda_p.stuck import bad_index, cannot_index, no_match, out_of_range
from calculi.lambda_p.syntax import RETURN, TRAVERSE, TUPLE, For, Handler, Lam
from calculi.lambda_p.values import VArr, VCon, describe

Expr = Callable[[tuple[Any, ...]], Any]


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
            head = CONSTANTS.get(fn)  # a constant head (perform op, a closed λ) is known now
        self.fn, self.argv, self.n, self.span, self.head = fn, tuple_of(args), len(args), span, head
        self.first = tuple_of(args[:1])
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
    """for x:n. body; ``simple`` is the body as an ``Expr`` when it is one. ``term`` is the loop
    and ``free`` the slot (in the trimmed environment) of each free name of its body, so that an
    iteration can be sent to a worker process as a closed term."""

    __slots__ = ("body", "bound", "free", "simple", "span", "term", "trim")

    def __init__(self, bound: Expr, body: Code, simple: Expr | None, span: Span | None,
                 trim: Trim | None, term: For, free: tuple[tuple[int, int], ...]) -> None:
        self.bound, self.body, self.simple, self.span, self.trim = bound, body, simple, span, trim
        self.term, self.free = term, free


class LamCode:
    """A compiled λ: the term (to read closures back), the foil names it captures (in slot order),
    its body (environment: captured values, then the parameter), and for a chain of ``n`` λs the
    body of the innermost one taking all ``n`` parameters at once (``full``; None when n = 1)."""

    __slots__ = ("body", "free", "full", "n", "term")

    def __init__(self, term: Lam, free: tuple[int, ...], body: Code, n: int, full: Code | None) -> None:
        self.term, self.free, self.body, self.n, self.full = term, free, body, n, full


# -- expressions ---------------------------------------------------------------------------------


CONSTANTS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def const(v: Any) -> Expr:
    fn = lambda env: v  # noqa: E731  (a function object: the table below is keyed by it)
    CONSTANTS[fn] = v
    return fn


def slot_of(e: Expr) -> int | None:
    """The slot an expression reads, when it is a variable."""
    if type(e) is operator.itemgetter:
        items = e.__reduce__()[1]
        if len(items) == 1 and type(items[0]) is int:
            return items[0]
    return None


def int_constant(e: Expr) -> int | None:
    v = CONSTANTS.get(e) if callable(e) and not isinstance(e, operator.itemgetter) else None
    return v if type(v) is int else None


def index_expr(array: Expr, index: Expr, span: Span | None) -> Expr:
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


def prim_expr(delta: Delta, args: Sequence[Expr], span: Span | None) -> Expr:
    rule = delta.rule
    if len(args) == 2 and delta.on_ints is not None:
        on_ints, x, y = delta.on_ints, args[0], args[1]
        i, k = slot_of(x), int_constant(y)
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


def tuple_of(parts: Sequence[Expr]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """The values of ``parts`` as a tuple (variables only: one C call)."""
    slots = [slot_of(p) for p in parts]
    if len(parts) > 1 and all(i is not None for i in slots):
        return operator.itemgetter(*slots)
    constants = [CONSTANTS.get(p) if not isinstance(p, operator.itemgetter) else None for p in parts]
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


def capture(slots: Sequence[int]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
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


def case_expr(c: Cases) -> Expr:
    """A ``case`` whose branches are all expressions."""

    def ev(env: tuple[Any, ...]) -> Any:
        v = c.scrutinee(env)
        code, bound = select(c, v)
        return code.expr(env + ((v,) if bound is None else bound))  # type: ignore[attr-defined]

    return ev


def let_expr(rhs: Expr, body: Expr, keep: bool, trim: Trim | None) -> Expr:
    """x ← e1; e2 with both expressions: the body's environment is ``trim``'s (all of it when
    None), with e1's value appended when x occurs in e2."""
    keeps = trim or (lambda env: env)
    if keep:
        return lambda env: body(keeps(env) + (rhs(env),))

    def ev(env: tuple[Any, ...]) -> Any:
        rhs(env)
        return body(keeps(env))

    return ev
