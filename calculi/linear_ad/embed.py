"""The embedding ⌊·⌋: a linear program read as an ordinary one, so that every stage feeds every stage.

The linear context is forgotten (it joins the non-linear one, after it) and each linear primitive is
read as an ordinary one, by its row in ``readings`` (keyed by the primitive object)::

    Γ ; Δ ⊢ e : (τ̄ ; σ̄)
    ────────────────────────── Embed
    Γ, Δ ; · ⊢ ⌊e⌋ : (τ̄, σ̄ ;)

    ⌊ẋ⌋ = x    ⌊0 : σ⌋ = zero(σ)    ⌊(x̄ ; ẏ̄)⌋ = (x̄, ȳ ;)    ⌊tupL(ẏ̄)⌋ = tup(ȳ)
    ⌊dup ė⌋ = let t = ⌊ė⌋ in (t, t ;)
    ⌊ė1 ⊕ ė2⌋ = ⌊ė1⌋ + ⌊ė2⌋    ⌊s ⊙ ė⌋ = s × ⌊ė⌋    ⌊lneg ė⌋ = -⌊ė⌋    ⌊f(x̄ ; ẏ̄)⌋ = f(x̄, ȳ ;)
    ⌊let (x̄ ; ẏ̄) = e1 in e2⌋ = let (x̄, ȳ ;) = ⌊e1⌋ in ⌊e2⌋    ⌊unpackL ẏ⌋ = unpack y

⊕, ⊙ and lneg act leaf by leaf on tuples, where + × and - take ℝ only: at a tuple type (σ1, …, σn)
each is read item by item (``LEAFWISE``), its constant arguments bound once and each linear argument
unpacked: ⌊s ⊙ ė⌋ = let c = s in let (u1, …, un) = unpack ⌊ė⌋ in tup(⌊c ⊙ u1⌋, …, ⌊c ⊙ un⌋), the items
read at their own types. The types are the checker's, asked for once, when the first of these
primitives is met.

A linear variable is used exactly once, so its image satisfies the non-linear relevance rule (used at
least once), and a function keeps its name: calls stay calls. ``embed_program(P)`` is a program with no
linear part, so ``jvp(⌊grad f⌋)``, ``jvp(⌊jvp f⌋)`` and ``vjp(⌊jvp f⌋)`` are ordinary stages of it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from calculi.core.errors import TypeCheckError
from calculi.linear_ad.check import Typing, check_program, type_in
from calculi.linear_ad.primitives import ADD, LADD, LNEG, MUL, NEG, SCALE, params_dict
from calculi.linear_ad.syntax import (
    Binder,
    Binding,
    Block,
    Call,
    Drop,
    Dup,
    Expr,
    FuncDef,
    LetB,
    Lit,
    LVar,
    Prim,
    Primitive,
    Program,
    Ret,
    Tup,
    TupL,
    UnpackB,
    UnpackLB,
    Var,
    Zero,
    block,
    subexpressions,
)
from calculi.linear_ad.types import REAL, Mixed, TupleType, Type

Reading = Callable[[tuple[Expr, ...], tuple[Expr, ...], dict[str, Any]], Expr]
"""The non-linear reading of a linear primitive: its constant arguments, its (embedded) linear
arguments and its parameters give an expression with no linear part."""

readings: dict[Primitive, Reading] = {}
"""One row per linear primitive: the primitive it is read as when the linear context is forgotten."""

zero_readings: dict[type, Callable[[Type], Expr]] = {}
"""The ordinary zero of each kind of type (``0 : σ`` becomes this non-linear expression)."""


def reads_as(p: Primitive, reading: Reading) -> None:
    """Register the non-linear reading of the linear primitive ``p``."""
    if not p.linear:
        raise ValueError(f"{p.name} is not linear: only linear primitives are read by the embedding")
    readings[p] = reading


reads_as(LADD, lambda args, largs, ps: Prim(ADD, largs))
reads_as(SCALE, lambda args, largs, ps: Prim(MUL, (*args, *largs)))
reads_as(LNEG, lambda args, largs, ps: Prim(NEG, largs))
zero_readings[type(REAL)] = lambda t: Lit("0")


LEAFWISE = frozenset((LADD, SCALE, LNEG))
"""The linear primitives that act leaf by leaf on a tuple of their linear arguments' type."""


def missing_rows(primitives: list[Primitive]) -> list[str]:
    """The linear primitives among ``primitives`` that have no non-linear reading."""
    return [p.name for p in primitives if p.linear and p not in readings]


class _Embed:
    def __init__(self, start: int, types: Callable[[], dict[int, Mixed]]) -> None:
        self.next = start
        self.types = types
        """The function's types (``Tables.exprs``), computed when first asked for."""

    def fresh(self, hint: str) -> Binder:
        self.next += 1
        return Binder(self.next, hint)

    def zero(self, t: Type) -> Expr:
        if isinstance(t, TupleType):
            parts = [self.fresh("z") for _ in t.items]
            lets: list[Binding] = [LetB((b,), (), self.zero(s)) for b, s in zip(parts, t.items, strict=True)]
            return block(lets, Tup(tuple(Var(b.name, b.hint) for b in parts)))
        rule = zero_readings.get(type(t))
        if rule is None:
            raise TypeCheckError(f"Embed: no ordinary zero of type {t} (a row of zero_readings is missing)")
        return rule(t)

    def expr(self, e: Expr) -> Expr:
        if isinstance(e, Var | Lit):
            return e
        if isinstance(e, LVar):
            return Var(e.name, e.hint)
        if isinstance(e, Zero):
            return self.zero(e.type)
        if isinstance(e, Ret):
            return Ret((*e.vars, *(Var(v.name, v.hint) for v in e.lvars)), ())
        if isinstance(e, Tup):
            return e
        if isinstance(e, TupL):
            return Tup(tuple(Var(v.name, v.hint) for v in e.lvars))
        if isinstance(e, Prim):
            args = tuple(self.expr(a) for a in e.args)
            largs = tuple(self.expr(a) for a in e.largs)
            if not e.prim.linear:
                return Prim(e.prim, args, largs, e.params)
            reading = readings.get(e.prim)
            if reading is None:
                raise TypeCheckError(f"Embed: the linear primitive {e.prim.name} has no non-linear reading "
                                     "(a row of embed.readings is missing)")
            if e.prim in LEAFWISE:
                ty = type_in(self.types(), e).lin[0]
                if isinstance(ty, TupleType):
                    return self.leafwise(reading, args, largs, params_dict(e.params), ty)
            return reading(args, largs, params_dict(e.params))
        if isinstance(e, Dup):
            t = self.fresh("t")
            return Block((LetB((t,), (), self.expr(e.arg)),), Ret((Var(t.name, t.hint),) * 2, ()))
        if isinstance(e, Drop):
            return Drop(self.expr(e.arg))
        if isinstance(e, Call):
            return Call(e.func, (*e.args, *(Var(v.name, v.hint) for v in e.largs)), ())
        if isinstance(e, Block):
            return Block(tuple(self.binding(b) for b in e.bindings), self.expr(e.result))
        raise TypeCheckError(f"Embed: unknown expression {type(e).__name__}")

    def leafwise(self, reading: Reading, args: tuple[Expr, ...], largs: tuple[Expr, ...],
                 params: dict[str, Any], t: TupleType) -> Expr:
        """A leaf-wise primitive's ``reading`` at the tuple type ``t``, item by item."""
        lets: list[Binding] = []
        consts = []
        for a in args:
            c = self.fresh("c")
            lets.append(LetB((c,), (), a))
            consts.append(Var(c.name, c.hint))
        unpacked: list[list[Var]] = []
        for a in largs:
            v, us = self.fresh("v"), [self.fresh("u") for _ in t.items]
            lets += [LetB((v,), (), a), UnpackB(tuple(us), Var(v.name, v.hint))]
            unpacked.append([Var(u.name, u.hint) for u in us])
        if not t.items:  # () ⊕ () = (): the constants are still used once
            lets.append(LetB((), (), Drop(Ret(tuple(consts), ()))))
        results = []
        for i, ty in enumerate(t.items):
            here: tuple[Expr, ...] = tuple(vs[i] for vs in unpacked)
            y = self.fresh("y")
            lets.append(LetB((y,), (), self.leafwise(reading, tuple(consts), here, params, ty)
                             if isinstance(ty, TupleType) else reading(tuple(consts), here, params)))
            results.append(Var(y.name, y.hint))
        return block(lets, Tup(tuple(results)))

    def binding(self, b: Binding) -> Binding:
        if isinstance(b, LetB):
            return LetB((*b.binders, *b.lbinders), (), self.expr(b.rhs))
        if isinstance(b, UnpackLB):
            return UnpackB(b.lbinders, Var(b.var.name, b.var.hint))
        return b


def _largest_name(d: FuncDef) -> int:
    names = [b.name for b in (*d.params, *d.lparams)]
    for e in subexpressions(d.body):
        if isinstance(e, Var | LVar):
            names.append(e.name)
        elif isinstance(e, Block):
            for b in e.bindings:
                if isinstance(b, LetB):
                    names.extend(x.name for x in (*b.binders, *b.lbinders))
                elif isinstance(b, UnpackB):
                    names.extend(x.name for x in b.binders)
                elif isinstance(b, UnpackLB):
                    names.extend(x.name for x in b.lbinders)
    return max(names, default=0)


def embed_def(d: FuncDef, typing: Callable[[], Typing]) -> FuncDef:
    """⌊d⌋: ``def f(x̄ : τ̄ ; ẏ̄ : σ̄) → (τ̄' ; σ̄')`` read as ``def f(x̄ : τ̄, y : σ̄ ;) → (τ̄', σ̄' ;)``;
    ``typing`` gives its program's types when asked."""
    body = _Embed(_largest_name(d), lambda: typing().of(d.name).exprs).expr(d.body)
    return FuncDef(d.name, (*d.params, *d.lparams), (*d.param_types, *d.lparam_types), (), (),
                   Mixed((*d.result.nonlin, *d.result.lin), ()), body)


def embed_program(program: Program) -> Program:
    """⌊P⌋: every definition embedded (names kept, so calls still resolve)."""
    @functools.cache
    def typing() -> Typing:  # (checked only if a LEAFWISE primitive is met)
        return check_program(program)

    return Program(tuple(embed_def(d, typing) for d in program.defs))


def is_ordinary(program: Program) -> bool:
    """No linear parameter, result, variable or primitive anywhere: what ``embed_program`` returns."""
    for d in program.defs:
        if d.lparams or d.result.lin:
            return False
        for e in subexpressions(d.body):
            if isinstance(e, LVar | TupL | Dup | Zero) or (isinstance(e, Prim) and e.prim.linear):
                return False
    return True
