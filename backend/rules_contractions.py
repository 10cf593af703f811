"""JVP and transpose rules of the gathers (``backend.indexing``) and of the contractions and
sequence primitives (``backend.contractions``), keyed by their objects.

    J(take[a](x, i))     = drop(i̇); (take(x, i) ; takeL[a](i ; ẋ))
    J(take_along[a](x, i)) = drop(i̇); (take_along(x, i) ; take_alongL[a](i ; ẋ))
    J(einsum(x, y))      = (einsum(x, y) ; einsumL[0](y ; ẋ) ⊕ einsumL[1](x ; ẏ))   bilinear
    J(scan(a, x, h0))    = (scan(a, x, h0) ; scanL(a ; scan_prev(a, x, h0) ⊙ ȧ ⊕ ẋ ⊕ a ⊙ at₀(ḣ0)))
    J(conv1d(x, w))      = (conv1d(x, w) ; conv1dL(w ; ẋ) ⊕ conv1d_wL(x ; ẇ))

    T(takeL[a](i ; c)) = scatter_addL[a](i ; c)      T(scatter_addL[a](i ; c)) = takeL[a](i ; c)
    T(take_alongL(i ; c)) = scatter_alongL(i ; c)    (duplicates accumulate)
    T(scanL[adjoint=b](a ; c)) = scanL[adjoint=¬b](a ; c)         (the reverse scan)
    T(conv1dL[rev=b](w ; c)) = conv1dL[rev=¬b](w ; c)   T(conv1d_wL(x ; c)) = wgradL(x ; c)
    T(einsumL["X,Y->Z", 0](y ; c)) = einsumL["Z,Y->X", 0](y ; c)        (and side 1 alike)
"""

from __future__ import annotations

import backend.contractions as C
import backend.indexing as I
import backend.structural as S
from backend.lprims import app, dropping, jvp, ladd, linear, scale, shape_of, transpose
from calculi.linear_ad.primitives import ParamDict, transpose_rules
from calculi.linear_ad.syntax import Expr, LVar, Var
from calculi.linear_ad.types import Type

# -- gathers and scatters ------------------------------------------------------------------------


@jvp(I.take_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    x, idx = xs
    axis = ps["axis"]
    return app(I.take_p, x, idx, axis=axis), dropping(ts[1:], app(I.takeL_p, idx, largs=ts[:1], axis=axis))


@jvp(I.scatter_add_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    g, idx = xs
    return (app(I.scatter_add_p, g, idx, **dict(ps)),
            dropping(ts[1:], app(I.scatter_addL_p, idx, largs=ts[:1], **dict(ps))))


transpose_rules[I.takeL_p] = lambda consts, c, lt, ps: app(
    I.scatter_addL_p, *consts, largs=(c,), axis=ps["axis"], size=shape_of(lt[0])[ps["axis"]])
transpose_rules[I.scatter_addL_p] = lambda consts, c, lt, ps: app(I.takeL_p, *consts, largs=(c,),
                                                                  axis=ps["axis"])


@jvp(I.take_along_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    x, idx = xs
    axis = ps["axis"]
    return (app(I.take_along_p, x, idx, axis=axis),
            dropping(ts[1:], app(I.take_alongL_p, idx, largs=ts[:1], axis=axis)))


transpose_rules[I.take_alongL_p] = lambda consts, c, lt, ps: app(
    I.scatter_alongL_p, *consts, largs=(c,), axis=ps["axis"], size=shape_of(lt[0])[ps["axis"]])
transpose_rules[I.scatter_alongL_p] = lambda consts, c, lt, ps: app(
    I.take_alongL_p, *consts, largs=(c,), axis=ps["axis"])


# -- sequences: the cumulative sum, the linear scan and the causal convolution ----------------------

linear(C.cumsum_p, C.cumsumL_p, lambda consts, c, lt, ps: app(C.cumsumL_p, largs=(c,), axis=ps["axis"],
                                                              reverse=not ps["reverse"]))


@jvp(C.linear_scan_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    a, x, h0 = xs
    da, dx, dh0 = ts
    rev = ps["reverse"]
    shape = shape_of(types[1])
    t = shape[1] - 1 if rev else 0
    at_start = app(S.padL_p, largs=(app(S.reshapeL_p, largs=(dh0,), shape=(shape[0], 1, *shape[2:])),),
                   starts=(0, t) + (0,) * (len(shape) - 2), limits=(shape[0], t + 1, *shape[2:]),
                   strides=(1,) * len(shape), shape=shape)
    drive = ladd(scale(app(C.scan_prev_p, a, x, h0, reverse=rev), da), dx, scale(a, at_start))
    tangent = app(C.scanL_p, a, largs=(drive,), reverse=rev, adjoint=False)
    return app(C.linear_scan_p, a, x, h0, reverse=rev), tangent


transpose_rules[C.scanL_p] = lambda consts, c, lt, ps: app(
    C.scanL_p, *consts, largs=(c,), reverse=ps["reverse"], adjoint=not ps["adjoint"])


@jvp(C.conv1d_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    x, w = xs
    r = ps["reverse"]
    return app(C.conv1d_p, x, w, reverse=r), ladd(app(C.conv1dL_p, w, largs=(ts[0],), reverse=r),
                                                  app(C.conv1d_wL_p, x, largs=(ts[1],), reverse=r))


transpose_rules[C.conv1dL_p] = lambda consts, c, lt, ps: app(C.conv1dL_p, *consts, largs=(c,),
                                                             reverse=not ps["reverse"])
transpose_rules[C.conv1d_wL_p] = lambda consts, c, lt, ps: app(
    C.wgradL_p, *consts, largs=(c,), width=shape_of(lt[0])[0], reverse=ps["reverse"])
transpose_rules[C.wgradL_p] = lambda consts, c, lt, ps: app(C.conv1d_wL_p, *consts, largs=(c,),
                                                            reverse=ps["reverse"])


# -- contractions ----------------------------------------------------------------------------------

@jvp(C.einsum_p)
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    x, y = xs
    spec = ps["spec"]
    return app(C.einsum_p, x, y, spec=spec), ladd(app(C.einsumL_p, y, largs=(ts[0],), spec=spec, side=0),
                                                  app(C.einsumL_p, x, largs=(ts[1],), spec=spec, side=1))


@transpose(C.einsumL_p)
def _(consts: tuple[Expr, ...], c: LVar, lt: tuple[Type, ...], ps: ParamDict) -> Expr:
    """For ``Z = X·Y`` linear in X: ``X̄ = einsum("Z,Y->X′")``, broadcast over the indices of X that
    occur in X alone (X′ leaves them out); linear in Y alike."""
    (tx, ty), tz = C.parse_spec(ps["spec"], 2)
    side = ps["side"]
    mine, other = (tx, ty) if side == 0 else (ty, tx)
    kept = "".join(ch for ch in mine if ch in other or ch in tz)
    spec = f"{tz},{other}->{kept}" if side == 0 else f"{other},{tz}->{kept}"
    out: Expr = app(C.einsumL_p, *consts, largs=(c,), spec=spec, side=side)
    if kept != mine:
        shape = shape_of(lt[0])
        ones = tuple(n if ch in kept else 1 for ch, n in zip(mine, shape, strict=True))
        out = app(S.broadcastL_p, largs=(app(S.reshapeL_p, largs=(out,), shape=ones),), shape=shape)
    return out
