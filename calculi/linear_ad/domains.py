"""The scalar domains a program runs over: one object per domain, one method per scalar function.

``impl_rules`` (``primitives.py``) call ``domain.log(x)``, ``domain.max(x, y)`` …, so one program
runs on floats, complex numbers, exact rationals, sympy expressions and NumPy arrays alike.

* ``FLOAT`` follows IEEE 754 as NumPy does: ``log(0) = -inf``, ``log(-1) = nan``, ``1/0 = inf``,
  ``sin(inf) = nan``; it never raises.
* ``FRACTION`` is exact: a result that is not rational (``log 2``, ``√2``) or a domain error
  (``log 0``, ``1/0``) raises ``StuckError``, which the evaluator locates at the application.
* ``SYMPY`` is exact and symbolic; a domain error on a known constant raises ``StuckError`` too.
* ``COMPLEX`` serves the complex-step derivative: non-analytic functions (``abs``, ``max``,
  ``heaviside``) are continued from the real part, as that method requires.
* ``NUMPY`` works elementwise on float64 scalars and arrays, with NumPy's IEEE results.

``heaviside(x, h)`` is NumPy's: 0 below 0, ``h`` at 0, 1 above (the subgradient weights of
``max`` and ``abs`` are written with it).
"""

from __future__ import annotations

import cmath
import math
from fractions import Fraction
from types import ModuleType
from typing import Any

from calculi.core.errors import StuckError

Value = Any

EXACT_BITS = 100_000
"""The largest exact power FRACTION computes (bits of its numerator or denominator)."""


def numpy() -> ModuleType:
    """NumPy, imported on first use: a command line that evaluates no ``pow``, ``max``, ``min``,
    ``heaviside`` or division by zero in floats, and no NUMPY domain, starts without it."""
    import numpy as np  # deliberately lazy: numpy is a third of the command line's start-up

    return np


def _np(name: str, *xs: float) -> float:
    """NumPy's function ``name`` on float64 scalars, with IEEE results and no warnings."""
    np = numpy()
    with np.errstate(all="ignore"):
        return float(getattr(np, name)(*(np.float64(x) for x in xs)))


class FloatDomain:
    """Python floats, with IEEE 754 results where Python's ``math`` would raise."""

    name = "float"

    def literal(self, text: str) -> Value:
        return float(text)

    @staticmethod
    def sin(x: float) -> float:
        return math.sin(x) if math.isfinite(x) else math.nan

    @staticmethod
    def cos(x: float) -> float:
        return math.cos(x) if math.isfinite(x) else math.nan

    @staticmethod
    def exp(x: float) -> float:
        try:
            return math.exp(x)
        except OverflowError:
            return math.inf

    @staticmethod
    def log(x: float) -> float:
        if x > 0:
            return math.log(x)
        return -math.inf if x == 0 else math.nan

    @staticmethod
    def sqrt(x: float) -> float:
        return math.sqrt(x) if x >= 0 else math.nan

    tanh = staticmethod(math.tanh)

    @staticmethod
    def logistic(x: float) -> float:
        if x >= 0:
            return 1.0 / (1.0 + math.exp(-x))
        e = math.exp(x)
        return e / (1.0 + e)

    @staticmethod
    def div(x: float, y: float) -> float:
        return x / y if y != 0 else _np("divide", x, y)

    @staticmethod
    def pow(x: float, y: float) -> float:
        return _np("power", x, y)

    abs = staticmethod(abs)

    @staticmethod
    def max(x: float, y: float) -> float:
        return _np("maximum", x, y)

    @staticmethod
    def min(x: float, y: float) -> float:
        return _np("minimum", x, y)

    @staticmethod
    def heaviside(x: float, h: float) -> float:
        return _np("heaviside", x, h)


class ComplexDomain:
    """Complex numbers (for the complex-step derivative Im f(x + ih) / h)."""

    name = "complex"

    def literal(self, text: str) -> Value:
        return complex(float(text))

    sin = staticmethod(cmath.sin)
    cos = staticmethod(cmath.cos)
    exp = staticmethod(cmath.exp)
    log = staticmethod(cmath.log)
    sqrt = staticmethod(cmath.sqrt)
    tanh = staticmethod(cmath.tanh)

    @staticmethod
    def logistic(x: complex) -> complex:
        return 1 / (1 + cmath.exp(-x))

    @staticmethod
    def div(x: complex, y: complex) -> complex:
        return x / y

    @staticmethod
    def pow(x: complex, y: complex) -> complex:
        return complex(x ** y)

    @staticmethod
    def abs(x: complex) -> complex:
        return x if x.real >= 0 else -x

    @staticmethod
    def max(x: complex, y: complex) -> complex:
        return x if x.real > y.real else y if x.real < y.real else (x + y) / 2

    @staticmethod
    def min(x: complex, y: complex) -> complex:
        return y if x.real > y.real else x if x.real < y.real else (x + y) / 2

    @staticmethod
    def heaviside(x: complex, h: complex) -> complex:
        return complex(1.0 if x.real > 0 else 0.0 if x.real < 0 else h.real)


def _inexact(what: str) -> StuckError:
    return StuckError(f"{what} has no exact rational value; evaluate with floats or sympy")


def _root(n: int, k: int) -> int | None:
    """The exact ``k``-th root of ``n ≥ 0``, if it is an integer."""
    r = round(n ** (1 / k)) if n.bit_length() < 1000 else math.isqrt(n) if k == 2 else None
    if r is None:
        return None
    for c in (r - 1, r, r + 1):
        if c >= 0 and c ** k == n:
            return c
    return None


class FractionDomain:
    """Exact rationals: a function whose value is not rational here raises a ``StuckError``."""

    name = "fraction"

    def literal(self, text: str) -> Value:
        return Fraction(text)

    # sin, cos and exp of a non-zero rational are irrational (Lindemann–Weierstrass); at 0 they are exact.
    @staticmethod
    def sin(x: Fraction) -> Fraction:
        if x == 0:
            return Fraction(0)
        raise _inexact(f"sin {x}")

    @staticmethod
    def cos(x: Fraction) -> Fraction:
        if x == 0:
            return Fraction(1)
        raise _inexact(f"cos {x}")

    @staticmethod
    def exp(x: Fraction) -> Fraction:
        if x == 0:
            return Fraction(1)
        raise _inexact(f"exp {x}")

    @staticmethod
    def log(x: Fraction) -> Fraction:
        if x <= 0:
            raise StuckError(f"log of {x}, which is not positive")
        if x == 1:
            return Fraction(0)
        raise _inexact(f"log {x}")

    @staticmethod
    def tanh(x: Fraction) -> Fraction:
        if x == 0:
            return Fraction(0)
        raise _inexact(f"tanh {x}")

    @staticmethod
    def logistic(x: Fraction) -> Fraction:
        if x == 0:
            return Fraction(1, 2)
        raise _inexact(f"logistic {x}")

    @staticmethod
    def sqrt(x: Fraction) -> Fraction:
        return FractionDomain.pow(x, Fraction(1, 2))

    @staticmethod
    def div(x: Fraction, y: Fraction) -> Fraction:
        if y == 0:
            raise StuckError(f"division of {x} by zero")
        return x / y

    @staticmethod
    def pow(x: Fraction, y: Fraction) -> Fraction:
        """``x ** (a/b)``: exact when ``x`` has a rational ``b``-th root."""
        x, y = Fraction(x), Fraction(y)
        if x == 0 and y < 0:
            raise StuckError(f"0 to the negative power {y}")
        if x < 0 and y.denominator % 2 == 0:
            raise StuckError(f"{x} to the power {y} is not real")
        if max(x.numerator.bit_length(), x.denominator.bit_length()) * abs(y.numerator) > EXACT_BITS:
            raise StuckError(f"{x} to the power {y} is too large to compute exactly")
        b = y.denominator
        if b == 1:
            return x ** y.numerator
        sign = -1 if x < 0 else 1
        p, q = _root(abs(x.numerator), b), _root(x.denominator, b)
        if p is None or q is None:
            raise _inexact(f"{x} to the power {y}")
        return Fraction(sign * p, q) ** y.numerator

    abs = staticmethod(abs)

    @staticmethod
    def max(x: Fraction, y: Fraction) -> Fraction:
        return x if x >= y else y

    @staticmethod
    def min(x: Fraction, y: Fraction) -> Fraction:
        return x if x <= y else y

    @staticmethod
    def heaviside(x: Fraction, h: Fraction) -> Fraction:
        return Fraction(1) if x > 0 else Fraction(0) if x < 0 else h


class SympyDomain:
    """Sympy expressions: exact, symbolic (sympy is imported on first use: it is slow to load)."""

    name = "sympy"

    def literal(self, text: str) -> Value:
        import sympy

        return sympy.Rational(text)

    def __getattr__(self, what: str) -> Any:
        import sympy

        def log(x: Any) -> Any:
            if sympy.sympify(x).is_nonpositive:
                raise StuckError(f"log of {x}, which is not positive")
            return sympy.log(x)

        def sqrt(x: Any) -> Any:
            if sympy.sympify(x).is_negative:
                raise StuckError(f"sqrt of {x}, which is negative")
            return sympy.sqrt(x)

        def div(x: Any, y: Any) -> Any:
            if sympy.sympify(y).is_zero:
                raise StuckError(f"division of {x} by zero")
            return x / y

        def pow_(x: Any, y: Any) -> Any:
            if sympy.sympify(x).is_zero and sympy.sympify(y).is_negative:
                raise StuckError(f"0 to the negative power {y}")
            return sympy.Pow(x, y)

        table: dict[str, Any] = {
            "sin": sympy.sin, "cos": sympy.cos, "exp": sympy.exp, "tanh": sympy.tanh,
            "log": log, "sqrt": sqrt, "div": div, "pow": pow_,
            "logistic": lambda x: 1 / (1 + sympy.exp(-x)), "abs": sympy.Abs,
            "max": sympy.Max, "min": sympy.Min, "heaviside": sympy.Heaviside,
        }
        if what not in table:
            raise AttributeError(what)
        return table[what]


def _ignoring(fn: Any) -> Any:
    np = numpy()

    def call(*xs: Any) -> Any:
        with np.errstate(all="ignore"):
            return fn(*xs)

    return call


class NumpyDomain:
    """NumPy float64 scalars and arrays, elementwise, with NumPy's IEEE results (numpy is imported
    on first use; each function is then kept on the instance)."""

    name = "numpy"

    def literal(self, text: str) -> Value:
        return numpy().float64(text)

    def __getattr__(self, what: str) -> Any:
        np = numpy()
        table: dict[str, Any] = {
            "sin": np.sin, "cos": np.cos, "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "tanh": np.tanh,
            "div": np.divide, "pow": np.power, "abs": np.abs, "max": np.maximum, "min": np.minimum,
            "heaviside": np.heaviside, "logistic": lambda x: 1.0 / (1.0 + np.exp(-x)),
        }
        if what not in table:
            raise AttributeError(what)
        fn = _ignoring(table[what])
        setattr(self, what, fn)
        return fn


FLOAT = FloatDomain()
COMPLEX = ComplexDomain()
FRACTION = FractionDomain()
SYMPY = SympyDomain()
NUMPY = NumpyDomain()
DOMAINS: dict[str, Any] = {d.name: d for d in (FLOAT, COMPLEX, FRACTION, SYMPY, NUMPY)}
