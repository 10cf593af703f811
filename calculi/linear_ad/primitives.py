"""Primitives and their rule tables: every interpretation of a primitive is a table entry.

A primitive is a ``Primitive(name, arity, larity, linear)`` object (``syntax.py``); an
application is ``Prim(prim, args, largs, params)`` where ``params`` are static parameters
(axes, shapes, …) as a tuple of ``(key, value)`` pairs. Each pass looks a primitive up in one
table and never matches on a fixed set of primitives, so a new primitive is a set of table
entries, not an edit of a pass.

How to add a primitive ``p``
============================

1. Create it: ``p = Primitive("p", arity=1)`` for a non-linear primitive, or
   ``Primitive("p_lin", arity=k, larity=m, linear=True)`` for a linear one whose first ``k``
   arguments are non-linear constants and whose last ``m`` arguments are linear; then
   ``register(p)`` so that the parser knows the name ``p`` (call syntax ``p[key=v](e ; ė)``).
2. ``typing_rules[p] = rule(arg_types, larg_types, params) -> Type``: the result type, or
   raise ``TypeCheckError(reason)`` (the checker adds the span). Types are ``types.Type``
   objects: ``REAL``, ``TupleType``, or a new ``Type`` subclass (the backend's arrays).
3. ``impl_rules[p] = impl(domain, *values, **params) -> value``: evaluation. ``domain`` is the
   scalar domain (``FLOAT``, ``FRACTION``, ``SYMPY``, ``COMPLEX``, ``NUMPY`` below, or your
   own object with ``literal/sin/cos/exp``); scalar rules go through it so that one program
   runs on floats, exact rationals, sympy symbols and NumPy arrays alike.
4. ``cost_rules[p] = cost(arg_types, larg_types, result_type, params) -> int`` (optional): the
   work of one application in the cost semantics; by default ``|result|``.
   ``cost_class[p]`` (optional) names the operation class it is counted under (default: its name).
5. ``jvp_rules[p] = rule(primals, tangents, types, params) -> (primal_expr, tangent_expr)`` for
   every non-linear primitive: ``primals`` are ``Var`` atoms, ``tangents`` the matching ``LVar``
   atoms, ``types`` the primal argument types. The tangent expression must use each tangent
   exactly once and may use the primals freely (J(p e) = let (v ; v̇) = J e in rule(v, v̇)).
6. ``transpose_rules[p] = rule(consts, ct, ltypes, params) -> Expr`` for every linear
   primitive only: given the constant arguments (non-linear expressions, each used exactly
   once in the result) and the cotangent ``ct`` (an ``LVar`` used exactly once), an expression
   of type ``(; σ1, …, σm)``: one cotangent per linear argument, in order.

Helpers in the manner of JAX's ``ad.py`` make most rules one line:

* ``deflinear(p, p_lin, transpose)``: ``p`` is linear in all its arguments; its JVP applies
  ``p_lin`` to the tangents, and ``transpose`` is ``p_lin``'s transpose rule.
* ``defbilinear(p, left, right)``: ``p(a, b)`` is linear in each argument; ``left(b ; ȧ)`` is
  ``p(ȧ, b)`` and ``right(a ; ḃ)`` is ``p(a, ḃ)``; J(p(a, b)) = (p(a, b) ; left(b ; ȧ) ⊕ right(a ; ḃ)).
* ``defjvp_scale(p, derivative)``: a unary ``p`` with J(p v) = (p v ; derivative(v) ⊙ v̇).

The scalar primitives of the paper are the first entries: ``sin, cos, exp, add (+), mul (×)``
and the linear ``ladd (⊕)`` and ``scale (⊙)``. The structural forms ``0, dup, drop, tup, tupL,
unpack, unpackL`` and calls are constructors of the calculus, handled by each pass directly.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from calculi.core.errors import StuckError, TypeCheckError
from calculi.linear_ad.syntax import Dup, Expr, Lit, LVar, Params, Prim, Primitive, Var
from calculi.linear_ad.types import REAL, Type

Value = Any
ParamDict = dict[str, Any]
TypingRule = Callable[[Sequence[Type], Sequence[Type], ParamDict], Type]
ImplRule = Callable[..., Value]
CostRule = Callable[[Sequence[Type], Sequence[Type], Type, ParamDict], int]
JvpRule = Callable[[tuple[Var, ...], tuple[LVar, ...], tuple[Type, ...], ParamDict], tuple[Expr, Expr]]
TransposeRule = Callable[[tuple[Expr, ...], LVar, tuple[Type, ...], ParamDict], Expr]

PRIMITIVES: dict[str, Primitive] = {}
typing_rules: dict[Primitive, TypingRule] = {}
impl_rules: dict[Primitive, ImplRule] = {}
cost_rules: dict[Primitive, CostRule] = {}
cost_class: dict[Primitive, str] = {}
jvp_rules: dict[Primitive, JvpRule] = {}
transpose_rules: dict[Primitive, TransposeRule] = {}


def register(p: Primitive) -> Primitive:
    """Make ``p`` known to the parser by its name."""
    PRIMITIVES[p.name] = p
    return p


def params_dict(params: Params) -> ParamDict:
    return dict(params)


def app(p: Primitive, *args: Expr, largs: tuple[Expr, ...] = (), params: Params = ()) -> Prim:
    """Build the application ``p[params](args ; largs)``."""
    return Prim(p, tuple(args), largs, params)


def work_of(p: Primitive, arg_types: Sequence[Type], larg_types: Sequence[Type], result: Type,
            params: ParamDict) -> int:
    rule = cost_rules.get(p)
    return result.size() if rule is None else rule(arg_types, larg_types, result, params)


# -- scalar domains --------------------------------------------------------------------------


class FloatDomain:
    """Python floats."""

    name = "float"

    def literal(self, text: str) -> Value:
        return float(text)

    sin = staticmethod(math.sin)
    cos = staticmethod(math.cos)

    @staticmethod
    def exp(x: Value) -> Value:
        try:
            return math.exp(x)
        except OverflowError:
            return math.inf


class ComplexDomain:
    """Complex numbers (for the complex-step derivative Im f(x + ih) / h)."""

    name = "complex"

    def literal(self, text: str) -> Value:
        return complex(float(text))

    sin = staticmethod(cmath.sin)
    cos = staticmethod(cmath.cos)
    exp = staticmethod(cmath.exp)


class FractionDomain:
    """Exact rationals; transcendental primitives have no value here."""

    name = "fraction"

    def literal(self, text: str) -> Value:
        return Fraction(text)

    def _none(self, what: str) -> Callable[[Value], Value]:
        def fail(_: Value) -> Value:
            raise StuckError(f"{what} has no exact rational value; evaluate with floats or sympy")

        return fail

    def __getattr__(self, what: str) -> Callable[[Value], Value]:
        if what in ("sin", "cos", "exp"):
            return self._none(what)
        raise AttributeError(what)


class SympyDomain:
    """Sympy expressions: exact, symbolic (sympy is imported on first use)."""

    name = "sympy"

    def literal(self, text: str) -> Value:
        import sympy

        return sympy.Rational(text)

    def __getattr__(self, what: str) -> Callable[[Value], Value]:
        if what in ("sin", "cos", "exp"):
            import sympy

            fn: Callable[[Value], Value] = getattr(sympy, what)
            return fn
        raise AttributeError(what)


class NumpyDomain:
    """NumPy float64 scalars and arrays."""

    name = "numpy"

    def literal(self, text: str) -> Value:
        return np.float64(text)

    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    exp = staticmethod(np.exp)


FLOAT = FloatDomain()
COMPLEX = ComplexDomain()
FRACTION = FractionDomain()
SYMPY = SympyDomain()
NUMPY = NumpyDomain()
DOMAINS: dict[str, Any] = {d.name: d for d in (FLOAT, COMPLEX, FRACTION, SYMPY, NUMPY)}


def vadd(a: Value, b: Value) -> Value:
    """⊕ on values: leaf-wise on tuples."""
    if isinstance(a, tuple):
        return tuple(vadd(x, y) for x, y in zip(a, b, strict=True))
    return a + b


def vscale(s: Value, v: Value) -> Value:
    """s ⊙ v on values: leaf-wise on tuples."""
    if isinstance(v, tuple):
        return tuple(vscale(s, x) for x in v)
    return s * v


# -- typing helpers --------------------------------------------------------------------------


def real_args(name: str) -> TypingRule:
    """Typing of a scalar primitive: every argument is ℝ, and so is the result."""

    def rule(args: Sequence[Type], largs: Sequence[Type], params: ParamDict) -> Type:
        for ty in args:
            if ty != REAL:
                raise TypeCheckError(f"{name} expects ℝ arguments, got {ty}")
        return REAL

    return rule


def same_linear(name: str) -> TypingRule:
    """Typing of ``ė1 ⊕ ė2``: both linear arguments have one type σ, and so has the result."""

    def rule(args: Sequence[Type], largs: Sequence[Type], params: ParamDict) -> Type:
        first = largs[0]
        for ty in largs[1:]:
            if ty != first:
                raise TypeCheckError(f"{name} of different types {first} and {ty}")
        return first

    return rule


def scale_typing(args: Sequence[Type], largs: Sequence[Type], params: ParamDict) -> Type:
    """(Scale)  s : ℝ,  ė : σ  ⟹  s ⊙ ė : σ."""
    if args[0] != REAL:
        raise TypeCheckError(f"the scale factor of ⊙ must be ℝ, not {args[0]}")
    return largs[0]


# -- helpers in the manner of JAX's ad.py ----------------------------------------------------


def deflinear(p: Primitive, p_lin: Primitive, transpose: TransposeRule) -> None:
    """``p`` is linear in its arguments: J(p(v̄)) = (p(v̄) ; p_lin(; v̇̄)); ``transpose`` for ``p_lin``."""
    jvp_rules[p] = lambda xs, ts, types, ps: (Prim(p, xs, (), tuple(ps.items())),
                                              Prim(p_lin, (), ts, tuple(ps.items())))
    transpose_rules[p_lin] = transpose


def defbilinear(p: Primitive, left: Primitive, right: Primitive) -> None:
    """``p`` is bilinear: J(p(a, b)) = (p(a, b) ; left(b ; ȧ) ⊕ right(a ; ḃ))."""

    def rule(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...],
             ps: ParamDict) -> tuple[Expr, Expr]:
        params = tuple(ps.items())
        a, b = xs
        da, db = ts
        return (Prim(p, xs, (), params),
                Prim(LADD, (), (Prim(left, (b,), (da,), params), Prim(right, (a,), (db,), params))))

    jvp_rules[p] = rule


def defjvp_scale(p: Primitive, derivative: Callable[[Var], Expr]) -> None:
    """A unary ``p`` whose JVP is J(p v) = (p v ; derivative(v) ⊙ v̇)."""
    jvp_rules[p] = lambda xs, ts, types, ps: (Prim(p, xs, (), tuple(ps.items())),
                                              Prim(SCALE, (derivative(xs[0]),), ts))


# -- the scalar primitives of the paper ------------------------------------------------------

SIN = register(Primitive("sin"))
COS = register(Primitive("cos"))
EXP = register(Primitive("exp"))
ADD = register(Primitive("add", arity=2))
MUL = register(Primitive("mul", arity=2))
LADD = register(Primitive("ladd", arity=0, larity=2, linear=True))
SCALE = register(Primitive("scale", arity=1, larity=1, linear=True))

for _p in (SIN, COS, EXP, ADD, MUL):
    typing_rules[_p] = real_args(_p.name)
typing_rules[LADD] = same_linear("⊕")
typing_rules[SCALE] = scale_typing

impl_rules[SIN] = lambda d, x: d.sin(x)
impl_rules[COS] = lambda d, x: d.cos(x)
impl_rules[EXP] = lambda d, x: d.exp(x)
impl_rules[ADD] = lambda d, x, y: x + y
impl_rules[MUL] = lambda d, x, y: x * y
impl_rules[LADD] = lambda d, x, y: vadd(x, y)
impl_rules[SCALE] = lambda d, s, v: vscale(s, v)

cost_class[LADD] = "⊕"
cost_class[SCALE] = "⊙"

defjvp_scale(SIN, lambda v: app(COS, v))
defjvp_scale(COS, lambda v: app(MUL, Lit("-1.0"), app(SIN, v)))
defjvp_scale(EXP, lambda v: app(EXP, v))
deflinear(ADD, LADD, lambda consts, ct, ltypes, ps: Dup(ct))
defbilinear(MUL, SCALE, SCALE)
transpose_rules[SCALE] = lambda consts, ct, ltypes, ps: Prim(SCALE, consts, (ct,))
