"""Array rules of the compiler to NumPy that turn a whole loop into one NumPy call.

* ``affine_op``: ``+ - *`` on integers affine in the loop indices stay affine (no array built), so
  that a read at ``ordinal i + ordinal k + c`` is a strided view (``arrays.window``).
* ``correlate``: ``sum (for k. x.(i + k) * w.k)`` where the read is a sliding window (a 2-D view
  whose two strides are equal: entry ``(r, k)`` is element ``r + k`` of one vector) is
  ``np.correlate`` of that vector with ``w``.
* ``running_sum``: the values of a running sum ``s := get s + v`` at every step, as ``cumsum``.
* ``extremum``: ``if l < r then r else l`` (or ``<=``, or ``then l else r``) as ``np.maximum`` or
  ``np.minimum``, where that is the same value bit for bit: the rules take the ``else`` branch on
  NaN and on ties, ``-0.0 < 0.0`` being false (``<=`` takes ``then`` on ties), and ``np.maximum``
  returns its second argument on a tie of zeros (``TIES_TO_SECOND`` checks this NumPy does).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from calculi.dex.arrays import Affine, Arr, align

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


def _ties_to_second() -> bool:
    """Whether ``np.maximum``/``np.minimum`` return the second argument on ``0.0`` against
    ``-0.0``, over the layouts the compiler builds (0-d, short and long, strided, broadcast)."""
    for f in (np.maximum, np.minimum):
        for n in (*range(20), 64, 1000, 4099):
            for zero in (-0.0, 0.0):
                a, b = np.full(n, zero), np.full(n, -zero)
                for x, y in ((a, b), (a, -zero), (-zero, a), (a[::2], b[::2]), (a[:, None], b)):
                    got = f(x, y)
                    if not np.array_equal(np.signbit(got),
                                          np.signbit(np.broadcast_to(y, np.shape(got)))):
                        return False
    return bool(np.signbit(np.maximum(np.array(0.0), np.array(-0.0))))


TIES_TO_SECOND = _ties_to_second()


def extremum(kind: str, op: str, then: Arr, orelse: Arr, then_nan: bool, else_nan: bool,
             else_zero: bool) -> Arr | None:
    """``if l op r then T else E`` where ``{T, E}`` are ``{l, r}``: ``kind`` ``max`` when ``T`` is
    ``r``, ``min`` when it is ``l``; ``*_nan`` say whether a branch may be NaN (a literal or an
    integer may not), ``else_zero`` whether ``E`` is the literal ``0.0``. The rules give ``T``
    where it wins (strictly for ``<``; or ties, for ``<=``), else ``E``, and ``E`` on NaN. ``None``
    where no single NumPy call is that value bit for bit."""
    if not TIES_TO_SECOND:
        return None
    (t, e), axes = align([then, orelse])
    tied, beaten = (e, t) if op == "<" else (t, e)
    if not then_nan:  # a NaN is E's, which np.maximum keeps
        return Arr(_EXTREMA[kind][0](beaten, tied), axes)
    if else_nan:  # both may be NaN: np.maximum keeps T's, the rules drop it
        return None
    # np.fmax drops T's NaN; its ties of zeros vary, so a tie may only go to the literal 0.0
    if else_zero and op != "<":
        return None
    result = _EXTREMA[kind][1](t, e)
    return Arr(result + 0.0 if else_zero else result, axes)


_EXTREMA: dict[str, tuple[Any, Any]] = {"max": (np.maximum, np.fmax), "min": (np.minimum, np.fmin)}
