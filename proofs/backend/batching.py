"""``vmap``'s batching rules: for every drawn primitive, mapping over a batch equals the Python loop
over its examples, with every argument mapped and with only the first one mapped; and the table
complete (every primitive a user applies or a derivative program contains has a row, but for the
few that are batched by their loop)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

import backend.structural as S
from backend import checks
from backend.batching import BATCHING, vmap
from backend.dispatch import bind
from backend.lprims import DIFFERENTIATED, HELPER, KINDS
from backend.strategies import GENERATORS, Case
from calculi.core.mutants import patch_entry
from proofs.backend import YOLO, mutant
from proofs.backend.arrays import every, show_cases
from proofs.registry import register_mutants, theorem

LOOPED = ("const", "scatter_along", "wgrad")
"""Batched example by example: ``const`` has no operand; the other two only meet batched operands
inside second-order programs under ``vmap``."""
BATCH = 3


def _batch(x: Any, k: int) -> np.ndarray:
    """``BATCH`` examples around ``x``: itself and shifted copies (of its dtype)."""
    x = np.asarray(x)
    if x.dtype.kind not in "fc":
        return np.stack([x] * BATCH)
    return np.stack([x + 0.125 * (b * (k + 1)) * np.sign(x + 0.5) for b in range(BATCH)]).astype(x.dtype)


def _loop_gap(case: Case) -> str | None:
    f, xs = checks.primitive_function(case)
    for mapped in ({*range(len(xs))}, {0}):
        args = [_batch(x, k) if k in mapped else x for k, x in enumerate(xs)]
        got = np.asarray(vmap(f, in_axes=tuple(0 if k in mapped else None for k in range(len(xs))))(*args))
        want = np.stack([np.asarray(f(*(a[b] if k in mapped else a for k, a in enumerate(args))))
                         for b in range(BATCH)])
        if got.shape != want.shape or got.dtype != want.dtype:
            return f"{case.show()}: vmap gives {got.shape} {got.dtype}, the loop {want.shape} {want.dtype}"
        if want.dtype.kind in "fc":
            scale = 1e-12 * (1 + np.nanmax(np.abs(want), initial=0))
            if not np.allclose(got, want, rtol=0, atol=scale, equal_nan=True):
                return f"{case.show()}: vmap and the loop differ by {np.nanmax(np.abs(got - want)):.3g}"
        elif not np.array_equal(got, want):
            return f"{case.show()}: vmap and the loop differ"
    return None


@theorem("backend.vmap.equals_the_loop", paper=YOLO, section="§ batching (arrays)", label="derived",
         statement="vmap(p)(x̄) = stack([p(x̄[b]) for b]) for every drawn primitive, all arguments mapped and "
                   "the first only, to 1e-12 relative (floats) or exactly",
         given={"cases": every(list(GENERATORS))}, show=show_cases, max_examples=5)
def _(cases: tuple[Case, ...]) -> None:
    gaps = [g for g in map(_loop_gap, cases) if g]
    assert not gaps, "; ".join(gaps)


@theorem("backend.vmap.rows", paper=YOLO, section="§ batching (arrays)", label="derived",
         statement="every array primitive but the linear ones has a batching rule, except "
                   f"{', '.join(LOOPED)} (batched by their loop)")
def _() -> None:
    missing = sorted(p.name for p, kind in KINDS.items()
                     if kind in (*DIFFERENTIATED, HELPER, "source") and p not in BATCHING)
    assert tuple(missing) == LOOPED, f"without a batching rule: {missing}"


def _unshifted(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
    return bind(S.reduce_sum_p, values[0], **params)


register_mutants([replace(m, theorems="backend.vmap") for m in (
    mutant("backend.vmap_reduce_axes_unshifted", "the batching rule of reduce_sum keeps the axes (the batch "
           "axis is summed, an example axis kept)",
           lambda: patch_entry(BATCHING, S.reduce_sum_p, _unshifted)),
)])
