"""Each primitive's rows, checked against an independent oracle: its JVP rule against sympy's
derivative, its transpose rule against the adjoint identity, its float implementation against
NumPy. Every theorem iterates over the rule tables (``scalar_primitives``), so a primitive added
later is checked without an edit here.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cache
from typing import Any

import numpy as np
import sympy
from hypothesis import strategies as st

from calculi.linear_ad.check import check_program
from calculi.linear_ad.eval import Cost, Evaluator
from calculi.linear_ad.laws import dot
from calculi.linear_ad.names import Supply
from calculi.linear_ad.primitives import (
    FLOAT,
    FRACTION,
    NUMPY,
    SYMPY,
    cost_class,
    impl_rules,
    jvp_rules,
    positive_args,
    scalar_primitives,
    transpose_rules,
)
from calculi.linear_ad.syntax import FuncDef, LetB, Prim, Primitive, Program, Ret, block, lvar_of, var_of
from calculi.linear_ad.transpose import transpose_name, transpose_program
from calculi.linear_ad.types import REAL, Mixed
from proofs.linear_ad.fixtures import SYMBOLIC, YOLO
from proofs.registry import theorem

NONLINEAR = [p for p in scalar_primitives() if not p.linear and p.arity]
LINEAR = [p for p in scalar_primitives() if p.linear]


def _name(value: object) -> str:
    return value.name if isinstance(value, Primitive) else repr(value)


def jvp_program(p: Primitive) -> Program:
    """``def f(x̄ : ℝ ; ẋ̄ : ℝ) -> (ℝ ; ℝ) = let y = P in let (; ẏ) = Ṫ in (y ; ẏ)`` for
    ``(P, Ṫ) = jvp_rules[p](x̄, ẋ̄)``: the rule as a checked program."""
    assert p.arity is not None
    supply = Supply()
    xs = supply.binders(tuple(f"x{i}" for i in range(p.arity)))
    dxs = supply.binders(tuple(f"dx{i}" for i in range(p.arity)))
    primal, tangent = jvp_rules[p](tuple(map(var_of, xs)), tuple(map(lvar_of, dxs)), (REAL,) * p.arity, {})
    y, dy = supply.binder("y"), supply.binder("dy")
    body = block([LetB((y,), (), primal), LetB((), (dy,), tangent)], Ret((var_of(y),), (lvar_of(dy),)))
    return Program((FuncDef("f", xs, (REAL,) * p.arity, dxs, (REAL,) * p.arity, Mixed((REAL,), (REAL,)),
                            body),))


@cache
def jvp_work(p: Primitive) -> int:
    """W(J p): the work of p's JVP rule (primal and tangent), at a point inside p's domain."""
    assert p.arity is not None
    cost = Cost()
    Evaluator(check_program(jvp_program(p)), FLOAT, cost=cost).call("f", [0.75] * p.arity, [1.0] * p.arity)
    return cost.total


def beyond_four(cost: Cost) -> int:
    """Σ (W(J p) − 4)⁺ over the applications counted in ``cost``: what the primitives whose JVP rule
    costs more than the paper's four (div, pow, max …) add to P15's bound of four per operation."""
    return sum(cost.ops[cost_class.get(p, p.name)] * max(0, jvp_work(p) - 4) for p in NONLINEAR)


def _zero(value: Any) -> bool:
    value = sympy.sympify(value).doit()
    return bool(value == 0 or sympy.cancel(sympy.together(value)) == 0 or sympy.simplify(value) == 0)


def points(arity: int) -> st.SearchStrategy[tuple[Fraction, ...]]:
    """Distinct non-zero rationals: away from the kinks of abs, max, min and heaviside."""
    nonzero = st.fractions(-3, 3, max_denominator=6).filter(lambda q: q != 0)
    return st.lists(nonzero, min_size=arity, max_size=arity, unique=True).map(tuple)


def agrees_with_sympy(p: Primitive, values: list[Any], at_point: bool) -> None:
    """J(p) run in sympy at ``values`` against sympy's ∂p/∂xi (its real part at a point)."""
    assert p.arity is not None
    typing = check_program(jvp_program(p))
    xs = sympy.symbols(f"x0:{p.arity}", real=True)
    dxs = sympy.symbols(f"d0:{p.arity}")
    exact = impl_rules[p](SYMPY, *xs)
    (y,), (dy,) = Evaluator(typing, SYMPY).call("f", values, list(dxs))
    subs = dict(zip(xs, values, strict=True))
    assert _zero(y - sympy.sympify(exact).subs(subs)), f"{p.name}: primal {y}"
    for x, d in zip(xs, dxs, strict=True):
        expected = sympy.diff(exact, x).subs(subs)
        if at_point:
            expected = sympy.re(expected.doit())
        assert _zero(sympy.expand(dy).coeff(d) - expected), f"{p.name}: ∂/∂{x} {dy} ≠ {expected}"


SYMBOLICALLY_CHECKED: set[tuple[Primitive, object]] = set()
"""(primitive, JVP rule) pairs already checked at symbolic positive arguments (a replaced rule, such
as a mutant's, is checked anew)."""


@theorem("linear_ad.primitives.jvp_is_derivative", paper=YOLO, section="§1.2 (primitives)", label="derived",
         statement="for every non-linear primitive p on ℝ, its JVP rule, run exactly in sympy, gives "
                   "(p(x̄) ; Σ ∂i ⊙ ẋi) with ∂i sympy's ∂p/∂xi: symbolically at positive x̄ (every p, "
                   "every run), and exactly, as the real part, at a rational point of any signs (p's "
                   "positive arguments positive)",
         given={"p": st.sampled_from(NONLINEAR), "point": points(2)}, show=_name, max_examples=SYMBOLIC)
def _(p: Primitive, point: tuple[Fraction, ...]) -> None:
    for q in NONLINEAR:
        key = (q, jvp_rules[q])
        if key not in SYMBOLICALLY_CHECKED:
            assert q.arity is not None
            agrees_with_sympy(q, list(sympy.symbols(f"x0:{q.arity}", positive=True)), at_point=False)
            SYMBOLICALLY_CHECKED.add(key)
    assert p.arity is not None
    positive = positive_args.get(p, ())
    at = [abs(q) if i in positive else q for i, q in enumerate(point[:p.arity])]
    agrees_with_sympy(p, [sympy.Rational(q.numerator, q.denominator) for q in at], at_point=True)


@theorem("linear_ad.primitives.transpose_is_adjoint", paper=YOLO, section="P8", label="derived",
         statement="for every linear primitive p on ℝ, its transpose rule is its adjoint: "
                   "⟨c, p(s̄ ; ẋ̄)⟩ = ⟨pᵀ(s̄ ; c), ẋ̄⟩ exactly in Fractions",
         given={"p": st.sampled_from(LINEAR), "values": st.lists(st.fractions(-4, 4, max_denominator=5),
                                                                 min_size=5, max_size=5)},
         show=_name)
def _(p: Primitive, values: list[Fraction]) -> None:
    assert p.arity is not None and p in transpose_rules
    supply = Supply()
    ss = supply.binders(tuple(f"s{i}" for i in range(p.arity)))
    dxs = supply.binders(tuple(f"dx{i}" for i in range(p.larity)))
    body = Prim(p, tuple(map(var_of, ss)), tuple(map(lvar_of, dxs)))
    d = FuncDef("l", ss, (REAL,) * p.arity, dxs, (REAL,) * p.larity, Mixed((), (REAL,)), body)
    typing = check_program(Program((d,)))
    t = check_program(transpose_program(typing, "l"))
    consts, x, c = values[:p.arity], values[p.arity:p.arity + p.larity], values[-1:]
    out = Evaluator(typing, FRACTION).call("l", consts, x)[1]
    back = Evaluator(t, FRACTION).call(transpose_name("l"), consts, c)[1]
    assert dot(c, out) == dot(back, x), f"⟨c, Lx⟩ = {dot(c, out)} ≠ ⟨Lᵀc, x⟩ = {dot(back, x)}"


SPECIAL = (0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, math.inf, -math.inf, math.nan, 1e308, -1e-310, 710.0)
"""Signed zeros, infinities, nan, overflow and subnormal sizes, and ordinary values (ties too)."""


def same_float(a: float, b: float) -> bool:
    """Equal as IEEE values: both nan, or equal with the same sign (zeros too), or within 2 ulp."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:
        return math.copysign(1.0, a) == math.copysign(1.0, b)
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= 2 * math.ulp(max(abs(a), abs(b)))


@theorem("linear_ad.primitives.float_agrees_with_numpy", paper=YOLO, section="§1.2 (primitives)",
         label="derived",
         statement="for every primitive p on ℝ, its float implementation agrees with NumPy's float64 "
                   "(the NUMPY domain) on special values (±0, ±inf, nan, overflow, ties) and random "
                   "floats: the same nan, infinity and zero sign, otherwise within 2 ulp; it never raises",
         given={"p": st.sampled_from(scalar_primitives()),
                "args": st.lists(st.one_of(st.sampled_from(SPECIAL), st.floats()), min_size=3, max_size=3)},
         show=_name)
def _(p: Primitive, args: list[float]) -> None:
    assert p.arity is not None
    xs = args[:p.arity + p.larity]
    got = impl_rules[p](FLOAT, *xs)
    expected = impl_rules[p](NUMPY, *map(np.float64, xs))
    assert isinstance(got, float), f"{p.name}{tuple(xs)} gave {got!r}"
    assert same_float(got, float(expected)), f"{p.name}{tuple(xs)}: float {got!r}, NumPy {expected!r}"
