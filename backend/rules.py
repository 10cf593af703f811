"""JVP rules for every array primitive and transpose rules for the linear ones (linear_ad's tables).

Notation: ``v`` primal arguments, ``v̇`` their tangents, ``c`` the cotangent. A rule uses each
tangent (or the cotangent) exactly once; a tangent with no influence is dropped.

    J(tanh v)            = (tanh v ; tanh_grad(tanh v) ⊙ v̇)       (slopes from the result: the
                                                                  executor merges the two tanh v)
    J(einsum(x, y))      = (einsum(x, y) ; einsumL[0](y ; ẋ) ⊕ einsumL[1](x ; ẏ))   bilinear
    J(select(m, a, b))   = drop(ṁ); (select(m, a, b) ; selectL[keep](m ; ȧ) ⊕ selectL[¬keep](m ; ḃ))
    J(take(x, i))        = drop(i̇); (take(x, i) ; takeL(i ; ẋ))
    J(scan(a, x, h0))    = (scan(a, x, h0) ; scanL(a ; scan_prev(a, x, h0) ⊙ ȧ ⊕ ẋ ⊕ a ⊙ at₀(ḣ0)))
    J(conv1d(x, w))      = (conv1d(x, w) ; conv1dL(w ; ẋ) ⊕ conv1d_wL(x ; ẇ))

    T(reshapeL c) = reshapeL[shape of ẋ] c       T(broadcastL c) = reshapeL(reduce_sumL c)
    T(sliceL c)   = padL c                       T(padL c)       = sliceL c
    T(takeL(i ; c)) = scatter_addL(i ; c)        T(selectL(m ; c)) = selectL(m ; c)
    T(scanL[adjoint=b](a ; c)) = scanL[adjoint=¬b](a ; c)         (the reverse scan)
    T(conv1dL[rev=b](w ; c)) = conv1dL[rev=¬b](w ; c)   T(conv1d_wL(x ; c)) = wgradL(x ; c)
    T(einsumL["X,Y->Z", 0](y ; c)) = einsumL["Z,Y->X", 0](y ; c)        (and side 1 alike)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend import lprims
from backend.contractions import parse_spec
from backend.ltypes import ArrayT
from calculi.linear_ad.primitives import (
    LADD,
    SCALE,
    ParamDict,
    defjvp_scale,
    deflinear,
    jvp_rules,
    transpose_rules,
    typing_rules,
)
from calculi.linear_ad.syntax import Drop, Expr, LetB, Lit, LVar, Prim, Var, Zero, block
from calculi.linear_ad.types import Type

P = lprims.PRIMS


def app(name: str, *args: Expr, largs: tuple[Expr, ...] = (), **params: Any) -> Prim:
    """``name[params](args ; largs)``."""
    return Prim(P[name], tuple(args), largs, tuple(params.items()))


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


def result_type(name: str, types: tuple[Type, ...], ps: ParamDict) -> ArrayT:
    t = typing_rules[P[name]](types, (), ps)
    assert isinstance(t, ArrayT)
    return t


JvpRule = Callable[[tuple[Var, ...], tuple[LVar, ...], tuple[Type, ...], ParamDict], tuple[Expr, Expr]]
TransposeRule = Callable[[tuple[Expr, ...], LVar, tuple[Type, ...], ParamDict], Expr]


def jvp(name: str) -> Callable[[JvpRule], JvpRule]:
    def register(rule: JvpRule) -> JvpRule:
        jvp_rules[P[name]] = rule
        return rule

    return register


def transpose(name: str) -> Callable[[TransposeRule], TransposeRule]:
    def register(rule: TransposeRule) -> TransposeRule:
        transpose_rules[P[name]] = rule
        return rule

    return register


def _ps(ps: ParamDict) -> dict[str, Any]:
    return dict(ps)


# -- unary non-linear primitives: J(p v) = (p v ; p'(v) ⊙ v̇) ----------------------------------------

def _of_input(name: str) -> Callable[[Var], Expr]:
    return lambda v: app(name, v)


def _of_output(name: str, p: str) -> Callable[[Var], Expr]:
    """The slope written with the primitive's result, ``name(p v)``, as JAX writes tanh' = 1 − y²."""
    return lambda v: app(name, app(p, v))


for _name, _grad in {"tanh": "tanh_grad", "logistic": "logistic_grad", "sqrt": "sqrt_grad",
                     "rsqrt": "rsqrt_grad"}.items():
    defjvp_scale(P[_name], _of_output(_grad, _name))
defjvp_scale(P["gelu_tanh"], _of_input("gelu_grad"))
defjvp_scale(P["softplus"], _of_input("logistic"))
defjvp_scale(P["log"], lambda v: app("integer_pow", v, y=-1))


@jvp("integer_pow")
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    (x,), y = xs, ps["y"]
    slope = Prim(P["mul"], (Lit(repr(float(y))), app("integer_pow", x, y=y - 1)))
    return app("integer_pow", x, y=y), scale(slope, ts[0])


# -- binary elementwise ---------------------------------------------------------------------------

deflinear(P["neg"], P["negL"], lambda consts, c, lt, ps: app("negL", largs=(c,)))
transpose_rules[P["negL"]] = lambda consts, c, lt, ps: app("negL", largs=(c,))


@jvp("sub")
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    return app("sub", *xs), ladd(ts[0], app("negL", largs=(ts[1],)))


@jvp("div")
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    x, y = xs
    dy = app("neg", app("div", x, Prim(P["mul"], (y, y))))
    return app("div", x, y), ladd(scale(app("integer_pow", y, y=-1), ts[0]), scale(dy, ts[1]))


@jvp("pow")
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    x, y = xs
    dx = Prim(P["mul"], (y, app("pow", x, Prim(P["add"], (y, Lit("-1.0"))))))
    dy = Prim(P["mul"], (app("log", x), app("pow", x, y)))
    return app("pow", x, y), ladd(scale(dx, ts[0]), scale(dy, ts[1]))


@jvp("maximum")
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    x, y = xs
    left = app("selectL", app("greater", x, y), largs=(ts[0],), keep=True)
    right = app("selectL", app("greater", x, y), largs=(ts[1],), keep=False)
    return app("maximum", x, y), ladd(left, right)


def _constant_result(name: str) -> None:
    """Integer, boolean or stopped results: the tangent is zero and the inputs' tangents drop."""

    def rule(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...],
             ps: ParamDict) -> tuple[Expr, Expr]:
        return app(name, *xs, **_ps(ps)), dropping(ts, Zero(result_type(name, types, ps)))

    jvp_rules[P[name]] = rule


for _name in ("greater", "less", "equal", "one_hot", "stop_gradient", "const"):
    _constant_result(_name)

jvp_rules[P["checkpoint_name"]] = lambda xs, ts, types, ps: (app("checkpoint_name", *xs, **_ps(ps)), ts[0])


# -- structural primitives (linear): deflinear, and transposes that reshape the cotangent ------------

def _linear(name: str, rule: TransposeRule) -> None:
    deflinear(P[name], P[name + "L"], rule)


def _shape(t: Type) -> tuple[int, ...]:
    assert isinstance(t, ArrayT)
    return t.shape


_linear("convert", lambda consts, c, lt, ps: app("convertL", largs=(c,), dtype=lt[0].dtype))  # type: ignore[attr-defined]
_linear("reshape", lambda consts, c, lt, ps: app("reshapeL", largs=(c,), shape=_shape(lt[0])))
_linear("cumsum", lambda consts, c, lt, ps: app("cumsumL", largs=(c,), axis=ps["axis"],
                                                  reverse=not ps["reverse"]))
_linear("slice", lambda consts, c, lt, ps: app("padL", largs=(c,), **_ps(ps), shape=_shape(lt[0])))
transpose_rules[P["padL"]] = lambda consts, c, lt, ps: app(
    "sliceL", largs=(c,), starts=ps["starts"], limits=ps["limits"], strides=ps["strides"])
jvp_rules[P["pad"]] = lambda xs, ts, types, ps: (app("pad", *xs, **_ps(ps)), app("padL", largs=ts, **_ps(ps)))


def _inverse(perm: tuple[int, ...]) -> tuple[int, ...]:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


_linear("transpose", lambda consts, c, lt, ps: app("transposeL", largs=(c,), perm=_inverse(ps["perm"])))


def _unbroadcast(c: Expr, source: tuple[int, ...], target: tuple[int, ...]) -> Expr:
    """The transpose of broadcasting ``source`` to ``target``: sum the broadcast axes, reshape."""
    lead = len(target) - len(source)
    stretched = tuple(lead + i for i, n in enumerate(source) if n == 1 and target[lead + i] != 1)
    axes = tuple(range(lead)) + stretched
    out = app("reduce_sumL", largs=(c,), axes=axes) if axes else c
    kept = tuple(n for i, n in enumerate(target) if i not in axes)
    return app("reshapeL", largs=(out,), shape=source) if kept != source else out


_linear("broadcast", lambda consts, c, lt, ps: _unbroadcast(c, _shape(lt[0]), ps["shape"]))


def _sum_transpose(consts: tuple[Expr, ...], c: LVar, lt: tuple[Type, ...], ps: ParamDict) -> Expr:
    source = _shape(lt[0])
    keep = tuple(1 if i in ps["axes"] else n for i, n in enumerate(source))
    return app("broadcastL", largs=(app("reshapeL", largs=(c,), shape=keep),), shape=source)


_linear("reduce_sum", _sum_transpose)


@jvp("reduce_max")
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    weights = app("argmax_weights", xs[0], axes=ps["axes"])
    return app("reduce_max", *xs, axes=ps["axes"]), app("reduce_sumL", largs=(scale(weights, ts[0]),),
                                                        axes=ps["axes"])


@jvp("concatenate")
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    axis = ps["axis"]
    out = result_type("concatenate", types, ps).shape
    pieces, offset = [], 0
    for t, dt in zip(types, ts, strict=True):
        shape = _shape(t)
        starts = tuple(offset if i == axis else 0 for i in range(len(out)))
        limits = tuple(offset + n if i == axis else m
                       for i, (n, m) in enumerate(zip(shape, out, strict=True)))
        pieces.append(app("padL", largs=(dt,), starts=starts, limits=limits, strides=(1,) * len(out),
                          shape=out))
        offset += shape[axis]
    return app("concatenate", *xs, axis=axis), ladd(*pieces)


# -- indexing, selection -------------------------------------------------------------------------

@jvp("take")
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    x, idx = xs
    return app("take", x, idx), dropping(ts[1:], app("takeL", idx, largs=ts[:1]))


@jvp("scatter_add")
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    g, idx = xs
    return (app("scatter_add", g, idx, rows=ps["rows"]),
            dropping(ts[1:], app("scatter_addL", idx, largs=ts[:1], rows=ps["rows"])))


transpose_rules[P["takeL"]] = lambda consts, c, lt, ps: app("scatter_addL", *consts, largs=(c,),
                                                            rows=_shape(lt[0])[0])
transpose_rules[P["scatter_addL"]] = lambda consts, c, lt, ps: app("takeL", *consts, largs=(c,))


@jvp("select")
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    m, a, b = xs
    tangent = ladd(app("selectL", m, largs=(ts[1],), keep=True),
                   app("selectL", m, largs=(ts[2],), keep=False))
    return app("select", m, a, b), dropping(ts[:1], tangent)


transpose_rules[P["selectL"]] = lambda consts, c, lt, ps: app("selectL", *consts, largs=(c,), keep=ps["keep"])


# -- sequences: the linear scan and the causal convolution ---------------------------------------

@jvp("linear_scan")
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    a, x, h0 = xs
    da, dx, dh0 = ts
    rev = ps["reverse"]
    shape = _shape(types[1])
    t = shape[1] - 1 if rev else 0
    at_start = app("padL", largs=(app("reshapeL", largs=(dh0,), shape=(shape[0], 1, *shape[2:])),),
                   starts=(0, t) + (0,) * (len(shape) - 2), limits=(shape[0], t + 1, *shape[2:]),
                   strides=(1,) * len(shape), shape=shape)
    drive = ladd(scale(app("scan_prev", a, x, h0, reverse=rev), da), dx, scale(a, at_start))
    tangent = app("scanL", a, largs=(drive,), reverse=rev, adjoint=False)
    return app("linear_scan", a, x, h0, reverse=rev), tangent


transpose_rules[P["scanL"]] = lambda consts, c, lt, ps: app(
    "scanL", *consts, largs=(c,), reverse=ps["reverse"], adjoint=not ps["adjoint"])


@jvp("conv1d")
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    x, w = xs
    r = ps["reverse"]
    return app("conv1d", x, w, reverse=r), ladd(app("conv1dL", w, largs=(ts[0],), reverse=r),
                                                app("conv1d_wL", x, largs=(ts[1],), reverse=r))


transpose_rules[P["conv1dL"]] = lambda consts, c, lt, ps: app("conv1dL", *consts, largs=(c,),
                                                              reverse=not ps["reverse"])
transpose_rules[P["conv1d_wL"]] = lambda consts, c, lt, ps: app("wgradL", *consts, largs=(c,),
                                                                width=_shape(lt[0])[0], reverse=ps["reverse"])
transpose_rules[P["wgradL"]] = lambda consts, c, lt, ps: app("conv1d_wL", *consts, largs=(c,),
                                                             reverse=ps["reverse"])


# -- contractions ----------------------------------------------------------------------------------

@jvp("einsum")
def _(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...], ps: ParamDict) -> tuple[Expr, Expr]:
    x, y = xs
    spec = ps["spec"]
    return app("einsum", x, y, spec=spec), ladd(app("einsumL", y, largs=(ts[0],), spec=spec, side=0),
                                                app("einsumL", x, largs=(ts[1],), spec=spec, side=1))


@transpose("einsumL")
def _(consts: tuple[Expr, ...], c: LVar, lt: tuple[Type, ...], ps: ParamDict) -> Expr:
    """For ``Z = X·Y`` linear in X: ``X̄ = einsum("Z,Y->X′")``, broadcast over the indices of X that
    occur in X alone (X′ leaves them out); linear in Y alike."""
    (tx, ty), tz = parse_spec(ps["spec"], 2)
    side = ps["side"]
    mine, other = (tx, ty) if side == 0 else (ty, tx)
    kept = "".join(ch for ch in mine if ch in other or ch in tz)
    spec = f"{tz},{other}->{kept}" if side == 0 else f"{other},{tz}->{kept}"
    out: Expr = app("einsumL", *consts, largs=(c,), spec=spec, side=side)
    if kept != mine:
        shape = _shape(lt[0])
        ones = tuple(n if ch in kept else 1 for ch, n in zip(mine, shape, strict=True))
        out = app("broadcastL", largs=(app("reshapeL", largs=(out,), shape=ones),), shape=shape)
    return out
