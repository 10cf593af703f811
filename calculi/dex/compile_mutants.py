"""Seeded bugs in the compiler's array rules, each killed by the theorem ``dex.compiler``.

* ``window_off_by_one``: a read ``x.(i + k + c)`` as a strided view starts one entry off.
* ``correlate_as_convolve``: the sliding-window contraction runs the vector backwards.
* ``running_sum_drops_start``: the running sum forgets the state's start.
* ``count_ignores_value``: a histogram of one repeated value counts instead of adding the value.
* ``guards_ignored``: an index out of range in a lane a branch drops is an error.
* ``max_for_min``: ``if l < r then l else r`` (a minimum) as ``np.maximum``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from calculi.core.mutants import Mutant, patch
from calculi.dex import arrays, compile_rules
from calculi.dex.arrays import Affine, Arr
from calculi.dex.compile_loops import LoopCompiler
from calculi.dex.syntax import Expr

_window = arrays.window
_correlate = compile_rules.correlate
_scatter = arrays.scatter
_running_sum = compile_rules.running_sum
_extremum = compile_rules.extremum


def _shifted_window(table: Arr, index: Affine) -> Arr | None:
    """The view one entry on (or back, at the end), never outside the table."""
    bounds, p = index.bounds(), len(table.axes)
    if bounds is None or table.data.ndim <= p:
        return _window(table, index)
    shift = 1 if bounds[1] + 1 < table.data.shape[p] else -1 if bounds[0] > 0 else 0
    return _window(table, Affine(index.offset + shift, index.terms))


def _convolve(a: Arr, b: Arr, axis: int) -> Arr | None:
    flipped = [Arr(v.data[::-1], v.axes) if v.axes == (axis,) else v for v in (a, b)]
    return _correlate(flipped[0], flipped[1], axis)


def _no_start(initial: Any, increments: Any) -> Any:
    return _running_sum(np.zeros_like(initial), increments)


def _counts(target: Any, where: tuple[Any, ...], values: Any) -> None:
    if not any(np.asarray(values).strides):
        values = np.ones_like(values)
    _scatter(target, where, values)


def _unguarded(self: LoopCompiler, lanes: Arr, e: Expr, env: dict[str, object]) -> object:
    return self.eval(e, env)


def _max_for_min(kind: str, *rest: Any) -> Arr | None:
    return _extremum("max", *rest)


MUTANTS = [
    Mutant("dex.window_off_by_one", "dex", "a read x.(i + k + c) as a view starts one entry off",
           lambda: patch(arrays, "window", _shifted_window), "dex.compiler"),
    Mutant("dex.correlate_as_convolve", "dex", "the sliding-window sum runs the vector backwards",
           lambda: patch(compile_rules, "correlate", _convolve), "dex.compiler"),
    Mutant("dex.running_sum_drops_start", "dex", "the running sum forgets the state's start",
           lambda: patch(compile_rules, "running_sum", _no_start), "dex.compiler"),
    Mutant("dex.count_ignores_value", "dex", "a histogram of one value counts, not adds it",
           lambda: patch(arrays, "scatter", _counts), "dex.compiler"),
    Mutant("dex.guards_ignored", "dex", "an index out of range in a dropped lane is an error",
           lambda: patch(LoopCompiler, "guarded", _unguarded), "dex.compiler"),
    Mutant("dex.max_for_min", "dex", "an if that picks the lesser value as np.maximum",
           lambda: patch(compile_rules, "extremum", _max_for_min), "dex.compiler"),
]
