"""The sequence primitives of PartIR:Core: windows (``strided_slice``, ``pad``), the linear
recurrence ``scan``, and the maximum (``max``, ``argmax_weights``).

Each keeps the factor table's promise that a factor's loop computes the same as the whole operation.
A dimension that a window cuts, that a scan runs along, or that a maximum reduces therefore has no
factor: a tiling there stops, and the lowering gathers the operand before the operation (there is no
max-combining collective; a ``#sum`` would add the devices' maxima instead of taking the largest).

    strided_slice[s̄, t̄, n̄](x)[ī] = x[s̄ + t̄·ī]                (n̄ the result's shape)
    pad[s̄, t̄, n̄](x)              zeros of shape n̄ with x at s̄ + t̄·ī
    scan[r](a, x, h0)[b, t]       h_t = a_t ⊙ h_{t∓1} + x_t, h_{∓1} = h0 (r = 1: from the end)
    max[d̄](x)                     the largest entry along d̄
    argmax_weights[d̄](x)          1/k at the k largest entries along d̄, 0 elsewhere
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from calculi.core.syntax import Span
from calculi.partir.prims import Array, Factor, Params, Prim, _define, _fail, _ints
from calculi.partir.syntax import Shape


def _window(name: str, params: Params, rank: int, span: Span | None) -> tuple[Shape, Shape, Shape]:
    ints = _ints(params, name, span)
    if len(ints) != 3 * rank:
        raise _fail(f"{name} of a rank-{rank} array takes {3 * rank} numbers: starts, strides and the "
                    "result's shape (the padded shape for pad)", span, name)
    starts, strides, sizes = ints[:rank], ints[rank:2 * rank], ints[2 * rank:]
    if any(s < 0 for s in starts) or any(t < 1 for t in strides) or any(n < 1 for n in sizes):
        raise _fail(f"{name}: starts must be at least 0, strides and sizes at least 1, got "
                    f"{list(starts)}, {list(strides)}, {list(sizes)}", span, name)
    return starts, strides, sizes


def _fits(name: str, starts: Shape, strides: Shape, inner: Shape, outer: Shape, span: Span | None) -> None:
    for d, (s, t, k, n) in enumerate(zip(starts, strides, inner, outer, strict=True)):
        if s + t * (k - 1) >= n:
            raise _fail(f"{name}: dimension {d} reaches index {s + t * (k - 1)}, beyond its {n} entries",
                        span, name)


def _slices(params: Params, inner: Shape) -> tuple[slice, ...]:
    rank = len(inner)
    starts, strides = _ints(params, "", None)[:rank], _ints(params, "", None)[rank:2 * rank]
    return tuple(slice(s, s + t * (k - 1) + 1, t) for s, t, k in zip(starts, strides, inner, strict=True))


def _slice_shape(params: Params, shapes: Sequence[Shape], span: Span | None) -> Shape:
    starts, strides, sizes = _window("strided_slice", params, len(shapes[0]), span)
    _fits("strided_slice", starts, strides, sizes, shapes[0], span)
    return sizes


def _untouched(params: Params, inner: Shape, outer: Shape) -> list[int]:
    """The dimensions a window leaves whole (start 0, stride 1, one size): only these tile."""
    rank = len(inner)
    ints = _ints(params, "", None)
    return [d for d in range(rank) if ints[d] == 0 and ints[rank + d] == 1 and inner[d] == outer[d]]


def _relocal(params: Params, out: Shape) -> Params:
    """A tiled dimension is untouched, so a device's window is the whole of its block."""
    return (*params[:2 * len(out)], *out)


def slice_factors(params: Params, shapes: Sequence[Shape], out: Shape) -> list[Factor]:
    return [Factor((d,), d) for d in _untouched(params, out, shapes[0])]


STRIDED_SLICE = _define(Prim("strided_slice", 1, _slice_shape,
                             lambda p, xs: np.array(xs[0][_slices(p, _slice_shape(p, [xs[0].shape], None))]),
                             lambda p, s, out: 0, _relocal), slice_factors)


def _pad_shape(params: Params, shapes: Sequence[Shape], span: Span | None) -> Shape:
    starts, strides, outer = _window("pad", params, len(shapes[0]), span)
    _fits("pad", starts, strides, shapes[0], outer, span)
    return outer


def _pad(params: Params, xs: Sequence[Array]) -> Array:
    out = np.zeros(_pad_shape(params, [xs[0].shape], None))
    out[_slices(params, xs[0].shape)] = xs[0]
    return out


def pad_factors(params: Params, shapes: Sequence[Shape], out: Shape) -> list[Factor]:
    return [Factor((d,), d) for d in _untouched(params, shapes[0], out)]


PAD = _define(Prim("pad", 1, _pad_shape, _pad, lambda p, s, out: 0, _relocal), pad_factors)

# -- scan ------------------------------------------------------------------------------------------


def _scan_shape(params: Params, shapes: Sequence[Shape], span: Span | None) -> Shape:
    if params not in ((0,), (1,)):
        raise _fail("scan takes its direction in brackets: scan[0](a, x, h0) forward, scan[1] from the end",
                    span, "scan")
    a, x, h0 = shapes
    if a != x or len(x) < 2 or h0 != (x[0], *x[2:]):
        raise _fail(f"scan needs a and x of one shape [B, T, …] and h0 [B, …], got {a}, {x} and {h0}", span,
                    "scan")
    return x


def scan(params: Params, xs: Sequence[Array]) -> Array:
    a, x, h = xs
    out = np.empty(x.shape)
    for t in range(x.shape[1] - 1, -1, -1) if params[0] else range(x.shape[1]):
        out[:, t] = a[:, t] * h + x[:, t]
        h = out[:, t]
    return out


def scan_factors(params: Params, shapes: Sequence[Shape], out: Shape) -> list[Factor]:
    """The batch and the feature dimensions tile; time has no factor (each step needs the last)."""
    return [Factor((0, 0, 0), 0)] + [Factor((d, d, d - 1), d) for d in range(2, len(out))]


SCAN = _define(Prim("scan", 3, _scan_shape, scan, lambda p, s, out: 2 * math.prod(out)), scan_factors)

# -- maximum ---------------------------------------------------------------------------------------


def _reduced(name: str, params: Params, shape: Shape, span: Span | None) -> tuple[int, ...]:
    dims = _ints(params, name, span)
    if len(set(dims)) != len(dims) or not all(0 <= d < len(shape) for d in dims):
        raise _fail(f"{name} over {list(dims)}: dimensions must be distinct and below {len(shape)}", span,
                    name)
    return dims


def _max_shape(params: Params, shapes: Sequence[Shape], span: Span | None) -> Shape:
    dims = _reduced("max", params, shapes[0], span)
    return tuple(n for d, n in enumerate(shapes[0]) if d not in dims)


def max_factors(params: Params, shapes: Sequence[Shape], out: Shape) -> list[Factor]:
    kept = [d for d in range(len(shapes[0])) if d not in params]
    return [Factor((d,), i) for i, d in enumerate(kept)]


MAX = _define(Prim("max", 1, _max_shape, lambda p, xs: np.asarray(np.max(xs[0], axis=_ints(p, "max", None))),
                   lambda p, s, out: math.prod(s[0])), max_factors)


def _weights_shape(params: Params, shapes: Sequence[Shape], span: Span | None) -> Shape:
    _reduced("argmax_weights", params, shapes[0], span)
    return shapes[0]


def argmax_weights(params: Params, xs: Sequence[Array]) -> Array:
    axes = _ints(params, "argmax_weights", None)
    hit = (xs[0] == np.max(xs[0], axis=axes, keepdims=True)).astype(np.float64)
    return np.asarray(hit / hit.sum(axis=axes, keepdims=True))


def weights_factors(params: Params, shapes: Sequence[Shape], out: Shape) -> list[Factor]:
    return [Factor((d,), d) for d in range(len(out)) if d not in params]


ARGMAX_WEIGHTS = _define(Prim("argmax_weights", 1, _weights_shape, argmax_weights,
                              lambda p, s, out: 3 * math.prod(out)), weights_factors)
