"""Hypothesis strategies: well-typed Linear A programs, built by construction (never filtered).

* ``nonlinear_programs``: a function ``f(x̄ : ℝ) → ℝ`` (and sometimes a helper ``g`` it calls)
  as a chain of lets over sin/cos/exp/+/×/literals/tup-unpack/calls. Operands are drawn from all
  live variables, so variables are shared (J must insert dups); every variable left unused is
  dropped explicitly at the end (Γ is relevant). ``exp`` is applied only to bounded values
  (parameters, literals, sin/cos results), so floats never overflow.
* ``linear_programs``: a function ``g(s̄ : ℝ ; ẏ̄ : ℝ) → (; ℝ…)`` built by keeping a multiset of
  live linear variables: ⊕ consumes two and makes one, ⊙ one for one (its scale factor a
  non-linear parameter, a rational literal or their product), dup one for two, 0 none for one,
  drop one (or a sum or scaling of some) for none, tupL/unpackL two for two, and calls of a
  linear helper one for one.
  Whatever is live at the end is returned; linear typing holds by construction.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from calculi.linear_ad.names import Supply
from calculi.linear_ad.pretty import show_program
from calculi.linear_ad.primitives import ADD, COS, EXP, LADD, MUL, SCALE, SIN
from calculi.linear_ad.rename import canonical
from calculi.linear_ad.syntax import (
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
    Tup,
    TupL,
    UnpackB,
    UnpackLB,
    Var,
    Zero,
    block,
    lvar_of,
    var_of,
)
from calculi.linear_ad.types import REAL, Mixed

LITERALS = ("0.5", "2.0", "-1.5", "3.0", "0.25", "-2.0")


def show(value: object) -> str:
    """Print generated programs (and tuples holding them) in Linear A's own syntax."""
    if isinstance(value, Program):
        return show_program(value, unicode=False)
    if isinstance(value, tuple):
        return "(" + ", ".join(show(v) for v in value) + ")"
    return repr(value)


class _NonLinear:
    def __init__(self, draw: Any, name: str, arity: int, helper: FuncDef | None, max_ops: int) -> None:
        self.draw = draw
        self.supply = Supply()
        self.params = [self.supply.binder(f"x{i}") for i in range(arity)]
        self.vars: list[Var] = [var_of(b) for b in self.params]
        self.bounded: set[int] = {v.name for v in self.vars}
        self.uses: Counter[int] = Counter()
        self.bindings: list[Binding] = []
        self.helper = helper
        self.name = name
        self.max_ops = max_ops

    def pick(self) -> Var:
        unused = [v for v in self.vars if self.uses[v.name] == 0]
        pool = unused if unused and self.draw(st.booleans()) else self.vars
        v: Var = self.draw(st.sampled_from(pool))
        self.uses[v.name] += 1
        return v

    def bind(self, rhs: Expr, bounded: bool = False, hint: str = "v") -> Var:
        b = self.supply.binder(hint)
        self.bindings.append(LetB((b,), (), rhs))
        v = var_of(b)
        self.vars.append(v)
        if bounded:
            self.bounded.add(v.name)
        return v

    def operand(self, depth: int) -> Expr:
        """A small expression tree (depth ≤ 2), so J and unzip meet nested sub-terms too."""
        if depth == 0 or self.draw(st.integers(0, 2)) > 0:
            return self.pick()
        choice = self.draw(st.sampled_from(["sin", "cos", "add", "mul", "lit"]))
        if choice in ("sin", "cos"):
            return Prim(SIN if choice == "sin" else COS, (self.operand(depth - 1),))
        if choice == "lit":
            return Prim(MUL, (Lit(self.draw(st.sampled_from(LITERALS))), self.operand(depth - 1)))
        return Prim(ADD if choice == "add" else MUL, (self.operand(depth - 1), self.operand(depth - 1)))

    def step(self) -> None:
        kinds = ["sin", "cos", "exp", "add", "mul", "mul", "lit", "tuple", "nested"]
        if self.helper is not None:
            kinds.append("call")
        kind = self.draw(st.sampled_from(kinds))
        if kind in ("sin", "cos"):
            self.bind(Prim(SIN if kind == "sin" else COS, (self.pick(),)), bounded=True)
        elif kind == "exp":
            bounded = [v for v in self.vars if v.name in self.bounded]
            v = self.draw(st.sampled_from(bounded))
            self.uses[v.name] += 1
            self.bind(Prim(EXP, (v,)))
        elif kind in ("add", "mul"):
            self.bind(Prim(ADD if kind == "add" else MUL, (self.pick(), self.pick())))
        elif kind == "lit":
            self.bind(Lit(self.draw(st.sampled_from(LITERALS))), bounded=True, hint="r")
        elif kind == "nested":
            self.bind(Prim(self.draw(st.sampled_from([ADD, MUL])), (self.operand(2), self.operand(2))))
        elif kind == "tuple":
            t = self.bind(Tup((self.pick(), self.pick())), hint="t")
            self.vars.remove(t)
            self.uses[t.name] += 1
            a, b = self.supply.binder("p"), self.supply.binder("q")
            self.bindings.append(UnpackB((a, b), t))
            self.vars.extend((var_of(a), var_of(b)))
        else:
            assert self.helper is not None
            args = tuple(self.pick() for _ in self.helper.params)
            self.bind(Call(self.helper.name, args, ()), hint="c")

    def build(self) -> FuncDef:
        for _ in range(self.draw(st.integers(0, self.max_ops))):
            self.step()
        result = self.vars[-1]
        self.uses[result.name] += 1
        unused = tuple(v for v in self.vars if self.uses[v.name] == 0)
        if unused:
            self.bindings.append(LetB((), (), Drop(Ret(unused, ()))))
        n = len(self.params)
        return canonical(FuncDef(self.name, tuple(self.params), (REAL,) * n, (), (), Mixed((REAL,), ()),
                                 block(self.bindings, result)))


@st.composite
def nonlinear_programs(draw: Any, max_ops: int = 10, max_arity: int = 3) -> Program:
    """A well-typed program whose last function ``f`` is non-linear, with one ℝ result."""
    helper = None
    if draw(st.booleans()):
        helper = _NonLinear(draw, "g", draw(st.integers(1, 2)), None, max_ops // 2).build()
    f = _NonLinear(draw, "f", draw(st.integers(1, max_arity)), helper, max_ops).build()
    return Program((helper, f) if helper is not None else (f,))


class _Linear:
    def __init__(self, draw: Any, name: str, n_nonlin: int, n_lin: int, helper: FuncDef | None,
                 max_ops: int) -> None:
        self.draw = draw
        self.supply = Supply()
        self.params = [self.supply.binder(f"s{i}") for i in range(n_nonlin)]
        self.lparams = [self.supply.binder(f"dy{i}") for i in range(n_lin)]
        self.live: list[LVar] = [lvar_of(b) for b in self.lparams]
        self.used: set[int] = set()
        self.bindings: list[Binding] = []
        self.helper = helper
        self.name = name
        self.max_ops = max_ops

    def take(self) -> LVar:
        i = self.draw(st.integers(0, len(self.live) - 1))
        return self.live.pop(i)

    def fresh(self, hint: str = "dz") -> LVar:
        b = self.supply.binder(hint)
        v = lvar_of(b)
        self.live.append(v)
        return v

    def let(self, rhs: Expr, n: int) -> None:
        outs = tuple(self.supply.binder("dz") for _ in range(n))
        self.bindings.append(LetB((), outs, rhs))
        self.live.extend(lvar_of(b) for b in outs)

    def factor(self) -> Expr:
        choices = ["lit"] + (["param", "product"] if self.params else [])
        kind = self.draw(st.sampled_from(choices))
        lit = Lit(self.draw(st.sampled_from(LITERALS)))
        if kind == "lit":
            return lit
        s = var_of(self.draw(st.sampled_from(self.params)))
        self.used.add(s.name)
        return s if kind == "param" else Prim(MUL, (s, lit))

    def step(self) -> None:
        n = len(self.live)
        kinds = ["zero"] + (["scale", "dup", "drop", "drop-scaled"] if n >= 1 else []) + \
            (["add", "tuple", "drop-sum"] if n >= 2 else [])
        if self.helper is not None and n >= 1:
            kinds.append("call")
        kind = self.draw(st.sampled_from(kinds))
        if kind == "zero":
            self.let(Zero(REAL), 1)
        elif kind == "scale":
            self.let(Prim(SCALE, (self.factor(),), (self.take(),)), 1)
        elif kind == "dup":
            self.let(Dup(self.take()), 2)
        elif kind == "drop":
            self.bindings.append(LetB((), (), Drop(self.take())))
        elif kind == "drop-scaled":
            self.bindings.append(LetB((), (), Drop(Prim(SCALE, (self.factor(),), (self.take(),)))))
        elif kind == "drop-sum":
            self.bindings.append(LetB((), (), Drop(Prim(LADD, (), (self.take(), self.take())))))
        elif kind == "add":
            self.let(Prim(LADD, (), (self.take(), self.take())), 1)
        elif kind == "tuple":
            t = self.supply.binder("dt")
            self.bindings.append(LetB((), (t,), TupL((self.take(), self.take()))))
            a, b = self.supply.binder("da"), self.supply.binder("db")
            self.bindings.append(UnpackLB((a, b), lvar_of(t)))
            self.live.extend((lvar_of(a), lvar_of(b)))
        else:
            assert self.helper is not None
            args = tuple(var_of(self.draw(st.sampled_from(self.params))) for _ in self.helper.params)
            self.used.update(a.name for a in args)
            self.let(Call(self.helper.name, args, (self.take(),)), 1)

    def build(self, single: bool = False) -> FuncDef:
        """``single``: end with exactly one live value (sum them, or make a 0)."""
        for _ in range(self.draw(st.integers(0, self.max_ops))):
            self.step()
        if single and not self.live:
            self.let(Zero(REAL), 1)
        while single and len(self.live) > 1:
            self.let(Prim(LADD, (), (self.take(), self.take())), 1)
        unused = tuple(var_of(b) for b in self.params if b.name not in self.used)
        if unused:
            self.bindings.append(LetB((), (), Drop(Ret(unused, ()))))
        body: Expr = block(self.bindings, Ret((), tuple(self.live)))
        return canonical(FuncDef(self.name, tuple(self.params), (REAL,) * len(self.params),
                                 tuple(self.lparams), (REAL,) * len(self.lparams),
                                 Mixed((), (REAL,) * len(self.live)), body))


@st.composite
def linear_programs(draw: Any, max_ops: int = 12) -> Program:
    """A well-typed program whose last function is linear: ``g(s̄ : ℝ ; ẏ̄ : ℝ) → (; ℝ…)``."""
    helper = None
    if draw(st.booleans()):
        helper = _Linear(draw, "h", draw(st.integers(1, 2)), 1, None, max_ops // 2).build(single=True)
    n_nonlin = draw(st.integers(1 if helper else 0, 2))
    g = _Linear(draw, "g", n_nonlin, draw(st.integers(1, 3)), helper, max_ops).build()
    return Program((helper, g) if helper is not None else (g,))


def rationals() -> st.SearchStrategy[Fraction]:
    return st.fractions(min_value=-3, max_value=3, max_denominator=8)


def points(arity: int) -> st.SearchStrategy[tuple[float, ...]]:
    return st.tuples(*[st.floats(-1.0, 1.0, allow_nan=False) for _ in range(arity)])


__all__ = ["linear_programs", "nonlinear_programs", "points", "rationals", "show"]
