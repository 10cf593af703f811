"""Golden tests: the prototype's worked examples, with the expected values written here."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest
import sympy

from calculi.core.errors import FuelExhausted, StuckError, UsageError
from calculi.core.trace import Fuel
from calculi.linear_ad.ad import grad, load, stages
from calculi.linear_ad.eval import Cost, Evaluator, evaluate, function_work
from calculi.linear_ad.laws import count_drops
from calculi.linear_ad.pretty import show_program
from calculi.linear_ad.primitives import FRACTION, NUMPY, SYMPY
from calculi.linear_ad.syntax import Dup
from calculi.linear_ad.unzip import POLICIES

ROOT = Path(__file__).resolve().parents[2]
SQUARE = load((ROOT / "examples" / "linear_ad" / "square.la").read_text())


def test_x_plus_y() -> None:
    typing = load("def f(x: R, y: R) -> R = x + y")
    assert grad(typing, "f", [1.5, 2.0]) == (3.5, (1.0, 1.0))


def test_x_plus_x_needs_a_dup() -> None:
    j = stages(SQUARE, "twice").jvp.program
    assert "dup(ẋ)" in show_program(j)
    assert grad(SQUARE, "twice", [4.0]) == (8.0, (2.0,))


def test_square_through_tuples_has_gradient_6_at_3() -> None:
    assert grad(SQUARE, "square", [3.0]) == (9.0, (6.0,))


def test_sin_squared_plus_cos_squared_has_tangent_0() -> None:
    x = sympy.Symbol("x")
    j = stages(SQUARE, "pythagoras").jvp
    (value,), (tangent,) = evaluate(j, "pythagoras.jvp", [x], [sympy.Integer(1)], SYMPY)
    assert sympy.simplify(value) == 1 and sympy.simplify(tangent) == 0


def test_function_call_and_matvec() -> None:
    value, gradient = grad(SQUARE, "dot2", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    u, v = 1 * 5 + 2 * 6, 3 * 5 + 4 * 6
    assert value == u * u + v * v
    assert gradient == (2 * u * 5, 2 * u * 6, 2 * v * 5, 2 * v * 6, 2 * (u * 1 + v * 3), 2 * (u * 2 + v * 4))


def test_literals_and_drops() -> None:
    typing = load("def f(x: R, y: R) -> R = let (;) = drop(y) in 3.0 * x + 2.0")
    assert grad(typing, "f", [1.0, 5.0]) == (5.0, (3.0, 0.0))
    assert count_drops(stages(typing, "f").transposed.program.defs[0].body) >= 1


def test_sin_times_y() -> None:
    typing = load("def f(x: R, y: R) -> R = sin(x) * y")
    value, (dx, dy) = grad(typing, "f", [1.5, 2.0])
    assert value == math.sin(1.5) * 2.0 and dx == math.cos(1.5) * 2.0 and dy == math.sin(1.5)


def test_scalar_domains() -> None:
    typing = load("def f(x: R, y: R) -> R = x * y + 0.5")
    assert evaluate(typing, "f", [Fraction(1, 3), Fraction(3, 4)], [], FRACTION)[0] == (Fraction(3, 4),)
    assert evaluate(typing, "f", [2.0, 3.0], [], NUMPY)[0] == (6.5,)
    x = sympy.Symbol("x")
    assert evaluate(typing, "f", [x, x], [], SYMPY)[0] == (x**2 + sympy.Rational(1, 2),)
    with pytest.raises(StuckError, match="no exact rational value"):
        evaluate(load("def f(x: R) -> R = sin(x)"), "f", [Fraction(1)], [], FRACTION)


def test_fuel_bounds_evaluation() -> None:
    with pytest.raises(FuelExhausted):
        Evaluator(SQUARE, fuel=Fuel(5)).call("dot2", [1.0] * 6)


def test_cost_semantics_is_static() -> None:
    for d in SQUARE.program.defs:
        cost = Cost()
        Evaluator(SQUARE, cost=cost).call(d.name, [0.5] * len(d.params))
        assert cost.total == function_work(SQUARE, d.name)


def test_costs_of_the_stages() -> None:
    typing = load("def f(x: R, y: R) -> R = sin(x) * y")
    st = stages(typing, "f")
    assert function_work(typing, "f") == 2
    assert function_work(st.jvp, st.jvp_fn) == 7  # sin, cos, ⊙ ; ×, ⊙, ⊙, ⊕
    assert function_work(st.unzipped, st.nonlin_fn) + function_work(st.unzipped, st.lin_fn) == 7
    assert function_work(st.transposed, st.transposed_fn) == function_work(st.unzipped, st.lin_fn)


def test_checkpoint_policies_change_the_tape_not_the_gradient() -> None:
    typing = load("def f(x: R) -> R = let a = sin(x) in let b = a * a in b * x")
    save = stages(typing, "f", POLICIES["save-all"])
    recompute = stages(typing, "f", POLICIES["recompute-all"])
    assert recompute.report.tape_size["f.jvp"] < save.report.tape_size["f.jvp"]
    assert recompute.report.recomputed_work["f.jvp"] > 0
    saved = grad(typing, "f", [0.3], POLICIES["save-all"])
    assert saved == grad(typing, "f", [0.3], POLICIES["recompute-all"])


def test_grad_needs_one_real_result() -> None:
    with pytest.raises(UsageError, match="one ℝ result"):
        grad(SQUARE, "matvec2x2", [1.0] * 6)


def test_transpose_swaps_dup_and_add() -> None:
    typing = load("def f(x: R ; dx: R) -> (; R, R) = let (; a, b) = dup(x *. dx) in (; a, b)")
    from calculi.linear_ad.check import check_program
    from calculi.linear_ad.transpose import transpose_program

    t = check_program(transpose_program(typing, "f"))
    assert "⊕" in show_program(t.program)
    assert not isinstance(t.program.defs[0].body, Dup)
    assert evaluate(t, "f.T", [2.0], [2.0, 3.0]) == ((), (10.0,))


def test_bound_scales_put_the_slope_under_the_unzip_policy() -> None:
    """J keeps ``cos v`` inline in ``cos v ⊙ v̇`` (the prototype's choice, recomputed in the linear
    half); with ``bind_scales`` it is let-bound, so saving everything saves the slope instead."""
    from calculi.linear_ad.check import check_program
    from calculi.linear_ad.jvp import jvp_program
    from calculi.linear_ad.unzip import save_all, unzip_program

    typing = load("def f(x: R) -> R = sin(x)")
    inline, bound = (check_program(jvp_program(typing, "f", bind_scales=b)) for b in (False, True))
    assert "let (; ẏ) = cos(x) ⊙ ẋ" in show_program(inline.program)
    assert "let c = cos(x) in let y = sin(x) in let (; ẏ) = c ⊙ ẋ" in show_program(bound.program)
    for t in (inline, bound):
        assert evaluate(t, "f.jvp", [0.5], [2.0]) == ((math.sin(0.5),), (math.cos(0.5) * 2.0,))
    unzipped = unzip_program(bound, "f.jvp", save_all)
    lin = next(d for d in unzipped.program.defs if d.name == unzipped.lin)
    assert "cos" not in show_program(type(unzipped.program)((lin,)))
