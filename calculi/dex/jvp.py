"""Forward mode as a program transformation: ``jvp`` splits a Dex program into its primal lets and
a linear program over the tangents of its inputs.

First every function is inlined (binders are renamed apart, so no substitution captures), then
each value with a tangent (one in which a ``Real`` occurs) is let-bound once and given a tangent
``d``: the linear program is built of the rules below, in which each tangent occurs linearly and
the primal appears only as a coefficient.

    J(a + b) = ȧ + ḃ      J(a * b) = ȧ * b + a * ḃ      J(a / b) = ȧ / b - (t / b) * ḃ
    J(exp a) = t * ȧ      J(log a) = ȧ / a             J(sqrt a) = (0.5 / t) * ȧ
    J(sum a) = sum ȧ      J(x.i) = ẋ.i                 J(for i:n. e) = for i:n. J(e)
    J((a, b)) = (ȧ, ḃ)    J(fst p) = fst ṗ             J(snd p) = snd ṗ
    J(if c then a else b) = if c then J(a) else J(b)    J(case e of l -> a) = case e of l -> J(a)

(``t`` is the primal result.) A ``for`` with a tangent keeps the intermediates of its body in a
table of residuals that its linear loop reads back, so nested loops are not recomputed; the
branches of an ``if`` or ``case`` recompute their own primal lets in the linear program (work
grows with the nesting of branches, not of loops). The effects' rules are in ``jvp_effects``.
Values without a ``Real`` (indices, Int, Bool) have no tangent and stay as written; a function
left unapplied is outside the fragment and raises an error naming the rule ``AD-Fragment``.
A run of ``let``s is walked as a loop, so a body of thousands of lets is linear work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from calculi.dex.inlining import inline, names_in
from calculi.dex.jvp_effects import EffectRules, Jvp
from calculi.dex.pretty import show_type
from calculi.dex.syntax import (
    BOOL,
    INT,
    PRIMITIVES,
    REAL,
    UNIT,
    App,
    At,
    BinOp,
    BoolLit,
    Case,
    Enum,
    Expr,
    For,
    If,
    Index,
    IntLit,
    Let,
    Neg,
    Pair,
    PairT,
    RealLit,
    RealT,
    Seq,
    TableT,
    Type,
    UnitLit,
    Var,
)
from calculi.dex.tangents import (
    Binding,
    Names,
    differentiable,
    fragment_error,
    keep_residuals,
    linear_half,
    nest,
    zero_of,
)


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
    states: dict[str, Type] = field(default_factory=dict)
    """Each tangent ``State`` reference with the type of its state."""

    def inputs_types(self) -> dict[str, Type]:
        return {x: ty for x, (_, ty) in self.inputs.items()}

    def program(self) -> Expr:
        """The JVP as one Dex program: its free variables are the inputs and their tangents."""
        return nest(self.primal, Pair(self.result, self.tangent or zero_of(self.type)))


class _Jvp(EffectRules):
    def __init__(self, env: dict[str, Type], names: Names) -> None:
        super().__init__()
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

    def go(self, e: Expr, out: list[Binding]) -> Jvp:
        while isinstance(e, Let | Seq):
            if isinstance(e, Seq):
                pa, _, _ = self.go(e.first, out)
                if not isinstance(pa, UnitLit | Var):
                    self.primal(out, "u", pa)
                e = e.then
                continue
            if self.alias(e.name, e.bound, out):
                e = e.body
                continue
            pa, da, ty = self.go(e.bound, out)
            out.append(Binding(e.name, pa, False))
            d = None
            if da is not None:
                d = self.names.fresh("d" + e.name)
                self.types[d] = ty
                out.append(Binding(d, da, True))
            self.env[e.name] = (ty, d)
            e = e.body
        return self.step(e, out)

    def step(self, e: Expr, out: list[Binding]) -> Jvp:
        match e:
            case Var(name=x) if x in self.env:
                ty, d = self.env[x]
                return e, (Var(d) if d else None), ty
            case RealLit():
                return e, None, REAL
            case IntLit():
                return e, None, INT
            case BoolLit():
                return e, None, BOOL
            case UnitLit():
                return e, None, UNIT
            case At(value=v, index=n):
                return (e if isinstance(n, Enum) else At(self.go(v, out)[0], n, span=e.span)), None, n
            case Pair(fst=a, snd=b):
                (pa, da, ta), (pb, db, tb) = self.go(a, out), self.go(b, out)
                ty = PairT(ta, tb)
                if da is None and db is None:
                    return Pair(pa, pb, span=e.span), None, ty
                return Pair(pa, pb, span=e.span), Pair(da or zero_of(ta), db or zero_of(tb)), ty
            case BinOp(op=op, left=a, right=b):
                (pa, da, ty), (pb, db, _) = self.go(a, out), self.go(b, out)
                if op in ("<", "<=", "=="):
                    return BinOp(op, pa, pb, span=e.span), None, BOOL
                if not isinstance(ty, RealT):
                    return BinOp(op, pa, pb, span=e.span), None, ty
                t = self.primal(out, "t", BinOp(op, pa, pb, span=e.span))
                return t, self.binop(op, pa, da, pb, db, t, out), REAL
            case Neg(arg=a):
                pa, da, ty = self.go(a, out)
                if not isinstance(ty, RealT):
                    return Neg(pa, span=e.span), None, ty
                t = self.primal(out, "t", Neg(pa, span=e.span))
                return t, (self.linear(out, "t", Neg(da), REAL) if da else None), REAL
            case App(fun=Var(name=p), arg=a) if p in PRIMITIVES and p not in self.env:
                return self.prim(p, a, e, out)
            case For(index=i, type=n, body=body):
                self.env[i] = (n, None)
                inner: list[Binding] = []
                pb, db, ty = self.go(body, inner)
                table = TableT(n, ty)
                if db is None and not any(b.linear for b in inner):
                    body_primal = nest(inner, pb, primal_only=True)
                    return self.primal(out, "t", For(i, n, body_primal, span=e.span)), None, table
                return self.residual_loop(e, inner, pb, db, table, out)
            case Index(table=x, index=i):
                (px, dx, tx), (pi, _, _) = self.go(x, out), self.go(i, out)
                assert isinstance(tx, TableT)
                return Index(px, pi, span=e.span), (Index(dx, pi) if dx else None), tx.elem
            case If(cond=c, then=a, orelse=b):
                pc, _, _ = self.go(c, out)
                return self.branches(lambda bs: If(pc, bs[0], bs[1], span=e.span), [a, b], out)
            case Case(scrutinee=s, alts=alts):
                ps, _, _ = self.go(s, out)
                labels = [label for label, _ in alts]
                return self.branches(lambda bs: Case(ps, tuple(zip(labels, bs, strict=True)),
                                                     span=e.span), [b for _, b in alts], out)
        effect = self.effect(e, out)
        if effect is not None:
            return effect
        raise fragment_error(f"reverse mode covers Real arithmetic, pairs, for, indexing, sum, exp, "
                             f"log, sqrt, let, if, case and the handlers; not this "
                             f"{type(e).__name__}", e.span)

    def branches(self, build: Callable[[list[Expr]], Expr], bodies: list[Expr],
                 out: list[Binding]) -> Jvp:
        """``if`` and ``case``: one linear branch per primal branch, each recomputing its primal
        lets (but not its effects on outer references, which the primal branch has run)."""
        done = []
        for body in bodies:
            inner: list[Binding] = []
            done.append((inner, *self.go(body, inner)))
        ty = done[0][3]
        t = self.primal(out, "t", build([nest(inner, p, primal_only=True) for inner, p, _, _ in done]))
        if all(d is None and not any(b.linear for b in inner) for inner, _, d, _ in done):
            return t, None, ty
        tangent = build([nest(self.recomputed(inner), d or zero_of(ty)) for inner, _, d, _ in done])
        if not differentiable(ty):
            self.linear(out, "u", tangent, UNIT)
            return t, None, ty
        return t, self.linear(out, "t", tangent, ty), ty

    def residual_loop(self, loop: For, inner: list[Binding], pb: Expr, db: Expr | None,
                      table: TableT, out: list[Binding]) -> Jvp:
        """A ``for`` with a tangent: its primal loop also keeps each intermediate of its body
        (the residuals ``R.i = (b, (t1, (t2, …())))``), which the linear loop reads back instead of
        computing them again; so nested loops do not recompute their inner bodies."""
        i, n, span = loop.index, loop.type, loop.span
        residuals = self.primal(out, "res", For(i, n, keep_residuals(inner, pb), span=span))
        t = self.primal(out, "t", For(i, n, App(Var("fst"), Index(residuals, Var(i)))))
        record = App(Var("snd"), Index(residuals, Var(i)))
        body = linear_half(inner, record, self.names, db or UnitLit())
        if db is None:
            self.linear(out, "u", For(i, n, body, span=span), TableT(n, UNIT))
            return t, None, table
        return t, self.linear(out, "t", For(i, n, body, span=span), table), table

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

    def prim(self, p: str, a: Expr, e: Expr, out: list[Binding]) -> Jvp:
        if p in ("get", "ask"):
            return self.read(p, a, e, out)
        pa, da, ty = self.go(a, out)
        if p in ("fst", "snd"):
            assert isinstance(ty, PairT)
            part = ty.fst if p == "fst" else ty.snd
            if da is None or not differentiable(part):
                return App(Var(p), pa, span=e.span), None, part
            if isinstance(da, Pair):
                return App(Var(p), pa, span=e.span), (da.fst if p == "fst" else da.snd), part
            return App(Var(p), pa, span=e.span), App(Var(p), da), part
        if p in ("floor", "ordinal", "to_real"):
            return App(Var(p), pa, span=e.span), None, REAL if p == "to_real" else INT
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
    """Linearize ``expr`` (checked) in the free variables ``inputs`` (each of a type in which a
    ``Real`` occurs); ``env`` types the other free variables."""
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
    try:
        result, tangent, ty = machine.go(program, out)
    except KeyError as missing:
        raise fragment_error(f"{missing.args[0]} is used in a way reverse mode does not follow "
                             "(a reference or function passed as data)", expr.span) from None
    return Linearized(out, result, tangent, ty, tangents, machine.types, names, dict(env or {}),
                      machine.states)


__all__ = ["Binding", "Linearized", "Names", "differentiable", "inline", "jvp", "nest", "zero_of"]
