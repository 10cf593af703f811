"""Mutants of the backend's rules and executor: one wrong rule (or one missing row, or one wrong
plan of the executor) each, which the theorems of ``arrays`` must kill."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

import backend.contractions as C
import backend.indexing as I
import backend.primitives as E
import backend.structural as S
from backend import executor, lprims, schedule
from backend.rules import app, ladd, scale
from calculi.core.mutants import patch, patch_entry
from calculi.linear_ad.primitives import jvp_rules, transpose_rules
from proofs.backend import mutant
from proofs.registry import register_mutants


def _tanh_sign() -> Any:
    return patch_entry(jvp_rules, E.tanh_p, lambda xs, ts, types, ps: (
        app(E.tanh_p, *xs), scale(app(E.neg_p, app(E.tanh_grad_p, app(E.tanh_p, *xs))), ts[0])))


def _broadcast_no_sum() -> Any:
    def wrong(consts: Any, c: Any, lt: Any, ps: Any) -> Any:  # slices instead of summing
        source, target = lt[0].shape, ps["shape"]
        lead = len(target) - len(source)
        starts = (0,) * len(target)
        limits = tuple(1 if i < lead or (source[i - lead] == 1) else n for i, n in enumerate(target))
        sliced = app(S.sliceL_p, largs=(c,), starts=starts, limits=limits, strides=(1,) * len(target))
        return app(S.reshapeL_p, largs=(sliced,), shape=source)

    return patch_entry(transpose_rules, S.broadcastL_p, wrong)


def _scan_transpose_not_reversed() -> Any:
    return patch_entry(transpose_rules, C.scanL_p, lambda consts, c, lt, ps: app(
        C.scanL_p, *consts, largs=(c,), reverse=ps["reverse"], adjoint=ps["adjoint"]))


def _einsum_transpose_swapped() -> Any:
    def wrong(consts: Any, c: Any, lt: Any, ps: Any) -> Any:  # forgets to move the cotangent's indices
        (tx, ty), tz = C.parse_spec(ps["spec"], 2)
        mine, other = (tx, ty) if ps["side"] == 0 else (ty, tx)
        kept = "".join(ch for ch in mine if ch in other or ch in tz)
        if ps["side"] == 1 and kept == mine:  # the side-0 contraction order on a side-1 operand
            return app(C.einsumL_p, *consts, largs=(c,), spec=f"{other},{tz}->{mine}", side=0)
        return transpose_rules_orig(consts, c, lt, ps)

    transpose_rules_orig = transpose_rules[C.einsumL_p]
    return patch_entry(transpose_rules, C.einsumL_p, wrong)


def _conv_transpose_causal() -> Any:
    return patch_entry(transpose_rules, C.conv1dL_p, lambda consts, c, lt, ps: app(
        C.conv1dL_p, *consts, largs=(c,), reverse=ps["reverse"]))


def _views_owned() -> Any:
    views = {S.reshape_p, S.transpose_p, S.broadcast_p, E.stop_gradient_p, S.reshapeL_p, S.broadcastL_p}
    return patch(executor, "FRESH", lprims.FRESH | views)


def _scatter_overwrites() -> Any:
    """T(take_along) writes each cotangent in place (``put_along_axis``): of repeated indices only
    the last one counts, where they must accumulate."""
    def wrong(idx: Any, g: Any, *, axis: int, size: int) -> Any:
        out = np.zeros((*g.shape[:axis], size, *g.shape[axis + 1:]), g.dtype)
        np.put_along_axis(out, idx, g, axis=axis)
        return out

    return patch_entry(lprims.IMPLS, I.scatter_alongL_p, wrong)


def _missing_row() -> Any:
    """The JVP row of log1p deleted (a rule that was never written)."""
    return patch_entry_removed(jvp_rules, E.log1p_p)


@contextmanager
def patch_entry_removed(table: dict[Any, Any], key: Any) -> Iterator[None]:
    old = table.pop(key)
    try:
        yield
    finally:
        table[key] = old


def _tied_maxima_weigh_one() -> Any:
    """The derivative of max gives each of k tied maxima weight 1 (``hit``, not ``hit / k``)."""
    def wrong(x: Any, *, axes: Any) -> Any:
        return (x == np.max(x, axis=axes, keepdims=True)).astype(x.dtype)

    return patch_entry(lprims.IMPLS, S.argmax_weights_p, wrong)


def _maximum_tie_to_one_side() -> Any:
    """J(maximum) hands a tie's whole tangent to the second operand (``x > y`` decides alone)."""
    def wrong(xs: Any, ts: Any, types: Any, ps: Any) -> Any:
        x, y = xs
        mask = app(E.greater_p, x, y)
        return app(E.maximum_p, x, y), ladd(app(E.selectL_p, mask, largs=(ts[0],), keep=True),
                                            app(E.selectL_p, mask, largs=(ts[1],), keep=False))

    return patch_entry(jvp_rules, E.maximum_p, wrong)


def _merge_ignores_params() -> Any:
    def key(ins: schedule.Instr) -> Any:
        return (ins.op.prim, ins.ins) if ins.kind == "prim" else None

    return patch(schedule, "_key", key)


register_mutants([
    mutant("backend.tanh_sign", "J(tanh) with the derivative's sign flipped", _tanh_sign),
    mutant("backend.broadcast_no_sum", "T(broadcast) takes one copy instead of summing",
           _broadcast_no_sum),
    mutant("backend.scan_not_reversed", "T(scan) runs forward instead of as the reverse scan",
           _scan_transpose_not_reversed),
    mutant("backend.einsum_side", "T(einsum) contracts the cotangent on the wrong side",
           _einsum_transpose_swapped),
    mutant("backend.conv_causal", "T(causal conv1d) stays causal instead of looking ahead",
           _conv_transpose_causal),
    mutant("backend.views_owned", "the executor writes into buffers that views still share",
           _views_owned),
    mutant("backend.scatter_overwrites", "T(take_along) overwrites repeated indices instead of adding",
           _scatter_overwrites),
    mutant("backend.missing_jvp_row", "the JVP rule of log1p is missing from the table", _missing_row),
    mutant("backend.merge_ignores_params", "merging takes p[a](x) and p[b](x) for one value",
           _merge_ignores_params),
    mutant("backend.tied_maxima_weigh_one", "J(reduce_max) gives each of k tied maxima weight 1, not 1/k",
           _tied_maxima_weigh_one),
    mutant("backend.maximum_tie_one_side", "J(maximum) gives a tie's whole tangent to one operand",
           _maximum_tie_to_one_side),
])
