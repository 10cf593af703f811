"""Array rules of the compiler to NumPy that turn a whole loop into one NumPy call.

* ``affine_op``: ``+ - *`` on integers affine in the loop indices stay affine (no array built), so
  that a read at ``ordinal i + ordinal k + c`` is a strided view (``arrays.window``).
* ``correlate``: ``sum (for k. x.(i + k) * w.k)`` where the read is a sliding window (a 2-D view
  whose two strides are equal: entry ``(r, k)`` is element ``r + k`` of one vector) is
  ``np.correlate`` of that vector with ``w``.
* ``running_sum``: the values of a running sum ``s := get s + v`` at every step, as ``cumsum``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from calculi.dex.arrays import Affine, Arr

Array = np.ndarray[Any, Any]


def affine_op(op: str, a: Affine, b: Affine) -> Affine | None:
    """``a op b`` as an affine integer, or ``None`` (a product of two loop indices)."""
    if op == "+":
        return a.plus(b)
    if op == "-":
        return a.plus(b, -1)
    if op == "*" and not b.terms:
        return Affine(0).plus(a, b.offset)
    if op == "*" and not a.terms:
        return Affine(0).plus(b, a.offset)
    return None


def correlate(a: Arr, b: Arr, axis: int) -> Arr | None:
    """``sum`` over the loop ``axis`` of ``a * b`` when one factor is a sliding window along an
    outer loop axis and the other a vector along ``axis``; else ``None``."""
    for win, vec in ((a, b), (b, a)):
        wd, vd = win.data, vec.data
        if (vec.axes != (axis,) or vd.ndim != 1 or len(win.axes) != 2 or win.axes[1] != axis
                or wd.ndim != 2 or wd.strides[0] != wd.strides[1] or wd.strides[0] == 0
                or wd.dtype.kind != "f" or vd.dtype.kind != "f" or 0 in wd.shape):
            continue
        rows, taps = wd.shape
        line = np.lib.stride_tricks.as_strided(wd, (rows + taps - 1,), (wd.strides[0],))
        return Arr(np.correlate(line, vd, mode="valid"), win.axes[:1])
    return None


def running_sum(initial: Array, increments: Array) -> Array:
    """``initial + v0``, ``initial + v0 + v1``, ... along the last axis, added in that order (a
    zero start is left out: adding zero first changes no later sum)."""
    lanes = np.broadcast_shapes(initial.shape, increments.shape[:-1])
    if not initial.any():
        return np.broadcast_to(np.cumsum(increments, axis=-1), (*lanes, increments.shape[-1]))
    column = np.broadcast_to(initial[..., None], (*lanes, 1))
    steps = np.broadcast_to(increments, (*lanes, increments.shape[-1]))
    return np.cumsum(np.concatenate([column, steps], axis=-1), axis=-1)[..., 1:]
