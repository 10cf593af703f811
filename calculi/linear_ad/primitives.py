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
   ``register(p)`` so that the parser knows the name ``p`` (call syntax ``p[key=v](e ; ė)``),
   or ``scalar(p)`` for a primitive on ℝ, which the per-primitive theorems
   (``proofs/linear_ad/primitives.py``) and the generators then take up.
2. ``typing_rules[p] = rule(arg_types, larg_types, params) -> Type``: the result type, or
   raise ``TypeCheckError(reason)`` (the checker adds the span). Types are ``types.Type``
   objects: ``REAL``, ``TupleType``, or a new ``Type`` subclass (the backend's arrays).
3. ``impl_rules[p] = impl(domain, *values, **params) -> value``: evaluation. ``domain`` is the
   scalar domain (``FLOAT``, ``FRACTION``, ``SYMPY``, ``COMPLEX``, ``NUMPY`` of ``domains.py``,
   or your own object with ``literal`` and a method per scalar function: ``sin``, ``log``,
   ``max`` …); scalar rules go through it so that one program runs on floats, exact
   rationals, sympy symbols and NumPy arrays alike (a new scalar function is a method of
   every domain there).
4. ``cost_rules[p] = cost(arg_types, larg_types, result_type, params) -> int`` (optional): the
   work of one application in the cost semantics; by default ``|result|``.
   ``cost_class[p]`` (optional) names the operation class it is counted under (default: its name).
5. ``jvp_rules[p] = rule(primals, tangents, types, params) -> (primal_expr, tangent_expr)`` for
   every non-linear primitive: ``primals`` are ``Var`` atoms, ``tangents`` the matching ``LVar``
   atoms, ``types`` the primal argument types. The tangent expression must use each tangent
   exactly once and may use the primals freely (J(p e) = let (v ; v̇) = J e in rule(v, v̇)).
   The rule builds fresh nodes (no node of the result is shared with another call): J places
   those without a span at the source operation, in place (``place``).
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
* ``defjvp(p, ∂1, …, ∂n)``: J(p(v̄)) = (p(v̄) ; ∂1(v̄) ⊙ v̇1 ⊕ … ⊕ ∂n(v̄) ⊙ v̇n), as JAX's ``defjvp``.
* ``defjvp_zero(p)``: a piecewise-constant ``p``: J(p(v̄)) = (p(v̄) ; 0), each v̇i dropped.

The scalar primitives of the paper are the first entries: ``sin, cos, exp, add (+), mul (×)``
and the linear ``ladd (⊕)`` and ``scale (⊙)``; then the language's ``sub (-), neg (-x),
div (/), pow (**), log, tanh, sqrt, logistic, abs, max, min``, the step ``heaviside`` their
subgradients are written with, and the linear ``lneg``. The structural forms ``0, dup, drop, tup, tupL,
unpack, unpackL`` and calls are constructors of the calculus, handled by each pass directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from calculi.core.errors import TypeCheckError
from calculi.core.syntax import Node, Span
from calculi.linear_ad.domains import COMPLEX as COMPLEX  # (re-exported: the scalar domains)
from calculi.linear_ad.domains import DOMAINS as DOMAINS
from calculi.linear_ad.domains import FLOAT as FLOAT
from calculi.linear_ad.domains import FRACTION as FRACTION
from calculi.linear_ad.domains import NUMPY as NUMPY
from calculi.linear_ad.domains import SYMPY as SYMPY
from calculi.linear_ad.syntax import (
    Block,
    Drop,
    Dup,
    Expr,
    LetB,
    Lit,
    LVar,
    Params,
    Prim,
    Primitive,
    Var,
    Zero,
)
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


SCALAR: list[Primitive] = []
"""The primitives on ℝ (defined with ``scalar``); the backend's array primitives are not among them."""


def register(p: Primitive) -> Primitive:
    """Make ``p`` known to the parser by its name."""
    PRIMITIVES[p.name] = p
    return p


def scalar(p: Primitive) -> Primitive:
    """Register ``p``, a primitive on ℝ: every per-primitive theorem and the generators take it up."""
    SCALAR.append(p)
    return register(p)


def params_dict(params: Params) -> ParamDict:
    return dict(params)


def app(p: Primitive, *args: Expr, largs: tuple[Expr, ...] = (), params: Params = ()) -> Prim:
    """Build the application ``p[params](args ; largs)``."""
    return Prim(p, tuple(args), largs, params)


_SET_SPAN: Callable[[object, Span], None] = getattr(Node, "span").__set__  # noqa: B009 (the slot, untyped)


def place(e: Expr, span: Span) -> None:
    """Place each application a rule built that has no span at ``span``, the source operation the
    rule was applied to: an error evaluating the generated code (``log`` of a negative rational in
    ``f.jvp``, ``f.jvp.nonlin`` or ``f.jvp.lin.T``) points there. The span is set in place, as the
    last step of building: a rule's nodes are its own, just built (step 5 above). An application
    that has a span is kept whole; atoms are left: a literal or a variable cannot fail."""
    kind = type(e)
    if kind is Prim:
        assert isinstance(e, Prim)
        if e.span is not None:
            return
        _SET_SPAN(e, span)
        for a in e.args:
            if type(a) is not Var:
                place(a, span)
        for a in e.largs:
            if type(a) is not LVar:
                place(a, span)
    elif kind is Dup or kind is Drop:
        assert isinstance(e, Dup | Drop)
        if e.span is None:
            _SET_SPAN(e, span)
        place(e.arg, span)
    elif kind is Block:
        assert isinstance(e, Block)
        for b in e.bindings:
            if isinstance(b, LetB):
                if b.span is None:
                    _SET_SPAN(b, span)
                place(b.rhs, span)
        if e.span is None:
            _SET_SPAN(e, span)
        place(e.result, span)


def work_of(p: Primitive, arg_types: Sequence[Type], larg_types: Sequence[Type], result: Type,
            params: ParamDict) -> int:
    rule = cost_rules.get(p)
    return result.size() if rule is None else rule(arg_types, larg_types, result, params)


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
            if ty is not REAL and ty != REAL:
                raise TypeCheckError(f"{name} expects ℝ arguments, got {ty}")
        return REAL

    return rule


def same_linear(name: str) -> TypingRule:
    """Typing of ``ė1 ⊕ ė2``: both linear arguments have one type σ, and so has the result."""

    def rule(args: Sequence[Type], largs: Sequence[Type], params: ParamDict) -> Type:
        first = largs[0]
        for ty in largs[1:]:
            if ty is not first and ty != first:
                raise TypeCheckError(f"{name} of different types {first} and {ty}")
        return first

    return rule


def scale_typing(args: Sequence[Type], largs: Sequence[Type], params: ParamDict) -> Type:
    """(Scale)  s : ℝ,  ė : σ  ⟹  s ⊙ ė : σ."""
    if args[0] is not REAL and args[0] != REAL:
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


def defjvp(p: Primitive, *partials: Callable[..., Expr]) -> None:
    """J(p(v̄)) = (p(v̄) ; ∂1(v̄) ⊙ v̇1 ⊕ … ⊕ ∂n(v̄) ⊙ v̇n): one partial derivative per argument."""

    def rule(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...],
             ps: ParamDict) -> tuple[Expr, Expr]:
        terms: list[Expr] = [Prim(SCALE, (d(*xs),), (t,)) for d, t in zip(partials, ts, strict=True)]
        tangent = terms[-1]
        for term in reversed(terms[:-1]):
            tangent = Prim(LADD, (), (term, tangent))
        return Prim(p, xs, (), tuple(ps.items())), tangent

    jvp_rules[p] = rule


def defjvp_zero(p: Primitive) -> None:
    """J(p(v̄)) = (p(v̄) ; drop(v̇1); …; 0): ``p`` is constant almost everywhere."""
    jvp_rules[p] = lambda xs, ts, types, ps: (
        Prim(p, xs, (), tuple(ps.items())),
        Block(tuple(LetB((), (), Drop(t)) for t in ts), Zero(REAL)))


# -- the scalar primitives of the paper ------------------------------------------------------

SIN = scalar(Primitive("sin"))
COS = scalar(Primitive("cos"))
EXP = scalar(Primitive("exp"))
ADD = scalar(Primitive("add", arity=2))
MUL = scalar(Primitive("mul", arity=2))
LADD = scalar(Primitive("ladd", arity=0, larity=2, linear=True))
SCALE = scalar(Primitive("scale", arity=1, larity=1, linear=True))

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


def ladd_transpose(consts: tuple[Expr, ...], ct: LVar, ltypes: tuple[Type, ...], ps: ParamDict) -> Expr:
    """T(ė1 ⊕ ė2, c) = dup(c)."""
    return Dup(ct)


def scale_transpose(consts: tuple[Expr, ...], ct: LVar, ltypes: tuple[Type, ...], ps: ParamDict) -> Expr:
    """T(s ⊙ ė, c) = s ⊙ c."""
    return Prim(SCALE, consts, (ct,))


deflinear(ADD, LADD, ladd_transpose)
defbilinear(MUL, SCALE, SCALE)
transpose_rules[SCALE] = scale_transpose


# -- the language's scalar primitives ---------------------------------------------------------

SUB = scalar(Primitive("sub", arity=2))
NEG = scalar(Primitive("neg"))
DIV = scalar(Primitive("div", arity=2))
POW = scalar(Primitive("pow", arity=2))
LOG = scalar(Primitive("log"))
TANH = scalar(Primitive("tanh"))
SQRT = scalar(Primitive("sqrt"))
LOGISTIC = scalar(Primitive("logistic"))
ABS = scalar(Primitive("abs"))
MAX = scalar(Primitive("max", arity=2))
MIN = scalar(Primitive("min", arity=2))
HEAVISIDE = scalar(Primitive("heaviside", arity=2))
LNEG = scalar(Primitive("lneg", arity=0, larity=1, linear=True))

for _p in (SUB, NEG, DIV, POW, LOG, TANH, SQRT, LOGISTIC, ABS, MAX, MIN, HEAVISIDE):
    typing_rules[_p] = real_args(_p.name)
cost_class[LNEG] = "lneg"
typing_rules[LNEG] = same_linear("lneg")

impl_rules[SUB] = lambda d, x, y: x - y
impl_rules[NEG] = lambda d, x: -x
impl_rules[LNEG] = lambda d, v: vscale(-1, v)


def domain_method(name: str) -> ImplRule:
    """The impl that calls the scalar domain's function ``name``: ``domain.log(x)`` …"""
    return lambda d, *xs: getattr(d, name)(*xs)


for _p in (DIV, POW, LOG, TANH, SQRT, LOGISTIC, ABS, MAX, MIN, HEAVISIDE):
    impl_rules[_p] = domain_method(_p.name)


deflinear(NEG, LNEG, lambda consts, ct, ltypes, ps: Prim(LNEG, (), (ct,)))
jvp_rules[SUB] = lambda xs, ts, types, ps: (Prim(SUB, xs), Prim(LADD, (), (ts[0], Prim(LNEG, (), (ts[1],)))))
defjvp(DIV, lambda x, y: app(DIV, Lit("1.0"), y), lambda x, y: app(NEG, app(DIV, app(DIV, x, y), y)))
# ∂x x^y = y·x^(y−1), ∂y x^y = x^y·log|x| with |x| read as 1 at x = 0: JAX's rule for x ≥ 0. At x < 0
# (an integer y) JAX's log x is nan; the real part of the complex derivative is finite, so that
# the tangent 0 of a literal exponent (x ** 2.0 at x < 0) stays 0 instead of nan ⊙ 0.
defjvp(POW, lambda x, y: app(MUL, y, app(POW, x, app(SUB, y, Lit("1.0")))),
       lambda x, y: app(MUL, app(POW, x, y), app(LOG, app(ADD, app(ABS, x), app(
           SUB, Lit("1.0"), app(HEAVISIDE, app(ABS, x), Lit("0.0")))))))
defjvp_scale(LOG, lambda v: app(DIV, Lit("1.0"), v))
defjvp_scale(TANH, lambda v: app(SUB, Lit("1.0"), app(MUL, app(TANH, v), app(TANH, v))))
defjvp_scale(SQRT, lambda v: app(DIV, Lit("0.5"), app(SQRT, v)))
defjvp_scale(LOGISTIC, lambda v: app(MUL, app(LOGISTIC, v), app(SUB, Lit("1.0"), app(LOGISTIC, v))))
# abs' is 1 at x ≥ 0 (0 and -0.0 included), -1 below: JAX's select(x >= 0, ẋ, -ẋ).
defjvp_scale(ABS, lambda v: app(SUB, app(MUL, Lit("2.0"), app(HEAVISIDE, v, Lit("1.0"))), Lit("1.0")))
# A tie of max or min splits the tangent ½/½, as JAX's _balanced_eq does.
defjvp(MAX, lambda x, y: app(HEAVISIDE, app(SUB, x, y), Lit("0.5")),
       lambda x, y: app(HEAVISIDE, app(SUB, y, x), Lit("0.5")))
defjvp(MIN, lambda x, y: app(HEAVISIDE, app(SUB, y, x), Lit("0.5")),
       lambda x, y: app(HEAVISIDE, app(SUB, x, y), Lit("0.5")))
defjvp_zero(HEAVISIDE)


positive_args: dict[Primitive, tuple[int, ...]] = {LOG: (0,), SQRT: (0,), DIV: (1,), POW: (0,)}
"""The domain column: which arguments must be positive for a finite value and derivative (log 0,
√0's slope, x/0, 0^y's slope); the generators build these arguments positive."""


SCALAR_JVP: dict[Primitive, JvpRule] = {p: jvp_rules[p] for p in SCALAR if p in jvp_rules}
"""The JVP rules on ℝ, as defined here (a table that extends a primitive to arrays may replace its row)."""


def keep_real_rule(p: Primitive) -> None:
    """After another table replaced ``p``'s JVP rule (the backend's, for arrays), apply the replacement
    only when an argument is not ℝ: on ℝ, ``p`` keeps the rule defined here."""
    real, other = SCALAR_JVP.get(p), jvp_rules.get(p)
    if real is None or other is None or other is real:
        return
    jvp_rules[p] = lambda xs, ts, types, ps: (real if all(t == REAL for t in types) else other)(
        xs, ts, types, ps)


def scalar_primitives() -> list[Primitive]:
    """The primitives on ℝ (``scalar``), in order of definition: the theorems and generators read this."""
    return list(SCALAR)
