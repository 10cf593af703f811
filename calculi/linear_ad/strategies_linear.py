"""Hypothesis strategies: well-typed linear Linear A programs, built by construction (never filtered).

``linear_programs``: a function ``g(s̄ : ℝ ; ẏ̄ : ℝ) → (; ℝ…)`` (and up to two linear helpers of
one to three linear and up to two non-linear parameters, one or two results) built by keeping a
multiset of live linear variables: ⊕ consumes two and makes one, ⊙ one for one (a quarter of
the time under one of the table's unary linear primitives, ``lneg(a ⊙ ẋ)``), ``a ⊙ ẋ ⊕ b ⊙ ẏ``
two for one, dup one for two, 0 none for one, drop one (or a sum or scaling of some) for none,
tupL/unpackL two for two (the tuple in between sometimes scaled, negated, or dup-ed and its copies added),
a call k for m. Scale factors are general: rational literals other than 0 and 1, non-linear
parameters, their sums and products, or non-linear lets of those. Each live variable carries the
inputs it depends on, and a drop never discards the last one that depends on any, so the map is
not the zero map (bar cancellation). Whatever is live at the end is returned; linear typing holds
by construction.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from calculi.linear_ad.names import Supply
from calculi.linear_ad.primitives import ADD, LADD, MUL, SCALE, scalar_primitives
from calculi.linear_ad.rename import canonical
from calculi.linear_ad.strategies_draw import choose
from calculi.linear_ad.syntax import (
    Binder,
    Binding,
    Call,
    Drop,
    Dup,
    Expr,
    FuncDef,
    LetB,
    Lit,
    LVar,
    Prim,
    Program,
    Ret,
    TupL,
    UnpackLB,
    Var,
    Zero,
    block,
    lvar_of,
    var_of,
)
from calculi.linear_ad.types import REAL, Mixed

UNARY_LINEAR = tuple(p for p in scalar_primitives() if p.linear and p.arity == 0 and p.larity == 1)
"""The table's unary linear primitives (``lneg``), drawn over a quarter of the scalings."""
FACTORS = ("0.5", "2.0", "-1.5", "3.0", "0.25", "-2.0", "1.25", "-0.75", "4.0", "-3.0", "0.125", "2.5")
"""Scale factors of the linear programs: rationals other than 0 and 1, so Jacobians are general."""


class _Linear:
    """One linear function, built step by step over a multiset of live linear variables."""

    def __init__(self, draw: Any, name: str, n_nonlin: int, n_lin: int,
                 helpers: dict[str, tuple[FuncDef, list[frozenset[int]]]], max_ops: int) -> None:
        self.draw = draw
        self.supply = Supply()
        self.params = [self.supply.binder(f"s{i}") for i in range(n_nonlin)]
        self.lparams = [self.supply.binder(f"dy{i}") for i in range(n_lin)]
        self.scalars: list[Var] = [var_of(b) for b in self.params]
        self.used: set[int] = set()
        self.live: list[LVar] = [lvar_of(b) for b in self.lparams]
        self.support = {b.name: frozenset((i,)) for i, b in enumerate(self.lparams)}
        """The inputs each live variable depends on (∅: it is certainly 0)."""
        self.bindings: list[Binding] = []
        self.helpers = helpers
        """Each helper, and which of its linear parameters each of its results depends on."""
        self.name = name
        self.max_ops = max_ops
        self.scaled = False

    def take(self, keep_support: bool = False) -> LVar:
        """A live variable, drawn at random; with ``keep_support``, not the last one that depends on
        an input (so that what is taken may be dropped)."""
        pool = list(range(len(self.live)))
        if keep_support:
            supported = [i for i in pool if self.support[self.live[i].name]]
            if len(supported) == 1:
                pool.remove(supported[0])
        i = choose(self.draw, pool)
        return self.live.pop(i)

    def droppable(self) -> bool:
        return len(self.live) >= 2 or (len(self.live) == 1 and not self.support[self.live[0].name])

    def let(self, rhs: Expr, n: int, support: frozenset[int]) -> list[LVar]:
        outs = tuple(self.supply.binder("dz") for _ in range(n))
        self.bindings.append(LetB((), outs, rhs))
        made = [lvar_of(b) for b in outs]
        self.live.extend(made)
        self.support.update((v.name, support) for v in made)
        return made

    def scalar(self) -> Var:
        s = choose(self.draw, self.scalars)
        self.used.add(s.name)
        return s

    def factor(self) -> Expr:
        """A scale factor: a rational literal other than 0 and 1, a non-linear value, or a sum or
        product of the two."""
        kind = choose(self.draw, ("lit", "var", "product", "sum", "square") if self.scalars else ("lit",))
        if kind == "lit":
            return Lit(choose(self.draw, FACTORS))
        s = self.scalar()
        if kind == "var":
            return s
        if kind == "square":
            return Prim(MUL, (s, self.scalar()))
        return Prim(MUL if kind == "product" else ADD, (s, Lit(choose(self.draw, FACTORS))))

    def step(self) -> None:
        n = len(self.live)
        kinds = (["scale", "axpy", "scale", "axpy"] if n >= 2 else ["scale", "scale"] if n else []) + \
            ["call", "call", "call"] * bool(self.callable()) + (["dup"] if n else []) + \
            (["add", "tuple"] if n >= 2 else []) + ["factor-let", "zero"] + \
            (["drop", "drop-scaled"] if self.droppable() else []) + (["drop-sum"] if n >= 3 else [])
        kind = choose(self.draw, kinds)
        if kind == "zero":
            self.let(Zero(REAL), 1, frozenset())
        elif kind == "factor-let":
            c = self.supply.binder("c")
            self.bindings.append(LetB((c,), (), self.factor()))
            self.scalars.append(var_of(c))
        elif kind == "scale" and choose(self.draw, (False, False, False, True)):
            v = self.take()
            self.scaled = True
            scaled = Prim(SCALE, (self.factor(),), (v,))
            self.let(Prim(choose(self.draw, UNARY_LINEAR), (), (scaled,)), 1, self.support[v.name])
        elif kind == "scale":
            self.scale(self.take())
        elif kind == "dup":
            v = self.take()
            self.let(Dup(v), 2, self.support[v.name])
        elif kind in ("add", "axpy"):
            a, b = self.take(), self.take()
            summands = (a, b) if kind == "add" else (Prim(SCALE, (self.factor(),), (a,)),
                                                     Prim(SCALE, (self.factor(),), (b,)))
            self.scaled |= kind == "axpy"
            self.let(Prim(LADD, (), summands), 1, self.support[a.name] | self.support[b.name])
        elif kind == "tuple":
            a, b = self.take(), self.take()
            t = self.supply.binder("dt")
            self.bindings.append(LetB((), (t,), TupL((a, b))))
            t = self.on_tuple(t)
            x, y = self.supply.binder("da"), self.supply.binder("db")
            self.bindings.append(UnpackLB((x, y), lvar_of(t)))
            self.live.extend((lvar_of(x), lvar_of(y)))
            self.support.update(((x.name, self.support[a.name]), (y.name, self.support[b.name])))
        elif kind == "drop":
            self.bindings.append(LetB((), (), Drop(self.take(keep_support=True))))
        elif kind == "drop-scaled":
            v = self.take(keep_support=True)
            self.bindings.append(LetB((), (), Drop(Prim(SCALE, (self.factor(),), (v,)))))
        elif kind == "drop-sum":
            a = self.take(keep_support=True)
            b = self.take(keep_support=True)
            self.bindings.append(LetB((), (), Drop(Prim(LADD, (), (a, b)))))
        else:
            self.call()

    def on_tuple(self, t: Binder) -> Binder:
        """The packed tuple ``t`` as it is, scaled (``a ⊙ ṫ``), under a unary linear primitive of the
        table (``lneg ṫ``) or doubled (``ṫ1 ⊕ ṫ2`` of ``dup(ṫ)``): each of them on a tuple-typed variable."""
        how = choose(self.draw, ("as is", "scaled", "unary", "doubled"))
        if how == "as is":
            return t
        out = self.supply.binder("dt")
        if how in ("scaled", "unary"):
            self.scaled |= how == "scaled"
            rhs = Prim(SCALE, (self.factor(),), (lvar_of(t),)) if how == "scaled" else \
                Prim(choose(self.draw, UNARY_LINEAR), (), (lvar_of(t),))
            self.bindings.append(LetB((), (out,), rhs))
            return out
        t1, t2 = self.supply.binder("dt"), self.supply.binder("dt")
        self.bindings.append(LetB((), (t1, t2), Dup(lvar_of(t))))
        self.bindings.append(LetB((), (out,), Prim(LADD, (), (lvar_of(t1), lvar_of(t2)))))
        return out

    def callable(self) -> list[FuncDef]:
        return [h for h, _ in self.helpers.values() if self.scalars or not h.params]

    def scale(self, v: LVar) -> None:
        self.scaled = True
        self.let(Prim(SCALE, (self.factor(),), (v,)), 1, self.support[v.name])

    def call(self) -> None:
        """``let (; ż̄) = h(s̄ ; ẏ̄)``: non-linear arguments in any order (repeats allowed), linear
        ones drawn from the live variables in any order (dup-ing one when too few are live)."""
        h = choose(self.draw, self.callable())
        while len(self.live) < len(h.lparams):
            if self.live:
                v = self.take()
                self.let(Dup(v), 2, self.support[v.name])
            else:
                self.let(Zero(REAL), 1, frozenset())
        args = tuple(self.scalar() for _ in h.params)
        largs = tuple(self.take() for _ in h.lparams)
        outs = self.let(Call(h.name, args, largs), len(h.result.lin), frozenset())
        for out, inputs in zip(outs, self.helpers[h.name][1], strict=True):
            self.support[out.name] = frozenset().union(*(self.support[largs[i].name] for i in inputs))

    def finish(self, results: int | None) -> FuncDef:
        """End with ``results`` live values (sum or dup them; ``None``: whatever is live), and drop
        the non-linear values never used."""
        for _ in range(self.draw(st.integers(1, self.max_ops))):
            self.step()
        supported = [i for i, v in enumerate(self.live) if self.support[v.name]]
        if results is None and not self.scaled and supported:  # not a mere routing of the inputs
            self.scale(self.live.pop(choose(self.draw, supported)))
        while results is not None and len(self.live) < results:
            if self.live:
                v = self.take()
                self.let(Dup(v), 2, self.support[v.name])
            else:
                self.let(Zero(REAL), 1, frozenset())
        while results is not None and len(self.live) > results:
            a, b = self.take(), self.take()
            self.let(Prim(LADD, (), (a, b)), 1, self.support[a.name] | self.support[b.name])
        unused = tuple(v for v in self.scalars if v.name not in self.used)
        if unused:
            self.bindings.append(LetB((), (), Drop(Ret(unused, ()))))
        body: Expr = block(self.bindings, Ret((), tuple(self.live)))
        return canonical(FuncDef(self.name, tuple(self.params), (REAL,) * len(self.params),
                                 tuple(self.lparams), (REAL,) * len(self.lparams),
                                 Mixed((), (REAL,) * len(self.live)), body))


@st.composite
def linear_programs(draw: Any, max_ops: int = 8) -> Program:
    """A well-typed program whose last function is linear, ``g(s̄ : ℝ ; ẏ̄ : ℝ) → (; ℝ…)``, and up to
    two linear helpers it calls (the second may call the first)."""
    helpers: dict[str, tuple[FuncDef, list[frozenset[int]]]] = {}
    for name in ("h", "k")[:choose(draw, [0, 1, 1, 2])]:
        maker = _Linear(draw, name, draw(st.integers(0, 2)), draw(st.integers(1, 3)), dict(helpers),
                        max_ops // 2)
        h = maker.finish(draw(st.integers(1, 2)))
        helpers[name] = h, [maker.support[v.name] for v in maker.live]
    n_nonlin = draw(st.integers(1 if any(h.params for h, _ in helpers.values()) else 0, 2))
    g = _Linear(draw, "g", n_nonlin, draw(st.integers(1, 3)), helpers, max_ops).finish(None)
    return Program((*(h for h, _ in helpers.values()), g))


__all__ = ["FACTORS", "UNARY_LINEAR", "linear_programs"]
