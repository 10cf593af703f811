"""The Griffin step's sequence primitives written in PartIR:Core (used by ``partition_convert``).

    slice[a:b:s](x)           strided_slice            pad[a:b:s, n̄](x)   pad
    reduce_max, argmax_weights    max, argmax_weights      sqrt_bound_derivative    sqrt
    sqrt_bound_grad[m](y)     1 / maximum(2·y, 1/m)
    one_hot[n](i)             take(I_n, i): the rows of an identity (an index that is no row is
                              refused with its position, where the backend gives a zero row)
    scatter_addL[a, n](i ; g) einsum of g with take(I_n, i), contracting i's dimensions
    linear_scan, scanL        scan (the adjoint with a shifted by one step, as a pad of a slice)
    scan_prev(a, x, h0)       h0 and the scan's states shifted by one step, two pads added
    conv1d(x, w)              Σ_lag pad(slice(x)) ⊙ broadcast(w[K−1−lag]): x shifted by each lag
    wgradL[K](x ; g)          row K−1−lag of the result is Σ_{b,t} slice(x) ⊙ slice(g), each row padded
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from calculi.partir.syntax import Shape

if TYPE_CHECKING:
    from backend.partition_convert import Converter

Conversion = Callable[["Converter", dict[str, Any], list[str]], str]
TIME = 1
"""The time dimension of ``[B, T, …]`` sequences."""


def strided_slice(c: Converter, x: str, starts: Shape, strides: Shape, sizes: Shape) -> str:
    return c.emit("strided_slice", (*starts, *strides, *sizes), (x,))


def pad(c: Converter, x: str, starts: Shape, strides: Shape, shape: Shape) -> str:
    return c.emit("pad", (*starts, *strides, *shape), (x,))


def _window(params: dict[str, Any]) -> tuple[Shape, Shape, Shape]:
    starts, limits, strides = (tuple(int(n) for n in params[k]) for k in ("starts", "limits", "strides"))
    sizes = tuple(len(range(a, b, s)) for a, b, s in zip(starts, limits, strides, strict=True))
    return starts, strides, sizes


def _slice(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    starts, strides, sizes = _window(params)
    return strided_slice(c, args[-1], starts, strides, sizes)


def _pad(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    starts, strides, _ = _window(params)
    return pad(c, args[-1], starts, strides, tuple(int(n) for n in params["shape"]))


def shift(c: Converter, x: str, lag: int) -> str:
    """``x`` moved ``lag`` steps along time (later if positive), zeros where nothing arrives."""
    shape = c.shapes[x]
    t, rank = shape[TIME], len(shape)
    ones, at = (1,) * rank, [0] * rank
    cut = (*shape[:TIME], t - abs(lag), *shape[TIME + 1:])
    at[TIME] = max(-lag, 0)
    piece = strided_slice(c, x, tuple(at), ones, cut)
    at[TIME] = max(lag, 0)
    return pad(c, piece, tuple(at), ones, shape)


def _axes(params: dict[str, Any]) -> tuple[int, ...]:
    return tuple(int(d) for d in params["axes"])


def _sqrt_bound_grad(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    (y,), k = args, c.shapes[args[0]]
    floor = c.scalar(1.0 / float(params["max_gradient"]), k)
    bound = c.emit("maximum", (), (c.emit("mul", (), (c.scalar(2.0, k), y)), floor))
    return c.emit("div", (), (c.scalar(1.0, k), bound))


def identity_rows(c: Converter, index: str, n: int) -> str:
    """``one_hot``: row ``i`` of the identity for each index ``i``."""
    return c.emit("take", (), (c.add_input(c.fresh("eye"), np.eye(n)), index))


def _scatter_add(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    index, g = args
    axis, k = int(params["axis"]), len(c.shapes[index])
    hot = identity_rows(c, index, int(params["size"]))
    letters = "abcdefghijklmnopqrstuvwxy"[:len(c.shapes[g])]
    gathered = letters[axis:axis + k]
    out = letters[:axis] + "z" + letters[axis + k:]
    return c.emit("einsum", (f"{letters},{gathered}z->{out}",), (g, hot))


def _scan(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    return c.emit("scan", (int(bool(params["reverse"])),), tuple(args))


def _scan_linear(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    """From a zero state; the adjoint runs the other way with ``a`` one step ahead of it."""
    a, x = args
    shape, reverse = c.shapes[x], bool(params["reverse"])
    zero = c.scalar(0.0, (shape[0], *shape[2:]))
    if params["adjoint"]:
        a, reverse = shift(c, a, 1 if reverse else -1), not reverse
    return c.emit("scan", (int(reverse),), (a, x, zero))


def _scan_prev(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    _, x, h0 = args
    shape, reverse = c.shapes[x], bool(params["reverse"])
    states = shift(c, _scan(c, params, args), -1 if reverse else 1)
    first = c.emit("reshape", (shape[0], 1, *shape[2:]), (h0,))
    at = [0] * len(shape)
    at[TIME] = shape[TIME] - 1 if reverse else 0
    return c.emit("add", (), (states, pad(c, first, tuple(at), (1,) * len(shape), shape)))


def _tap(c: Converter, w: str, row: int, shape: Shape) -> str:
    """Row ``row`` of the kernel ``w`` [K, D], broadcast over ``shape`` [B, T, D]."""
    d = c.shapes[w][1]
    picked = c.emit("reshape", (d,), (strided_slice(c, w, (row, 0), (1, 1), (1, d)),))
    return c.emit("broadcast", (*shape, -1, 2), (picked,))


def _conv1d(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    x, w = args
    shape, k = c.shapes[x], c.shapes[w][0]
    sign = -1 if params["reverse"] else 1
    y = c.emit("mul", (), (x, _tap(c, w, k - 1, shape)))
    for lag in range(1, min(k, shape[TIME])):
        tap = c.emit("mul", (), (shift(c, x, sign * lag), _tap(c, w, k - 1 - lag, shape)))
        y = c.emit("add", (), (y, tap))
    return y


def _wgrad(c: Converter, params: dict[str, Any], args: list[str]) -> str:
    x, g = args
    (b, t, d), width = c.shapes[x], int(params["width"])
    out = c.scalar(0.0, (width, d))
    for lag in range(min(width, t)):
        late, early = (lag, 0) if params["reverse"] else (0, lag)
        lagged = strided_slice(c, x, (0, late, 0), (1, 1, 1), (b, t - lag, d))
        now = strided_slice(c, g, (0, early, 0), (1, 1, 1), (b, t - lag, d))
        row = c.emit("reshape", (1, d), (c.emit("einsum", ("btd,btd->d",), (lagged, now)),))
        out = c.emit("add", (), (out, pad(c, row, (width - 1 - lag, 0), (1, 1), (width, d))))
    return out


SEQUENCE_CONVERSIONS: dict[str, Conversion] = {
    "slice": _slice, "pad": _pad, "sqrt_bound_derivative": lambda c, p, args: c.emit("sqrt", (), (args[0],)),
    "sqrt_bound_grad": _sqrt_bound_grad,
    "reduce_max": lambda c, p, args: c.emit("max", _axes(p), (args[0],)),
    "argmax_weights": lambda c, p, args: c.emit("argmax_weights", _axes(p), (args[0],)),
    "one_hot": lambda c, p, args: identity_rows(c, args[0], int(p["n"])),
    "scatter_addL": _scatter_add, "scatter_add": lambda c, p, args: _scatter_add(c, p, args[::-1]),
    "linear_scan": _scan, "scan_prev": _scan_prev, "scanL": _scan_linear,
    "conv1d": _conv1d, "conv1dL": lambda c, p, args: _conv1d(c, p, args[::-1]), "wgradL": _wgrad,
}
