"""How an array primitive is defined: one call makes the object and registers all that is known of it.

    tanh_p = define("tanh", np.tanh, same, kind=NONLINEAR, fresh=True)

makes the Linear A ``Primitive`` ``tanh`` (non-linear, one argument) and fills every table below,
each keyed by the object; ``backend.rules`` adds its JVP and transpose rules (linear_ad's
``jvp_rules`` and ``transpose_rules``, keyed by the same object). A linear primitive of the paper's
kind (``reshapeL(; ẋ)``, ``einsumL[spec, side](y ; ẋ)``) is defined with ``larity=1``: its constant
(non-linear) arguments come first, then the one linear argument.

| table              | what it holds                                                             |
| ------------------ | ------------------------------------------------------------------------- |
| ``IMPLS[p]``       | the NumPy implementation, ``impl(*consts, *linear_args, **params)``       |
| ``SHAPES[p]``      | the shape rule on ``ArrayType``s (same argument order), or a ShapeError   |
| ``KINDS[p]``       | how ``p`` relates to AD (``KIND_DOC``); the coverage theorem reads it     |
| ``FRESH``          | primitives whose result is always a new array (never a view of an input)  |
| ``SPECIALISE[p]``  | a kernel built once per parameters and argument shapes (optional)         |
| ``typing_rules``, ``impl_rules``, ``cost_rules`` | linear_ad's own tables, from the above      |
| ``PRIMS[name]``    | the object by name, for text only (printing, parsing, listings)           |
| ``EXTENDED``       | the paper's scalar primitives that ``extend`` made array primitives too   |

The paper's scalar primitives ``sin, cos, exp, +, ×, ⊕, ⊙`` are extended to arrays with ``extend``
(elementwise, a real literal broadcasting); on ℝ they behave exactly as before. The helpers at the
end (``app``, ``ladd``, ``scale``, ``jvp``, ``linear`` …) write the rules of ``backend.rules``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from backend.ltypes import ArrayT, ArrayType
from calculi.core.errors import ShapeError, TypeCheckError
from calculi.linear_ad.primitives import (
    LADD,
    PRIMITIVES,
    SCALE,
    CostRule,
    ParamDict,
    TypingRule,
    cost_rules,
    deflinear,
    impl_rules,
    jvp_rules,
    register,
    transpose_rules,
    typing_rules,
)
from calculi.linear_ad.syntax import Drop, Expr, LetB, LVar, Prim, Primitive, Var, block
from calculi.linear_ad.types import REAL, Type

Array = np.ndarray[Any, Any]
Impl = Callable[..., Array]
ShapeRule = Callable[..., ArrayType]
Specialise = Callable[[ParamDict, tuple[ArrayType, ...]], Callable[..., Array]]

LINEAR, BILINEAR, NONLINEAR, CONSTANT = "linear", "bilinear", "nonlinear", "constant"
SOURCE, HELPER, TANGENT = "source", "helper", "tangent"
KIND_DOC = {
    LINEAR: "linear in its differentiable operands",
    BILINEAR: "linear in each operand separately (mul, einsum, conv1d)",
    NONLINEAR: "differentiable, not linear",
    CONSTANT: "a result with a zero tangent (integer, boolean or stopped)",
    SOURCE: "a constant of the program (nullary)",
    HELPER: "non-linear, met only inside derivative programs (tanh_grad …): never differentiated",
    TANGENT: "a linear primitive of the paper's kind, emitted by JVP rules: it has a transpose rule",
}
DIFFERENTIATED = (LINEAR, BILINEAR, NONLINEAR, CONSTANT)
"""The kinds a user applies: each such primitive has a JVP rule and is drawn by the strategies."""

IMPLS: dict[Primitive, Impl] = {}
SHAPES: dict[Primitive, ShapeRule] = {}
KINDS: dict[Primitive, str] = {}
FRESH: set[Primitive] = set()
SPECIALISE: dict[Primitive, Specialise] = {}
"""For a primitive here, ``SPECIALISE[p](params, argument types)`` is its implementation at those
parameters and shapes, with the work that depends only on them done once."""
PRIMS: dict[str, Primitive] = {}
EXTENDED: set[Primitive] = set()
"""The paper's scalar primitives extended to arrays (``extend``): Linear A's scalar programs use them too."""
DIRECT = IMPLS
"""The executor's name for ``IMPLS``: the NumPy function of each primitive, called as
``f(*consts, *linear_args, **params)`` (without the scalar-domain argument of ``impl_rules``)."""


def _arrays(name: str, types: Sequence[Type]) -> list[ArrayType]:
    out = []
    for t in types:
        if not isinstance(t, ArrayT):
            raise TypeCheckError(f"{name} expects arrays, got {t}")
        out.append(t.array_type)
    return out


def _table(p: Primitive, impl: Impl, shape: ShapeRule, kind: str, fresh: bool,
           specialise: Specialise | None, cost: CostRule | None) -> Primitive:
    if p.name in PRIMS:
        raise ValueError(f"array primitive {p.name!r} defined twice")
    PRIMS[p.name] = p
    IMPLS[p], SHAPES[p], KINDS[p] = impl, shape, kind
    if fresh:
        FRESH.add(p)
    if specialise is not None:
        SPECIALISE[p] = specialise
    if cost is not None:
        cost_rules[p] = cost
    return p


def define(name: str, impl: Impl, shape: ShapeRule, *, fresh: bool, kind: str | None = None,
           arity: int | None = 1, larity: int = 0, specialise: Specialise | None = None,
           cost: CostRule | None = None) -> Primitive:
    """The primitive ``name``: ``impl(*consts, *linear_args, **params)`` evaluates it and
    ``shape(*types, **params)`` types it (same argument order). ``larity > 0`` makes a linear
    primitive (kind ``tangent``); every other primitive states its ``kind``."""
    if (kind is None) != (larity > 0) or (kind is not None and kind not in KIND_DOC):
        raise ValueError(f"{name}: a linear primitive has no kind, any other one of {list(KIND_DOC)}")
    if name in PRIMS or name in PRIMITIVES:  # before registering: a refused name must keep its object
        raise ValueError(f"array primitive {name!r} defined twice")
    p = register(Primitive(name, arity=arity, larity=larity, linear=larity > 0))

    def typing(args: Sequence[Type], largs: Sequence[Type], params: ParamDict) -> Type:
        return ArrayT.of(shape(*_arrays(name, [*args, *largs]), **params))

    typing_rules[p] = typing
    impl_rules[p] = lambda domain, *xs, **ps: impl(*xs, **ps)
    return _table(p, impl, shape, TANGENT if larity else kind or "", fresh, specialise, cost)


def extend(p: Primitive, impl: Impl, shape: ShapeRule, kind: str) -> Primitive:
    """One of the paper's scalar primitives, extended to arrays: elementwise on arrays of one shape,
    a real literal meeting an array broadcasts; its typing on ℝ is unchanged."""
    typing_rules[p] = _elementwise(p, typing_rules[p])
    EXTENDED.add(p)
    return _table(p, impl, shape, kind, True, None, None)


def _elementwise(p: Primitive, old: TypingRule) -> TypingRule:
    def rule(args: Sequence[Type], largs: Sequence[Type], params: ParamDict) -> Type:
        types = [*args, *largs]
        arrays = [t for t in types if isinstance(t, ArrayT)]
        if not arrays:
            return old(args, largs, params)
        for t in types:
            if t != REAL and not isinstance(t, ArrayT):
                raise TypeCheckError(f"{p.name} of {t} and an array")
            if isinstance(t, ArrayT) and t.shape != arrays[0].shape:
                raise TypeCheckError(f"{p.name} of arrays of shapes {arrays[0]} and {t} (broadcast first)")
        if p.linear and any(t == REAL for t in largs):
            raise TypeCheckError(f"{p.name} of a linear ℝ and an array")
        dtype = np.result_type(*(np.dtype(t.dtype) for t in arrays)).name
        return ArrayT(arrays[0].shape, dtype)

    return rule


# -- writing rules: the helpers of backend.rules ----------------------------------------------------

JvpRule = Callable[[tuple[Var, ...], tuple[LVar, ...], tuple[Type, ...], ParamDict], tuple[Expr, Expr]]
TransposeRule = Callable[[tuple[Expr, ...], LVar, tuple[Type, ...], ParamDict], Expr]


def app(p: Primitive, *args: Expr, largs: tuple[Expr, ...] = (), **params: Any) -> Prim:
    """``p[params](args ; largs)``."""
    return Prim(p, tuple(args), largs, tuple(params.items()))


def ladd(*terms: Expr) -> Expr:
    """``t1 ⊕ (t2 ⊕ …)``."""
    out = terms[-1]
    for t in reversed(terms[:-1]):
        out = Prim(LADD, (), (t, out))
    return out


def scale(s: Expr, v: Expr) -> Expr:
    return Prim(SCALE, (s,), (v,))


def dropping(tangents: tuple[LVar, ...], e: Expr) -> Expr:
    """``let (;) = drop(ṫ1) in … in e``: the tangents that do not influence the result."""
    return block([LetB((), (), Drop(t)) for t in tangents], e)


def result_type(p: Primitive, types: tuple[Type, ...], ps: ParamDict) -> ArrayT:
    t = typing_rules[p](types, (), ps)
    assert isinstance(t, ArrayT)
    return t


def jvp(p: Primitive) -> Callable[[JvpRule], JvpRule]:
    def register(rule: JvpRule) -> JvpRule:
        jvp_rules[p] = rule
        return rule

    return register


def transpose(p: Primitive) -> Callable[[TransposeRule], TransposeRule]:
    def register(rule: TransposeRule) -> TransposeRule:
        transpose_rules[p] = rule
        return rule

    return register


def shape_of(t: Type) -> tuple[int, ...]:
    assert isinstance(t, ArrayT)
    return t.shape


def linear(p: Primitive, p_lin: Primitive, rule: TransposeRule) -> None:
    """``p`` is linear: its JVP applies ``p_lin`` to the tangent, and ``rule`` transposes ``p_lin``."""
    deflinear(p, p_lin, rule)


def type_of(p: Primitive, operands: tuple[ArrayType, ...], params: dict[str, Any]) -> ArrayType:
    """The primitive's shape rule, with a primitive that is not an array primitive reported as a
    ShapeError."""
    rule = SHAPES.get(p)
    if rule is None:
        raise ShapeError(f"{p.name} is not an array primitive")
    return rule(*operands, **params)
