"""The language's scalar primitives: JAX's subgradient and pow conventions, IEEE results in floats,
located errors in the exact domains, and every table row present."""

from __future__ import annotations

import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import sympy

from calculi.core.errors import StuckError, TypeCheckError
from calculi.linear_ad.ad import grad, load
from calculi.linear_ad.eval import Evaluator
from calculi.linear_ad.primitives import (
    FLOAT,
    FRACTION,
    NUMPY,
    SYMPY,
    cost_class,
    impl_rules,
    jvp_rules,
    scalar_primitives,
    transpose_rules,
    typing_rules,
)


def run(text: str, args: list[object], domain: object = FLOAT) -> object:
    typing = load(text)
    return Evaluator(typing, domain).call("f", args, [])[0][0]


def gradient(text: str, *args: float) -> tuple[float, ...]:
    return tuple(grad(load(text), "f", list(args))[1])


def test_every_primitive_has_its_rows() -> None:
    names = {p.name for p in scalar_primitives()}
    assert {"sub", "neg", "div", "pow", "log", "tanh", "sqrt", "logistic", "abs", "max", "min"} <= names
    for p in scalar_primitives():
        assert p in typing_rules and p in impl_rules, p.name
        assert (p in transpose_rules) if p.linear else (p in jvp_rules), p.name
    assert cost_class.get(next(p for p in scalar_primitives() if p.name == "lneg")) == "lneg"


# -- JAX's conventions at kinks ---------------------------------------------------------------


@pytest.mark.parametrize(("x", "slope"), [(0.0, 1.0), (-0.0, 1.0), (2.0, 1.0), (-2.0, -1.0)])
def test_abs_slope_is_jax_select_at_zero(x: float, slope: float) -> None:
    """JAX: abs'(x) = select(x >= 0, 1, -1), so abs'(0) = abs'(-0.0) = 1."""
    assert gradient("def f(x: R) -> R = abs(x)", x) == (slope,)


@pytest.mark.parametrize("op", ["max", "min"])
def test_ties_split_the_tangent_evenly(op: str) -> None:
    assert gradient(f"def f(x: R, y: R) -> R = {op}(x, y)", 1.5, 1.5) == (0.5, 0.5)
    expected = (1.0, 0.0) if op == "max" else (0.0, 1.0)
    assert gradient(f"def f(x: R, y: R) -> R = {op}(x, y)", 2.0, 1.0) == expected


def test_max_of_a_variable_with_itself_has_slope_one() -> None:
    assert gradient("def f(x: R) -> R = max(x, x)", -0.5) == (1.0,)


def test_integer_power_of_a_negative_base_has_a_finite_gradient() -> None:
    """x ** 2.0 at x = -3: the exponent's tangent 0 is scaled by a finite x^y·log|x|, not JAX's nan."""
    assert gradient("def f(x: R) -> R = pow(x, 2.0)", -3.0) == (-6.0,)
    assert gradient("def f(x: R) -> R = pow(x, 3.0)", 0.0) == (0.0,)


def test_pow_partials_follow_jax() -> None:
    gx, gy = gradient("def f(x: R, y: R) -> R = pow(x, y)", 2.0, 3.0)
    assert gx == 12.0 and math.isclose(gy, 8.0 * math.log(2.0))
    assert gradient("def f(x: R, y: R) -> R = pow(x, y)", 0.0, 2.0) == (0.0, 0.0)  # log(1)·0^y at x = 0
    gx, gy = gradient("def f(x: R, y: R) -> R = pow(x, y)", -2.0, 3.0)
    assert gx == 12.0 and math.isclose(gy, -8.0 * math.log(2.0))


@pytest.mark.parametrize(("body", "x", "slope"), [
    ("tanh(x)", 0.5, 1 - math.tanh(0.5) ** 2), ("logistic(x)", 0.0, 0.25), ("sqrt(x)", 4.0, 0.25),
    ("log(x)", 4.0, 0.25), ("div(1.0, x)", 2.0, -0.25), ("neg(x)", 3.0, -1.0), ("sub(1.0, x)", 3.0, -1.0),
])
def test_slopes(body: str, x: float, slope: float) -> None:
    (got,) = gradient(f"def f(x: R) -> R = {body}", x)
    assert math.isclose(got, slope, rel_tol=1e-15)


# -- IEEE in floats, located errors in the exact domains --------------------------------------


@pytest.mark.parametrize(("body", "x", "expected"), [
    ("sin(x)", math.inf, math.nan), ("cos(x)", -math.inf, math.nan), ("log(x)", 0.0, -math.inf),
    ("log(x)", -1.0, math.nan), ("sqrt(x)", -1.0, math.nan), ("div(1.0, x)", 0.0, math.inf),
    ("div(1.0, x)", -0.0, -math.inf), ("div(x, x)", 0.0, math.nan), ("pow(x, -1.0)", 0.0, math.inf),
    ("pow(x, 0.5)", -8.0, math.nan), ("exp(x)", 1000.0, math.inf), ("logistic(x)", -1000.0, 0.0),
    ("max(x, 1.0)", math.nan, math.nan), ("tanh(x)", math.inf, 1.0),
])
def test_float_domain_is_ieee(body: str, x: float, expected: float) -> None:
    got = run(f"def f(x: R) -> R = {body}", [x])
    assert isinstance(got, float)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


@pytest.mark.parametrize(("body", "x", "reason"), [
    ("log(x)", Fraction(2), "no exact rational value"), ("log(x)", Fraction(-1), "not positive"),
    ("div(1.0, x)", Fraction(0), "by zero"), ("sqrt(x)", Fraction(2), "no exact rational value"),
    ("sqrt(x)", Fraction(-4), "not real"), ("pow(x, -1.0)", Fraction(0), "negative power"),
    ("tanh(x)", Fraction(1), "no exact rational value"), ("exp(x)", Fraction(1), "no exact rational value"),
    ("pow(x, 100000.0)", Fraction(3), "too large"),
])
def test_exact_domain_errors_are_located(body: str, x: Fraction, reason: str) -> None:
    text = f"def f(x: R) -> R = {body}"
    with pytest.raises(StuckError) as info:
        run(text, [x], FRACTION)
    err = info.value
    assert reason in err.reason and err.span is not None and err.span.text == body, err.render()


@pytest.mark.parametrize(("body", "x", "expected"), [
    ("sqrt(x)", Fraction(4, 9), Fraction(2, 3)), ("pow(x, 0.5)", Fraction(9, 4), Fraction(3, 2)),
    ("log(x)", Fraction(1), Fraction(0)), ("pow(x, -2.0)", Fraction(-2), Fraction(1, 4)),
    ("div(x, 3.0)", Fraction(1), Fraction(1, 3)), ("logistic(x)", Fraction(0), Fraction(1, 2)),
    ("max(x, 0.5)", Fraction(1, 3), Fraction(1, 2)), ("abs(x)", Fraction(-2, 3), Fraction(2, 3)),
    ("sin(x)", Fraction(0), Fraction(0)), ("cos(x)", Fraction(0), Fraction(1)),
    ("exp(x)", Fraction(0), Fraction(1)), ("tanh(x)", Fraction(0), Fraction(0)),
])
def test_exact_values_in_fractions(body: str, x: Fraction, expected: Fraction) -> None:
    assert run(f"def f(x: R) -> R = {body}", [x], FRACTION) == expected


def test_sympy_domain_errors_are_located() -> None:
    with pytest.raises(StuckError) as info:
        run("def f(x: R) -> R = log(x)", [sympy.Integer(-1)], SYMPY)
    assert info.value.span is not None and "not positive" in info.value.reason
    assert run("def f(x: R) -> R = sqrt(x)", [sympy.Integer(9)], SYMPY) == 3


# -- the literal 0 --------------------------------------------------------------------------


def test_zero_used_as_a_number_says_write_0_0() -> None:
    with pytest.raises(TypeCheckError) as info:
        load("def f(x: R) -> R = x * 0")
    assert "× applied to a linear value (0 is the linear zero; write 0.0 for the number)" in info.value.reason
    assert info.value.span is not None and info.value.span.text == "0"
    assert run("def f(x: R) -> R = x * 0.0", [2.0]) == 0.0


# -- operator syntax --------------------------------------------------------------------------


def test_operators_are_the_primitives() -> None:
    text = "def f(x: R, y: R) -> R = -x - y / x ** y"
    assert run(text, [2.0, 3.0]) == -2.0 - 3.0 / 8.0
    assert gradient(text, 2.0, 3.0) == gradient("def f(x: R, y: R) -> R = sub(neg(x), div(y, pow(x, y)))",
                                                2.0, 3.0)


# -- NumPy on first use -----------------------------------------------------------------------

_STARTS = """
import runpy, sys
sys.argv = ["calculi.linear_ad", *sys.argv[1:]]
try:
    runpy.run_module("calculi.linear_ad", run_name="__main__", alter_sys=True)
except SystemExit as done:
    assert not done.code, done.code
print("numpy" in sys.modules)
"""


@pytest.mark.parametrize("command", [["check", "examples/linear_ad/tour.la"],
                                     ["grad", "examples/linear_ad/tour.la", "f", "1.0", "2.0"]])
def test_the_command_line_starts_without_numpy(command: list[str]) -> None:
    """The domains import NumPy when a NumPy function is first called (it is a third of the start-up)."""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", _STARTS, *command], cwd=root, capture_output=True,
                         text=True, check=True).stdout
    assert out.splitlines()[-1] == "False"


def test_numpy_functions_are_numpys_on_first_use() -> None:
    import numpy as np

    fresh = type(NUMPY)()
    assert "sin" not in vars(fresh)
    assert fresh.div(np.float64(1.0), np.float64(0.0)) == np.inf
    assert "div" in vars(fresh) and fresh.literal("2.5") == np.float64(2.5)
    with pytest.raises(AttributeError):
        _ = fresh.no_such_function
    assert FLOAT.max(-0.0, 0.0) == 0.0 and math.isnan(FLOAT.min(math.nan, 1.0))
