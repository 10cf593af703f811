"""What the backend adds for derivatives of derivatives: the non-linear reading of each linear array
primitive (rows of ``calculi.linear_ad.embed.readings``, keyed by the primitive objects) and JVP rules
for the helpers that derivative programs contain (``tanh_grad`` …), so that an embedded derivative
program is an ordinary program that J, U and T take again.

    ⌊ẋ ⊕ ẏ⌋ = x + y          ⌊s ⊙ ẋ⌋ = s × x          ⌊reshapeL ẋ⌋ = reshape x   (and each twin alike)
    ⌊einsumL[side 0](c ; ẋ)⌋ = einsum(x, c)         ⌊takeL(i ; ẋ)⌋ = take(x, i)
    ⌊selectL[keep](m ; ẋ)⌋ = masked[keep](m, x)      ⌊scanL(a ; ẋ)⌋ = scan_lin(a, x)
    ⌊wgradL(x ; ġ)⌋ = wgrad(x, g)                    ⌊scatter_alongL(i ; ġ)⌋ = scatter_along(g, i)
    ⌊0 : f32[S]⌋ = broadcast[S](0)

Four linear primitives have no ordinary twin; their readings are primitives defined here (kind
``helper``: met only in derivative programs), each with its JVP rule:

    J(masked(m, x))       = (masked(m, x) ; selectL(m ; ẋ))
    J(scatter_along(g, i)) = (scatter_along(g, i) ; scatter_alongL(i ; ġ))
    J(wgrad(x, g))        = (wgrad(x, g) ; wgradL(x ; ġ) ⊕ wgradL[¬reverse](g ; ẋ))
                             (as wgrad(x, g) = wgrad[¬reverse](g, x))
    J(scan_lin(a, x))     = (h ; scanL(a ; ẋ ⊕ h_prev ⊙ ȧ'))   h_prev the state each step starts from,
                             ȧ' = ȧ (the scan) or ȧ shifted one step (its adjoint)
    J(scan_lin_prev(a, x)) = (h_prev ; shift(ḣ))     ḣ the tangent above, moved one step as h_prev is

The helpers' derivatives, written with the result where JAX writes them so::

    tanh_grad(y) = 1 − y²     J = −2y ⊙ ẏ            logistic_grad(y) = y(1 − y)   J = (1 − 2y) ⊙ ẏ
    sqrt_grad(y) = 1/(2y)     J = −1/(2y²) ⊙ ẏ        rsqrt_grad(y) = −y³/2         J = −3y²/2 ⊙ ẏ
    gelu_grad(x)              J = gelu''(x) ⊙ ẋ       sqrt_bound_grad(y)            J = −2g² [2y > 1/m] ⊙ ẏ
    max_share, argmax_weights  piecewise constant: J = 0
    prod_others(v) = L ⊙ R    J = R ⊙ L̇ ⊕ L ⊙ Ṙ   L, R the exclusive products from either end (scans)
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

import backend.contractions as C
import backend.indexing as I
import backend.primitives as P
import backend.rules  # noqa: F401  (the first-order rows, before these)
import backend.structural as S
from backend.lprims import HELPER, Array, app, define, dropping, jvp, ladd, result_type, scale, shape_of
from backend.ltypes import ArrayT, ArrayType, ConstRef
from backend.rule_coverage import instrument
from calculi.linear_ad.embed import reads_as, zero_readings
from calculi.linear_ad.primitives import ParamDict, jvp_rules
from calculi.linear_ad.syntax import Expr, Lit, LVar, Prim, Primitive, Var, Zero
from calculi.linear_ad.types import Type

# -- the primitives a reading needs and the backend lacked ------------------------------------------


def _masked(m: Array, x: Array, *, keep: bool) -> Array:
    return np.where(m, x, 0) if keep else np.where(m, 0, x)


masked_p = define("masked", _masked, lambda m, x, *, keep: P._select_shape(m, x, x), kind=HELPER, arity=2,
                  fresh=True)
"""``masked[keep](m, x)``: ``x`` where the mask is ``keep``, else 0 (the ordinary ``selectL``)."""

scatter_along_p = define("scatter_along",
                         lambda g, i, *, axis, size: I._scatter_along(i, g, axis=axis, size=size),
                         lambda g, i, *, axis, size: I._scatter_along_shape(i, g, axis=axis, size=size),
                         kind=HELPER, arity=2, fresh=True)
wgrad_p = define("wgrad", C._conv1d_wgrad, C._wgrad_shape, kind=HELPER, arity=2, fresh=True)
scan_lin_p = define("scan_lin", C._scan_l, C._scan_l_shape, kind=HELPER, arity=2, fresh=True)


def _scan_lin_prev(a: Array, x: Array, *, reverse: bool, adjoint: bool) -> Array:
    """The state each step of ``scan_lin`` starts from: its result shifted one step back, 0 first."""
    h = C._scan_l(a, x, reverse=reverse, adjoint=adjoint)
    out = np.zeros_like(h)
    if reverse != adjoint:
        out[:, :-1] = h[:, 1:]
    else:
        out[:, 1:] = h[:, :-1]
    return out


scan_lin_prev_p = define("scan_lin_prev", _scan_lin_prev, C._scan_l_shape, kind=HELPER, arity=2, fresh=True)

# -- the readings -----------------------------------------------------------------------------------

def _twin_reading(twin: Primitive, args: tuple[Expr, ...], largs: tuple[Expr, ...],
                  ps: dict[str, Any]) -> Expr:
    return app(twin, *largs, **ps)


for _lin, _twin in {P.negL_p: P.neg_p, P.convertL_p: P.convert_p, S.reshapeL_p: S.reshape_p,
                    S.transposeL_p: S.transpose_p, S.sliceL_p: S.slice_p, S.padL_p: S.pad_p,
                    S.broadcastL_p: S.broadcast_p, S.reduce_sumL_p: S.reduce_sum_p,
                    C.cumsumL_p: C.cumsum_p}.items():
    reads_as(_lin, functools.partial(_twin_reading, _twin))

reads_as(C.einsumL_p, lambda args, largs, ps: app(
    C.einsum_p, *((largs[0], args[0]) if ps["side"] == 0 else (args[0], largs[0])), spec=ps["spec"]))
reads_as(I.takeL_p, lambda args, largs, ps: app(I.take_p, largs[0], args[0], **ps))
reads_as(I.scatter_addL_p, lambda args, largs, ps: app(I.scatter_add_p, largs[0], args[0], **ps))
reads_as(I.take_alongL_p, lambda args, largs, ps: app(I.take_along_p, largs[0], args[0], **ps))
reads_as(I.scatter_alongL_p, lambda args, largs, ps: app(scatter_along_p, largs[0], args[0], **ps))
reads_as(C.conv1dL_p, lambda args, largs, ps: app(C.conv1d_p, largs[0], args[0], **ps))
reads_as(C.conv1d_wL_p, lambda args, largs, ps: app(C.conv1d_p, args[0], largs[0], **ps))
reads_as(C.wgradL_p, lambda args, largs, ps: app(wgrad_p, args[0], largs[0], **ps))
reads_as(C.scanL_p, lambda args, largs, ps: app(scan_lin_p, args[0], largs[0], **ps))
reads_as(P.selectL_p, lambda args, largs, ps: app(masked_p, args[0], largs[0], **ps))


def _zero(t: Type) -> Expr:
    assert isinstance(t, ArrayT)
    scalar = np.zeros((), t.dtype)
    zero = app(P.const_p, value=ConstRef(ArrayT.of(ArrayType.of(scalar)), scalar))
    return app(S.broadcast_p, zero, shape=t.shape) if t.shape else zero


zero_readings[ArrayT] = _zero

# -- JVP rules of the helpers and of the primitives above --------------------------------------------

Rule = tuple[Expr, Expr]


def _lit(x: float) -> Lit:
    return Lit(repr(float(x)))


def _mul(*xs: Expr) -> Expr:
    out = xs[0]
    for x in xs[1:]:
        out = Prim(P.mul_p, (out, x))
    return out


def _of_result(p: Primitive, slope: object) -> None:
    """J(p v) = (p v ; slope(v) ⊙ v̇) for a unary helper with no parameters."""

    def rule(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> Rule:
        return app(p, *xs), scale(slope(xs[0]), ts[0])  # type: ignore[operator]

    jvp_rules[p] = rule


_of_result(P.tanh_grad_p, lambda y: _mul(_lit(-2.0), y))
_of_result(P.logistic_grad_p, lambda y: Prim(P.add_p, (_lit(1.0), _mul(_lit(-2.0), y))))
_of_result(P.sqrt_grad_p, lambda y: _mul(_lit(-0.5), app(P.integer_pow_p, y, y=-2)))
_of_result(P.rsqrt_grad_p, lambda y: _mul(_lit(-1.5), y, y))


def _gelu_second(x: Var) -> Expr:
    """gelu''(x) = s·u' + x·s·(3a·C·x − t·u'²), u = C(x + a x³), t = tanh u, s = 1 − t², u' = C(1 + 3a x²)."""
    a, c = 0.044715, P.GELU_C
    u = _mul(_lit(c), Prim(P.add_p, (x, _mul(_lit(a), app(P.integer_pow_p, x, y=3)))))
    t = app(P.tanh_p, u)
    s = app(P.tanh_grad_p, t)
    du = _mul(_lit(c), Prim(P.add_p, (_lit(1.0), _mul(_lit(3 * a), x, x))))
    inner = Prim(P.sub_p, (_mul(_lit(3 * a * c), x), _mul(t, du, du)))
    return Prim(P.add_p, (_mul(s, du), _mul(x, s, inner)))


_of_result(P.gelu_grad_p, _gelu_second)


@jvp(P.sqrt_bound_grad_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> Rule:
    """g = 1/max(2y, 1/m): g' = −2g² where 2y > 1/m, else 0."""
    m = ps["max_gradient"]
    g = app(P.sqrt_bound_grad_p, xs[0], max_gradient=m)
    dtype = shape_dtype(types[0])
    bound = app(P.const_p, value=_scalar(1.0 / m, dtype))
    wide = app(S.broadcast_p, bound, shape=shape_of(types[0])) if shape_of(types[0]) else bound
    above = app(P.convert_p, app(P.greater_p, _mul(_lit(2.0), xs[0]), wide), dtype=dtype)
    return app(P.sqrt_bound_grad_p, xs[0], max_gradient=m), scale(_mul(_lit(-2.0), g, g, above), ts[0])


def shape_dtype(t: Type) -> str:
    assert isinstance(t, ArrayT)
    return t.dtype


def _scalar(value: float, dtype: str) -> ConstRef:
    x = np.asarray(value, dtype)
    return ConstRef(ArrayT.of(ArrayType.of(x)), x)


def _zero_tangent(p: Primitive) -> None:
    def rule(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> Rule:
        return app(p, *xs, **dict(ps)), dropping(ts, Zero(result_type(p, types, ps)))

    jvp_rules[p] = rule


_zero_tangent(P.max_share_p)
_zero_tangent(S.argmax_weights_p)


@jvp(masked_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> Rule:
    tangent = app(P.selectL_p, xs[0], largs=(ts[1],), **dict(ps))
    return app(masked_p, *xs, **dict(ps)), dropping(ts[:1], tangent)


@jvp(scatter_along_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> Rule:
    g, i = xs
    return app(scatter_along_p, g, i, **dict(ps)), dropping(ts[1:], app(I.scatter_alongL_p, i, largs=(ts[0],),
                                                                         **dict(ps)))


@jvp(wgrad_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> Rule:
    x, g = xs
    width, rev = ps["width"], ps["reverse"]
    in_g = app(C.wgradL_p, x, largs=(ts[1],), width=width, reverse=rev)
    in_x = app(C.wgradL_p, g, largs=(ts[0],), width=width, reverse=not rev)
    return app(wgrad_p, x, g, **dict(ps)), ladd(in_g, in_x)


def _shift(t: Expr, shape: tuple[int, ...], later: bool) -> Expr:
    """``t`` moved one step along axis 1 (``later``: t[:, s] goes to s + 1), 0 entering."""
    n, rank = shape[1], len(shape)
    src = (1, n) if not later else (0, n - 1)
    dst = (0, n - 1) if not later else (1, n)
    cut = app(S.sliceL_p, largs=(t,), starts=(0, src[0], *(0,) * (rank - 2)),
              limits=(shape[0], src[1], *shape[2:]), strides=(1,) * rank)
    return app(S.padL_p, largs=(cut,), starts=(0, dst[0], *(0,) * (rank - 2)),
               limits=(shape[0], dst[1], *shape[2:]), strides=(1,) * rank, shape=shape)


@jvp(scan_lin_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> Rule:
    """h = scan(a', x) with a' = a (the scan) or a shifted (its adjoint, which runs the other way):
    ḣ = scan(a' ; ẋ ⊕ h_prev ⊙ ȧ')."""
    a, x = xs
    rev, adj = ps["reverse"], ps["adjoint"]
    shape = shape_of(types[1])
    prev = app(scan_lin_prev_p, a, x, reverse=rev, adjoint=adj)
    if adj and shape[1] == 1:
        drive = dropping((ts[0],), ts[1])
    else:
        da = _shift(ts[0], shape, later=rev) if adj else ts[0]
        drive = ladd(ts[1], scale(prev, da))
    return app(scan_lin_p, a, x, **dict(ps)), app(C.scanL_p, a, largs=(drive,), **dict(ps))


@jvp(scan_lin_prev_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> Rule:
    """``scan_lin_prev`` is ``scan_lin`` moved one step (0 entering), a linear map of its result:
    J(scan_lin_prev(a, x)) = (scan_lin_prev(a, x) ; shift(ḣ)) with ḣ the tangent of ``scan_lin``."""
    primal = app(scan_lin_prev_p, *xs, **dict(ps))
    shape = shape_of(types[1])
    if shape[1] == 1:  # one step: the state it starts from is 0
        return primal, dropping(ts, Zero(result_type(scan_lin_prev_p, types, ps)))
    _, tangent = jvp_rules[scan_lin_p](xs, ts, types, ps)
    return primal, _shift(tangent, shape, later=ps["reverse"] == ps["adjoint"])


def _moved(x: Expr, shape: tuple[int, ...], later: bool) -> Expr:
    """The ordinary twin of ``_shift``."""
    n, rank = shape[1], len(shape)
    src = (1, n) if not later else (0, n - 1)
    dst = (0, n - 1) if not later else (1, n)
    cut = app(S.slice_p, x, starts=(0, src[0], *(0,) * (rank - 2)), limits=(shape[0], src[1], *shape[2:]),
              strides=(1,) * rank)
    return app(S.pad_p, cut, starts=(0, dst[0], *(0,) * (rank - 2)), limits=(shape[0], dst[1], *shape[2:]),
               strides=(1,) * rank, shape=shape)


def _placed(h0: Expr, shape: tuple[int, ...], t: int, p_reshape: Primitive, p_pad: Primitive,
            linear: bool) -> Expr:
    """``h0 [B,…]`` as a ``[B,T,…]`` array that is ``h0`` at step ``t`` and 0 elsewhere."""
    rank = len(shape)
    ps: dict[str, Any] = {"starts": (0, t, *(0,) * (rank - 2)), "limits": (shape[0], t + 1, *shape[2:]),
          "strides": (1,) * rank, "shape": shape}
    one = (shape[0], 1, *shape[2:])
    if linear:
        return app(p_pad, largs=(app(p_reshape, largs=(h0,), shape=one),), **ps)
    return app(p_pad, app(p_reshape, h0, shape=one), **ps)


@jvp(C.scan_prev_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> Rule:
    """The state each step starts from is itself a scan from 0: prev = scan(a', x') with a' = a moved
    one step on (0 entering) and x' = x moved one step on, h0 entering; so
    J(prev) = scan(a' ; ẋ' ⊕ scan_prev(a', x', 0) ⊙ ȧ')."""
    a, x, h0 = xs
    da, dx, dh0 = ts
    rev = ps["reverse"]
    shape = shape_of(types[1])
    start = shape[1] - 1 if rev else 0
    a1 = _moved(a, shape, later=not rev)
    x1 = Prim(P.add_p, (_moved(x, shape, later=not rev),
                        _placed(h0, shape, start, S.reshape_p, S.pad_p, linear=False)))
    zero = _zero(types[2])
    prev = app(C.scan_prev_p, a1, x1, zero, reverse=rev)
    dx1 = ladd(_shift(dx, shape, later=not rev),
               _placed(dh0, shape, start, S.reshapeL_p, S.padL_p, linear=True))
    drive = ladd(dx1, scale(prev, _shift(da, shape, later=not rev)))
    tangent = app(C.scanL_p, a1, largs=(drive,), reverse=rev, adjoint=False)
    return app(C.scan_prev_p, a, x, h0, reverse=rev), tangent


def _grouped(x: Expr, shape: tuple[int, ...], axes: tuple[int, ...], linear: bool) -> Expr:
    """``x`` with the reduced ``axes`` moved last and each side flattened: ``[B, n]``."""
    rest = tuple(i for i in range(len(shape)) if i not in axes)
    flat = (math.prod(shape[i] for i in rest), math.prod(shape[i] for i in axes))
    if linear:
        return app(S.reshapeL_p, largs=(app(S.transposeL_p, largs=(x,), perm=(*rest, *axes)),), shape=flat)
    return app(S.reshape_p, app(S.transpose_p, x, perm=(*rest, *axes)), shape=flat)


def _ungrouped(t: Expr, shape: tuple[int, ...], axes: tuple[int, ...]) -> Expr:
    perm = (*(i for i in range(len(shape)) if i not in axes), *axes)
    moved = tuple(shape[i] for i in perm)
    back = tuple(int(i) for i in np.argsort(perm))
    return app(S.transposeL_p, largs=(app(S.reshapeL_p, largs=(t,), shape=moved),), perm=back)


def _twice(x: Expr, grid: tuple[int, int], flip: ConstRef, linear: bool) -> Expr:
    """``[x ; x reversed along its rows]``, a ``[2B, n]`` array (one use of ``x``, so linear too)."""
    rows, n = grid
    if linear:
        one = app(S.reshapeL_p, largs=(x,), shape=(1, rows, n))
        both = app(S.broadcastL_p, largs=(one,), shape=(2, rows, n))
        return app(I.take_alongL_p, app(P.const_p, value=flip),
                   largs=(app(S.reshapeL_p, largs=(both,), shape=(2 * rows, n)),), axis=1)
    both = app(S.broadcast_p, app(S.reshape_p, x, shape=(1, rows, n)), shape=(2, rows, n))
    return app(I.take_along_p, app(S.reshape_p, both, shape=(2 * rows, n)), app(P.const_p, value=flip),
               axis=1)


@jvp(S.prod_others_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> Rule:
    """With each group a row of ``v [B, n]``, prod_others = L ⊙ R for the exclusive products
    L = scan_prev(v, 0, 1) from the left and R from the right (no division, so zeros are exact).
    L_{t+1} = v_t L_t gives L̇ = shift(scanL(v ; L ⊙ v̇)), and Ṙ alike the other way, so
    J = (prod_others v ; R ⊙ L̇ ⊕ L ⊙ Ṙ). Both halves run as one forward scan over the rows of
    w = [v ; v reversed], whose exclusive products are [L ; R reversed] and [R ; L reversed], so that
    v̇ is used once."""
    shape, axes = shape_of(types[0]), tuple(ps["axes"])
    primal = app(S.prod_others_p, xs[0], **dict(ps))
    n = math.prod(shape[i] for i in axes)
    rows = math.prod(shape) // n if n else 0
    if n < 2 or rows == 0:  # a group of at most one element: the product of the others is 1
        return primal, dropping(ts, Zero(result_type(S.prod_others_p, types, ps)))
    dtype = shape_dtype(types[0])
    grid, wide = (rows, n), (2 * rows, n)
    order = np.arange(n)
    index = np.concatenate([np.broadcast_to(order, grid), np.broadcast_to(order[::-1], grid)])
    flip = ConstRef(ArrayT.of(ArrayType.of(index)), index)
    w = _twice(_grouped(xs[0], shape, axes, linear=False), grid, flip, linear=False)
    dw = _twice(_grouped(ts[0], shape, axes, linear=True), grid, flip, linear=True)
    zero = app(S.broadcast_p, app(P.const_p, value=_scalar(0.0, dtype)), shape=wide)
    one = app(S.broadcast_p, app(P.const_p, value=_scalar(1.0, dtype)), shape=(2 * rows,))
    left, right = (app(C.scan_prev_p, w, zero, one, reverse=rev) for rev in (False, True))
    ahead = app(C.scanL_p, w, largs=(scale(left, dw),), reverse=False, adjoint=False)
    d_left = _shift(ahead, wide, later=True)
    halves = app(I.take_alongL_p, app(P.const_p, value=flip), largs=(scale(right, d_left),), axis=1)
    stacked = app(S.reshapeL_p, largs=(halves,), shape=(2, rows, n))
    tangent = app(S.reduce_sumL_p, largs=(stacked,), axes=(0,))
    return primal, _ungrouped(tangent, shape, axes)


instrument()  # every row of the backend fires its rule (``jvp:tanh``, ``transpose:reshapeL`` …)
