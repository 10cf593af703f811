"""Forward mode as a program transformation: ``jvp`` splits a pure Dex program into its primal
lets and a linear program over the tangents of its inputs.

First every function is inlined (binders are renamed apart, so no substitution captures), then
each differentiable value (``Real`` or a table of them) is let-bound once and given a tangent
``d``: the linear program is built of the rules below, in which each tangent occurs linearly and
the primal appears only as a coefficient.

    J(a + b) = ȧ + ḃ      J(a * b) = ȧ * b + a * ḃ      J(a / b) = ȧ / b - (t / b) * ḃ
    J(exp a) = t * ȧ      J(log a) = ȧ / a             J(sqrt a) = (0.5 / t) * ȧ
    J(sum a) = sum ȧ      J(x.i) = ẋ.i                 J(for i:n. e) = for i:n. J(e)
    J(if c then a else b) = if c then J(a) else J(b)

(``t`` is the primal result.) A ``for`` with a tangent keeps the intermediates of its body in a
table of residuals that its linear loop reads back, so nested loops are not recomputed; the
branches of an ``if`` recompute their own primal lets in the linear program (work grows with the
nesting of ``if`` inside ``if``, not with the nesting of loops). Values of other types
(indices, Int, Bool) have no tangent and stay as written; effects, pairs of reals and unapplied
functions are outside the fragment and raise an error naming the rule ``AD-Fragment``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, TypeVar, cast

from calculi.core.errors import TypeCheckError
from calculi.core.syntax import Span
from calculi.dex.check import check
from calculi.dex.pretty import show_type
from calculi.dex.semantics import children
from calculi.dex.syntax import (
    PRIMITIVES,
    REAL,
    App,
    At,
    BinOp,
    BoolLit,
    Case,
    Enum,
    Expr,
    For,
    Handle,
    If,
    Index,
    IntLit,
    Lam,
    Let,
    Neg,
    Pair,
    RealLit,
    RealT,
    TableT,
    Type,
    UnitLit,
    Var,
)

V = TypeVar("V")


def differentiable(ty: Type) -> bool:
    """Whether values of ``ty`` have a tangent: ``Real`` and tables of them."""
    return isinstance(ty, RealT) or (isinstance(ty, TableT) and differentiable(ty.elem))


def fragment_error(reason: str, span: Span | None) -> TypeCheckError:
    return TypeCheckError(reason, span, rule="AD-Fragment")


class Names:
    """Fresh names, ``base'k``, distinct from every name in ``taken``."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = taken
        self.count = 0

    def fresh(self, base: str) -> str:
        stem = base.split("'", 1)[0] or "t"
        while True:
            self.count += 1
            name = f"{stem}'{self.count}"
            if name not in self.taken:
                self.taken.add(name)
                return name


def names_in(e: Expr) -> set[str]:
    out: set[str] = set()
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, Var):
            out.add(node.name)
        for value in _fields(node):
            if isinstance(value, Expr):
                stack.append(value)
            elif isinstance(value, tuple):
                stack += [alt for _, alt in value if isinstance(alt, Expr)]
        if isinstance(node, Lam | For):
            out.add(node.param if isinstance(node, Lam) else node.index)
        elif isinstance(node, Let):
            out.add(node.name)
        elif isinstance(node, Handle):
            out.add(node.ref)
    return out


def _fields(node: Expr) -> Iterator[object]:
    for name in type(node).__slots__:
        yield getattr(node, name)


def inline(e: Expr, names: Names, funs: dict[str, Lam] | None = None,
           rename: dict[str, str] | None = None) -> Expr:
    """``e`` with every function that is let-bound or applied inlined, every binder renamed apart."""
    funs, rename = funs or {}, rename or {}

    def go(e: Expr, funs: dict[str, Lam], rename: dict[str, str]) -> Expr:
        match e:
            case Var(name=x):
                if x in funs:
                    return go(funs[x], {}, {})
                return Var(rename.get(x, x), span=e.span)
            case Let(name=x, bound=Lam() as f, body=body):
                lam = go(f, funs, rename)
                assert isinstance(lam, Lam)
                return go(body, {**funs, x: lam}, _drop(rename, x))
            case Let(name=x, bound=bound, body=body):
                y = names.fresh(x)
                return Let(y, go(bound, funs, rename), go(body, _drop(funs, x), {**rename, x: y}),
                           span=e.span)
            case Lam(param=x, type=t, body=body):
                y = names.fresh(x)
                return Lam(y, t, go(body, _drop(funs, x), {**rename, x: y}), span=e.span)
            case For(index=i, type=n, body=body):
                j = names.fresh(i)
                return For(j, n, go(body, _drop(funs, i), {**rename, i: j}), span=e.span)
            case App(fun=Var(name=p), arg=arg) if p in PRIMITIVES and p not in funs and p not in rename:
                return App(e.fun, go(arg, funs, rename), span=e.span)
            case App(fun=f, arg=arg):
                fun, value = go(f, funs, rename), go(arg, funs, rename)
                if isinstance(fun, Lam):
                    return go(Let(fun.param, value, fun.body, span=e.span), {}, {})
                return App(fun, value, span=e.span)
            case Handle():
                raise fragment_error("reverse mode covers pure programs; this one runs a handler "
                                     f"({e.handler})", e.span)
            case At(value=v, index=n):
                return e if isinstance(n, Enum) else At(go(v, funs, rename), n, span=e.span)
            case Case(scrutinee=s, alts=alts):
                return Case(go(s, funs, rename), tuple((lab, go(b, funs, rename)) for lab, b in alts),
                            span=e.span)
        return _map(e, lambda c: go(c, funs, rename))

    return go(e, funs, rename)


def _drop(d: dict[str, V], key: str) -> dict[str, V]:
    return {k: v for k, v in d.items() if k != key} if key in d else d


def _map(e: Expr, f: Callable[[Expr], Expr]) -> Expr:
    """``e`` with ``f`` applied to each direct subexpression (a constructor binding nothing)."""
    if not children(e):
        return e
    changed = {name: f(value) for name in type(e).__slots__
               if isinstance(value := getattr(e, name), Expr)}
    return replace(e, **cast(dict[str, Any], changed))


@dataclass(frozen=True, slots=True)
class Binding:
    name: str
    bound: Expr
    linear: bool


def nest(bindings: list[Binding], body: Expr, *, primal_only: bool = False) -> Expr:
    for b in reversed(bindings):
        if not (primal_only and b.linear):
            body = Let(b.name, b.bound, body)
    return body


@dataclass
class Linearized:
    """``jvp``'s result: ``let primal in (result, tangent)``, tangent linear in ``inputs``' tangents."""

    primal: list[Binding]
    result: Expr
    tangent: Expr | None
    """``None`` when the result does not depend on the inputs."""
    type: Type
    inputs: dict[str, tuple[str, Type]]
    """Each input with the name of its tangent and its type."""
    types: dict[str, Type] = field(default_factory=dict)
    """The type of every linear variable."""
    names: Names = field(default_factory=lambda: Names(set()))
    env: dict[str, Type] = field(default_factory=dict)
    """The types of the other free variables."""

    def inputs_types(self) -> dict[str, Type]:
        return {x: ty for x, (_, ty) in self.inputs.items()}

    def program(self) -> Expr:
        """The JVP as one Dex program: its free variables are the inputs and their tangents."""
        return nest(self.primal, Pair(self.result, self.tangent or zero_of(self.type)))


def zero_of(ty: Type) -> Expr:
    if isinstance(ty, TableT):
        return For("z'", ty.index, zero_of(ty.elem))
    return RealLit(Fraction(0))


class _Jvp:
    def __init__(self, env: dict[str, Type], names: Names) -> None:
        self.env: dict[str, tuple[Type, str | None]] = {x: (t, None) for x, t in env.items()}
        self.names = names
        self.types: dict[str, Type] = {}

    def linear(self, out: list[Binding], base: str, bound: Expr, ty: Type) -> Var:
        d = self.names.fresh("d" + base)
        self.types[d] = ty
        out.append(Binding(d, bound, True))
        return Var(d)

    def primal(self, out: list[Binding], base: str, bound: Expr) -> Var:
        t = self.names.fresh(base)
        out.append(Binding(t, bound, False))
        return Var(t)

    def go(self, e: Expr, out: list[Binding]) -> tuple[Expr, Expr | None, Type]:
        """The primal atom of ``e``, its tangent atom (``None``: zero), and its type."""
        match e:
            case Var(name=x):
                ty, d = self.env[x]
                return e, (Var(d) if d else None), ty
            case RealLit():
                return e, None, REAL
            case IntLit() | BoolLit() | UnitLit() | At():
                return e, None, self.plain(e)
            case BinOp(op=op, left=a, right=b) if op in ("+", "-", "*", "/"):
                pa, da, ty = self.go(a, out)
                if not isinstance(ty, RealT):
                    return e, None, ty
                pb, db, _ = self.go(b, out)
                t = self.primal(out, "t", BinOp(op, pa, pb, span=e.span))
                return t, self.binop(op, pa, da, pb, db, t, out), REAL
            case BinOp():
                return e, None, self.plain(e)
            case Neg(arg=a):
                pa, da, ty = self.go(a, out)
                if not isinstance(ty, RealT):
                    return e, None, ty
                t = self.primal(out, "t", Neg(pa, span=e.span))
                return t, (self.linear(out, "t", Neg(da), REAL) if da else None), REAL
            case App(fun=Var(name=p), arg=a) if p in PRIMITIVES and p not in self.env:
                return self.prim(p, a, e, out)
            case Let(name=x, bound=bound, body=body):
                pa, da, ty = self.go(bound, out)
                out.append(Binding(x, pa, False))
                d = None
                if da is not None:
                    d = self.names.fresh("d" + x)
                    self.types[d] = ty
                    out.append(Binding(d, da, True))
                self.env[x] = (ty, d)
                return self.go(body, out)
            case For(index=i, type=n, body=body):
                self.env[i] = (n, None)
                inner: list[Binding] = []
                pb, db, ty = self.go(body, inner)
                table = TableT(n, ty)
                if not differentiable(table):
                    return e, None, table
                if db is None:
                    body_primal = nest(inner, pb, primal_only=True)
                    return self.primal(out, "t", For(i, n, body_primal, span=e.span)), None, table
                return self.residual_loop(i, n, inner, pb, db, table, out)
            case Index(table=x, index=i):
                px, dx, tx = self.go(x, out)
                assert isinstance(tx, TableT)
                return Index(px, i, span=e.span), (Index(dx, i) if dx else None), tx.elem
            case If(cond=c, then=a, orelse=b):
                left: list[Binding] = []
                right: list[Binding] = []
                pa, da, ty = self.go(a, left)
                pb, db, _ = self.go(b, right)
                if not differentiable(ty):
                    return e, None, ty
                t = self.primal(out, "t", If(c, nest(left, pa, primal_only=True),
                                             nest(right, pb, primal_only=True), span=e.span))
                if da is None and db is None:
                    return t, None, ty
                tangent = If(c, nest(left, da or zero_of(ty)), nest(right, db or zero_of(ty)))
                return t, self.linear(out, "t", tangent, ty), ty
        raise fragment_error(f"reverse mode covers Real arithmetic, for, indexing, sum, exp, log, "
                             f"sqrt, let and if; not this {type(e).__name__}", e.span)

    def residual_loop(self, i: str, n: Type, inner: list[Binding], pb: Expr, db: Expr,
                      table: Type, out: list[Binding]) -> tuple[Expr, Expr, Type]:
        """A ``for`` with a tangent: its primal loop also keeps each intermediate of its body
        (the residuals ``R.i = (b, (t1, (t2, …())))``), which the linear loop reads back instead of
        computing them again; so nested loops do not recompute their inner bodies."""
        kept = [b for b in inner if not b.linear]
        record: Expr = UnitLit()
        for b in reversed(kept):
            record = Pair(Var(b.name), record)
        residuals = self.primal(out, "res", For(i, n, nest(kept, Pair(pb, record))))
        t = self.primal(out, "t", For(i, n, App(Var("fst"), Index(residuals, Var(i)))))
        cursor = self.names.fresh("s")
        reads = [Binding(cursor, App(Var("snd"), Index(residuals, Var(i))), False)]
        for b in kept:
            reads.append(Binding(b.name, App(Var("fst"), Var(cursor)), False))
            following = self.names.fresh("s")
            reads.append(Binding(following, App(Var("snd"), Var(cursor)), False))
            cursor = following
        linear = [b for b in inner if b.linear]
        body = nest(reads[:-1] + linear, db)
        return t, self.linear(out, "t", For(i, n, body), table), table

    def plain(self, e: Expr) -> Type:
        """The type of an expression without a tangent (an index, Int or Bool)."""
        return check(e, {x: t for x, (t, _) in self.env.items()}).type

    def binop(self, op: str, pa: Expr, da: Expr | None, pb: Expr, db: Expr | None, t: Var,
              out: list[Binding]) -> Expr | None:
        if da is None and db is None:
            return None
        terms: list[tuple[str, Expr]] = []
        if op in ("+", "-"):
            terms = [("+", x) for x in (da,) if x] + [(op, x) for x in (db,) if x]
        elif op == "*":
            terms = [("+", x) for x in ((BinOp("*", pb, da) if da else None),
                                        (BinOp("*", pa, db) if db else None)) if x]
        else:
            if da:
                terms.append(("+", BinOp("/", da, pb)))
            if db:
                scale = self.primal(out, "c", BinOp("/", t, pb))
                terms.append(("-", BinOp("*", scale, db)))
        sign, first = terms[0]
        body = first if sign == "+" else Neg(first)
        for sign, term in terms[1:]:
            body = BinOp(sign, body, term)
        return self.linear(out, "t", body, REAL)

    def prim(self, p: str, a: Expr, e: Expr, out: list[Binding]) -> tuple[Expr, Expr | None, Type]:
        if p in ("floor", "ordinal", "to_real"):
            return e, None, self.plain(e)
        if p not in ("sum", "exp", "log", "sqrt"):
            raise fragment_error(f"reverse mode does not cover the primitive {p}", e.span)
        pa, da, ty = self.go(a, out)
        elem = ty.elem if isinstance(ty, TableT) else REAL
        t = self.primal(out, "t", App(Var(p), pa, span=e.span))
        if da is None:
            return t, None, elem
        if p == "sum":
            if not isinstance(elem, RealT):
                raise fragment_error(f"sum of a table of {show_type(elem)}", e.span)
            return t, self.linear(out, "t", App(Var("sum"), da), REAL), REAL
        if p == "exp":
            return t, self.linear(out, "t", BinOp("*", t, da), REAL), REAL
        if p == "log":
            return t, self.linear(out, "t", BinOp("/", da, pa), REAL), REAL
        scale = self.primal(out, "c", BinOp("/", RealLit(Fraction(1, 2)), t))
        return t, self.linear(out, "t", BinOp("*", scale, da), REAL), REAL


def jvp(expr: Expr, inputs: dict[str, Type], env: dict[str, Type] | None = None) -> Linearized:
    """Linearize ``expr`` (checked, pure) in the free variables ``inputs`` (each ``Real`` or a table
    of them); ``env`` types the other free variables."""
    names = Names(names_in(expr) | set(inputs) | set(env or {}))
    program = inline(expr, names)
    machine = _Jvp({**(env or {}), **inputs}, names)
    tangents = {}
    for x, ty in inputs.items():
        if not differentiable(ty):
            raise fragment_error(f"{x} has type {show_type(ty)}, which has no tangent", None)
        d = names.fresh("d" + x)
        machine.env[x] = (ty, d)
        machine.types[d] = ty
        tangents[x] = (d, ty)
    out: list[Binding] = []
    result, tangent, ty = machine.go(program, out)
    return Linearized(out, result, tangent, ty, tangents, machine.types, names, dict(env or {}))


__all__ = ["Binding", "Linearized", "Names", "differentiable", "inline", "jvp", "nest", "zero_of"]
