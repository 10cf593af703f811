"""Hypothesis strategies: well-typed Linear A programs, built by construction (never filtered).

* ``nonlinear_programs``: a function ``f(x̄ : ℝ) → ℝ`` (and up to two helpers, each of one to three
  parameters and one or two results, the second of which may call the first) as a chain of lets over
  the non-linear primitives on ℝ (read from the rule tables: every primitive with a JVP rule is
  drawn), literals, tup-unpack and calls. Operands are drawn from all live variables, so variables
  are shared (J must insert dups) and a call's arguments come in any order, repeated or not; every
  variable left unused is dropped explicitly at the end (Γ is relevant). Values stay finite by
  construction: ``exp`` and ``pow``'s exponent take bounded values (parameters, literals, results of
  sin/cos/tanh/logistic/heaviside), and an argument the table marks positive (``positive_args``:
  log, sqrt, a divisor, pow's base) is built positive, ``v × v + c`` or ``exp b``; ``x ** n`` with
  an integer literal ``n`` takes any base.
* ``linear_programs`` (in ``strategies_linear``, importable from here): a linear function
  ``g(s̄ : ℝ ; ẏ̄ : ℝ) → (; ℝ…)`` and its linear helpers.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from calculi.linear_ad.names import Supply
from calculi.linear_ad.pretty import show_program
from calculi.linear_ad.primitives import (
    ADD,
    COS,
    EXP,
    LOGISTIC,
    MUL,
    POW,
    SIN,
    TANH,
    jvp_rules,
    positive_args,
    scalar_primitives,
)
from calculi.linear_ad.rename import canonical
from calculi.linear_ad.strategies_draw import choose
from calculi.linear_ad.strategies_linear import linear_programs
from calculi.linear_ad.syntax import (
    Binding,
    Call,
    Drop,
    Expr,
    FuncDef,
    LetB,
    Lit,
    Prim,
    Primitive,
    Program,
    Ret,
    Tup,
    UnpackB,
    Var,
    block,
    var_of,
)
from calculi.linear_ad.types import REAL, Mixed

NONLINEAR = tuple(p for p in scalar_primitives() if not p.linear and p in jvp_rules)
"""The non-linear primitives the generators draw: every primitive on ℝ with a JVP rule."""
BOUNDED = frozenset((SIN, COS, TANH, LOGISTIC)) | frozenset(p for p in NONLINEAR if p.name == "heaviside")
"""Primitives whose results lie in [-1, 1] whatever their arguments."""
POSITIVE_CONSTANTS = ("0.5", "2.0", "0.25")
INTEGER_EXPONENTS = ("2.0", "3.0")
STEP_VALUES = ("0.0", "0.5", "1.0")
"""The value at 0 of a generated ``heaviside(x, h)``: a literal, as in the subgradient rules."""

LITERALS = ("0.5", "2.0", "-1.5", "3.0", "0.25", "-2.0")


def show(value: object) -> str:
    """Print generated programs (and tuples holding them) in Linear A's own syntax."""
    if isinstance(value, Program):
        return show_program(value, unicode=False)
    if isinstance(value, tuple):
        return "(" + ", ".join(show(v) for v in value) + ")"
    return repr(value)


class _NonLinear:
    def __init__(self, draw: Any, name: str, arity: int, helpers: list[FuncDef], max_ops: int) -> None:
        self.draw = draw
        self.supply = Supply()
        self.params = [self.supply.binder(f"x{i}") for i in range(arity)]
        self.vars: list[Var] = [var_of(b) for b in self.params]
        self.bounded: set[int] = {v.name for v in self.vars}
        self.uses: Counter[int] = Counter()
        self.bindings: list[Binding] = []
        self.helpers = helpers
        self.name = name
        self.max_ops = max_ops

    def pick(self) -> Var:
        """A live variable, those not used yet twice as likely (one choice, so it shrinks fast)."""
        v = choose(self.draw, self.vars + [v for v in self.vars if self.uses[v.name] == 0])
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
        choice = choose(self.draw, ["sin", "cos", "add", "mul", "lit"])
        if choice in ("sin", "cos"):
            return Prim(SIN if choice == "sin" else COS, (self.operand(depth - 1),))
        if choice == "lit":
            return Prim(MUL, (Lit(choose(self.draw, LITERALS)), self.operand(depth - 1)))
        return Prim(ADD if choice == "add" else MUL, (self.operand(depth - 1), self.operand(depth - 1)))

    def bounded_var(self) -> Var:
        v = choose(self.draw, [v for v in self.vars if v.name in self.bounded])
        self.uses[v.name] += 1
        return v

    def positive(self) -> Expr:
        """A positive operand: ``v × v + c`` or ``exp b`` (b bounded)."""
        if self.draw(st.booleans()):
            return Prim(EXP, (self.bounded_var(),))
        v = self.pick()
        return Prim(ADD, (Prim(MUL, (v, v)), Lit(choose(self.draw, POSITIVE_CONSTANTS))))

    def apply(self, p: Primitive) -> None:
        """``p`` applied to operands in its domain (finite values by construction)."""
        assert p.arity is not None
        if p is POW and self.draw(st.booleans()):
            args: tuple[Expr, ...] = (self.pick(), Lit(choose(self.draw, INTEGER_EXPONENTS)))
        elif p is POW:
            b = self.bounded_var()
            base = Prim(ADD, (Prim(MUL, (b, b)), Lit(choose(self.draw, POSITIVE_CONSTANTS))))
            args = (base, self.bounded_var())
        elif p is EXP:
            args = (self.bounded_var(),)
        elif p.name == "heaviside":
            args = (self.pick(), Lit(choose(self.draw, STEP_VALUES)))
        else:
            positive = positive_args.get(p, ())
            args = tuple(self.positive() if i in positive else self.pick() for i in range(p.arity))
        self.bind(Prim(p, args), bounded=p in BOUNDED)

    def step(self) -> None:
        kinds = ["prim"] * 6 + ["lit", "tuple", "nested"]
        if self.helpers:
            kinds.extend(["call", "call"])
        kind = choose(self.draw, kinds)
        if kind == "prim":
            self.apply(choose(self.draw, NONLINEAR))
        elif kind == "lit":
            self.bind(Lit(choose(self.draw, LITERALS)), bounded=True, hint="r")
        elif kind == "nested":
            self.bind(Prim(choose(self.draw, [ADD, MUL]), (self.operand(2), self.operand(2))))
        elif kind == "tuple":
            t = self.bind(Tup((self.pick(), self.pick())), hint="t")
            self.vars.remove(t)
            self.uses[t.name] += 1
            a, b = self.supply.binder("p"), self.supply.binder("q")
            self.bindings.append(UnpackB((a, b), t))
            self.vars.extend((var_of(a), var_of(b)))
        else:
            helper = choose(self.draw, self.helpers)
            args = tuple(self.pick() for _ in helper.params)
            outs = tuple(self.supply.binder("c") for _ in helper.result.nonlin)
            self.bindings.append(LetB(outs, (), Call(helper.name, args, ())))
            self.vars.extend(var_of(b) for b in outs)

    def build(self, results: int = 1) -> FuncDef:
        """The function, returning the last value (and, for two results, another, perhaps the same)."""
        for _ in range(self.draw(st.integers(0, self.max_ops))):
            self.step()
        outs = [self.vars[-1]] + [self.pick() for _ in range(results - 1)]
        self.uses[outs[0].name] += 1
        unused = tuple(v for v in self.vars if self.uses[v.name] == 0)
        if unused:
            self.bindings.append(LetB((), (), Drop(Ret(unused, ()))))
        n = len(self.params)
        result: Expr = outs[0] if results == 1 else Ret(tuple(outs), ())
        return canonical(FuncDef(self.name, tuple(self.params), (REAL,) * n, (), (),
                                 Mixed((REAL,) * results, ()), block(self.bindings, result)))


@st.composite
def nonlinear_programs(draw: Any, max_ops: int = 10, max_arity: int = 3) -> Program:
    """A well-typed program whose last function ``f`` is non-linear, with one ℝ result, and up to two
    helpers of one or two results."""
    helpers: list[FuncDef] = []
    for name in ("g", "h")[:choose(draw, [0, 1, 1, 2])]:
        arity = draw(st.integers(1, 3))
        maker = _NonLinear(draw, name, arity, list(helpers), max_ops // 2)
        helpers.append(maker.build(draw(st.integers(1, 2))))
    f = _NonLinear(draw, "f", draw(st.integers(1, max_arity)), helpers, max_ops).build()
    return Program((*helpers, f))


def primitive_programs() -> list[Program]:
    """One program per non-linear primitive of the table: ``def f(x̄ : ℝ) → ℝ = p(ā)``, each argument
    a parameter, or ``x × x + 0.5`` where the table wants it positive (for rule coverage)."""
    out = []
    for p in NONLINEAR:
        assert p.arity is not None
        supply = Supply()
        params = [supply.binder(f"x{i}") for i in range(p.arity)]
        args: list[Expr] = [var_of(b) for b in params]
        for i in positive_args.get(p, ()):
            v = var_of(params[i])
            args[i] = Prim(ADD, (Prim(MUL, (v, v)), Lit("0.5")))
        out.append(Program((FuncDef("f", tuple(params), (REAL,) * p.arity, (), (), Mixed((REAL,), ()),
                                    Prim(p, tuple(args))),)))
    return out


def rationals() -> st.SearchStrategy[Fraction]:
    return st.fractions(min_value=-3, max_value=3, max_denominator=8)


def points(arity: int) -> st.SearchStrategy[tuple[float, ...]]:
    return st.tuples(*[st.floats(-1.0, 1.0, allow_nan=False) for _ in range(arity)])


__all__ = ["linear_programs", "nonlinear_programs", "points", "primitive_programs", "rationals", "show"]
