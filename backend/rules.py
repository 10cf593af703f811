"""JVP rules for every array primitive and transpose rules for the linear ones (linear_ad's tables),
keyed by the primitive objects of ``backend.primitives`` and ``backend.structural``; the indexing
and sequence primitives' rules are in ``backend.rules_contractions``.

Notation: ``v`` primal arguments, ``v̇`` their tangents, ``c`` the cotangent. A rule uses each
tangent (or the cotangent) exactly once; a tangent with no influence is dropped.

    J(tanh v)            = (tanh v ; tanh_grad(tanh v) ⊙ v̇)       (slopes from the result: the
                                                                  executor merges the two tanh v)
    J(abs v)             = (abs v ; sign v ⊙ v̇)
    J(maximum(x, y))     = (maximum(x, y) ; max_share(x, y) ⊙ ẋ ⊕ max_share(y, x) ⊙ ẏ)
                                            (share 1, ½ at a tie, 0: JAX's balanced choice)
    J(select(m, a, b))   = drop(ṁ); (select(m, a, b) ; selectL[keep](m ; ȧ) ⊕ selectL[¬keep](m ; ḃ))
    J(reduce_max v)      = (reduce_max v ; reduce_sumL(argmax_weights v ⊙ v̇))   (1/k at k tied maxima)
    J(reduce_prod v)     = (reduce_prod v ; reduce_sumL(prod_others v ⊙ v̇))
    J(p v̄)               = (p v̄ ; 0), the v̇ dropped    (p constant: comparisons, argmax, sign …)

    T(reshapeL c) = reshapeL[shape of ẋ] c       T(broadcastL c) = reshapeL(reduce_sumL c)
    T(sliceL c)   = padL c                       T(padL c)       = sliceL c
    T(selectL(m ; c)) = selectL(m ; c)           T(reduce_sumL c) = broadcastL(reshapeL c)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import backend.primitives as P
import backend.rules_contractions  # (the rules of the indexing and sequence primitives)
import backend.structural as S
from backend.lprims import (
    CONSTANT,
    EXTENDED,
    KINDS,
    app,
    dropping,
    jvp,
    ladd,
    linear,
    result_type,
    scale,
    shape_of,
)
from calculi.linear_ad.primitives import ParamDict, defjvp_scale, jvp_rules, keep_real_rule, transpose_rules
from calculi.linear_ad.syntax import Expr, Lit, LVar, Prim, Primitive, Var, Zero
from calculi.linear_ad.types import Type

__all__ = ["app", "ladd", "scale"]

# -- unary non-linear primitives: J(p v) = (p v ; p'(v) ⊙ v̇) ----------------------------------------

def _of_output(grad: Primitive, p: Primitive) -> Callable[[Var], Expr]:
    """The slope written with the primitive's result, ``grad(p v)``, as JAX writes tanh' = 1 − y²."""
    return lambda v: app(grad, app(p, v))


for _p, _grad in {P.tanh_p: P.tanh_grad_p, P.logistic_p: P.logistic_grad_p, P.sqrt_p: P.sqrt_grad_p,
                  P.rsqrt_p: P.rsqrt_grad_p}.items():
    defjvp_scale(_p, _of_output(_grad, _p))
defjvp_scale(P.gelu_tanh_p, lambda v: app(P.gelu_grad_p, v))
defjvp_scale(P.softplus_p, lambda v: app(P.logistic_p, v))
defjvp_scale(P.log_p, lambda v: app(P.integer_pow_p, v, y=-1))
defjvp_scale(P.log1p_p, lambda v: app(P.integer_pow_p, Prim(P.add_p, (v, Lit("1.0"))), y=-1))
defjvp_scale(P.expm1_p, lambda v: app(P.exp_p, v))
defjvp_scale(P.abs_p, lambda v: app(P.sign_p, v))


@jvp(P.integer_pow_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    (x,), y = xs, ps["y"]
    slope = Prim(P.mul_p, (Lit(repr(float(y))), app(P.integer_pow_p, x, y=y - 1)))
    return app(P.integer_pow_p, x, y=y), scale(slope, ts[0])


@jvp(P.sqrt_bound_derivative_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    """J(√x, bounded) = (√x ; 1/max(2√x, 1/m) ⊙ ẋ)."""
    m = ps["max_gradient"]
    y = app(P.sqrt_bound_derivative_p, *xs, max_gradient=m)
    return y, scale(app(P.sqrt_bound_grad_p, app(P.sqrt_bound_derivative_p, *xs, max_gradient=m),
                        max_gradient=m), ts[0])


# -- binary elementwise ---------------------------------------------------------------------------

linear(P.neg_p, P.negL_p, lambda consts, c, lt, ps: app(P.negL_p, largs=(c,)))
transpose_rules[P.negL_p] = lambda consts, c, lt, ps: app(P.negL_p, largs=(c,))


@jvp(P.sub_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    return app(P.sub_p, *xs), ladd(ts[0], app(P.negL_p, largs=(ts[1],)))


@jvp(P.div_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    x, y = xs
    dy = app(P.neg_p, app(P.div_p, x, Prim(P.mul_p, (y, y))))
    return app(P.div_p, x, y), ladd(scale(app(P.integer_pow_p, y, y=-1), ts[0]), scale(dy, ts[1]))


@jvp(P.pow_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    x, y = xs
    dx = Prim(P.mul_p, (y, app(P.pow_p, x, Prim(P.add_p, (y, Lit("-1.0"))))))
    dy = Prim(P.mul_p, (app(P.log_p, x), app(P.pow_p, x, y)))
    return app(P.pow_p, x, y), ladd(scale(dx, ts[0]), scale(dy, ts[1]))


def _extremum(p: Primitive, mine: Callable[[Var, Var], tuple[Var, Var]]) -> None:
    """``p(x, y)`` with ``x``'s share ``max_share(a, b)`` and ``y``'s ``max_share(b, a)``, where
    ``(a, b) = mine(x, y)`` (maximum: x, y; minimum: y, x); a tie splits the tangent evenly, as JAX
    does. Integer and boolean results have a zero tangent."""

    def rule(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...],
             ps: ParamDict) -> tuple[Expr, Expr]:
        out = result_type(p, types, ps)
        if np.dtype(out.dtype).kind not in "fc":
            return app(p, *xs), dropping(ts, Zero(out))
        a, b = mine(*xs)
        shares = scale(app(P.max_share_p, a, b), ts[0]), scale(app(P.max_share_p, b, a), ts[1])
        return app(p, *xs), ladd(*shares)

    jvp_rules[p] = rule


_extremum(P.maximum_p, lambda x, y: (x, y))
_extremum(P.minimum_p, lambda x, y: (y, x))


def _constant_result(p: Primitive) -> None:
    """Integer, boolean or stopped results: the tangent is zero and the inputs' tangents drop."""

    def rule(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...],
             ps: ParamDict) -> tuple[Expr, Expr]:
        return app(p, *xs, **dict(ps)), dropping(ts, Zero(result_type(p, types, ps)))

    jvp_rules[p] = rule


for _p in [*(p for p, kind in KINDS.items() if kind == CONSTANT), P.const_p]:
    _constant_result(_p)

jvp_rules[P.checkpoint_name_p] = lambda xs, ts, types, ps: (app(P.checkpoint_name_p, *xs, **dict(ps)), ts[0])


@jvp(P.select_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    m, a, b = xs
    tangent = ladd(app(P.selectL_p, m, largs=(ts[1],), keep=True),
                   app(P.selectL_p, m, largs=(ts[2],), keep=False))
    return app(P.select_p, m, a, b), dropping(ts[:1], tangent)


transpose_rules[P.selectL_p] = lambda consts, c, lt, ps: app(P.selectL_p, *consts, largs=(c,),
                                                             keep=ps["keep"])
linear(P.convert_p, P.convertL_p,
       lambda consts, c, lt, ps: app(P.convertL_p, largs=(c,), dtype=lt[0].dtype))  # type: ignore[attr-defined]


# -- structural primitives (linear): transposes that reshape the cotangent ---------------------------

linear(S.reshape_p, S.reshapeL_p,
       lambda consts, c, lt, ps: app(S.reshapeL_p, largs=(c,), shape=shape_of(lt[0])))
linear(S.slice_p, S.sliceL_p, lambda consts, c, lt, ps: app(S.padL_p, largs=(c,), **dict(ps),
                                                            shape=shape_of(lt[0])))
linear(S.pad_p, S.padL_p, lambda consts, c, lt, ps: app(
    S.sliceL_p, largs=(c,), starts=ps["starts"], limits=ps["limits"], strides=ps["strides"]))


def _inverse(perm: tuple[int, ...]) -> tuple[int, ...]:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


linear(S.transpose_p, S.transposeL_p,
       lambda consts, c, lt, ps: app(S.transposeL_p, largs=(c,), perm=_inverse(ps["perm"])))


def _unbroadcast(c: Expr, source: tuple[int, ...], target: tuple[int, ...]) -> Expr:
    """The transpose of broadcasting ``source`` to ``target``: sum the broadcast axes, reshape."""
    lead = len(target) - len(source)
    stretched = tuple(lead + i for i, n in enumerate(source) if n == 1 and target[lead + i] != 1)
    axes = tuple(range(lead)) + stretched
    out = app(S.reduce_sumL_p, largs=(c,), axes=axes) if axes else c
    kept = tuple(n for i, n in enumerate(target) if i not in axes)
    return app(S.reshapeL_p, largs=(out,), shape=source) if kept != source else out


linear(S.broadcast_p, S.broadcastL_p, lambda consts, c, lt, ps: _unbroadcast(c, shape_of(lt[0]), ps["shape"]))


def _sum_transpose(consts: tuple[Expr, ...], c: LVar, lt: tuple[Type, ...], ps: ParamDict) -> Expr:
    source = shape_of(lt[0])
    keep = tuple(1 if i in ps["axes"] else n for i, n in enumerate(source))
    return app(S.broadcastL_p, largs=(app(S.reshapeL_p, largs=(c,), shape=keep),), shape=source)


linear(S.reduce_sum_p, S.reduce_sumL_p, _sum_transpose)


def _weighted_sum(p: Primitive, weights: Callable[[Var, tuple[int, ...]], Expr]) -> None:
    """J(p v) = (p v ; reduce_sumL(weights(v) ⊙ v̇)) for a reduction ``p`` over ``axes``."""

    def rule(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...],
             ps: ParamDict) -> tuple[Expr, Expr]:
        axes = ps["axes"]
        return app(p, *xs, axes=axes), app(S.reduce_sumL_p, largs=(scale(weights(xs[0], axes), ts[0]),),
                                           axes=axes)

    jvp_rules[p] = rule


_weighted_sum(S.reduce_max_p, lambda v, axes: app(S.argmax_weights_p, v, axes=axes))
_weighted_sum(S.reduce_min_p, lambda v, axes: app(S.argmax_weights_p, app(P.neg_p, v), axes=axes))
_weighted_sum(S.reduce_prod_p, lambda v, axes: app(S.prod_others_p, v, axes=axes))


@jvp(S.concatenate_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    axis = ps["axis"]
    out = result_type(S.concatenate_p, types, ps).shape
    pieces, offset = [], 0
    for t, dt in zip(types, ts, strict=True):
        shape = shape_of(t)
        starts = tuple(offset if i == axis else 0 for i in range(len(out)))
        limits = tuple(offset + n if i == axis else m
                       for i, (n, m) in enumerate(zip(shape, out, strict=True)))
        pieces.append(app(S.padL_p, largs=(dt,), starts=starts, limits=limits, strides=(1,) * len(out),
                          shape=out))
        offset += shape[axis]
    return app(S.concatenate_p, *xs, axis=axis), ladd(*pieces)


for _p in EXTENDED:  # Linear A's primitives on ℝ keep their own JVP rules there
    keep_real_rule(_p)
import backend.second_order  # noqa: E402, F401  (the second-order rows; it instruments every row for coverage)
