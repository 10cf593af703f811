"""``vmap``'s batching rules: for every drawn primitive, mapping over a batch equals the Python loop
over its examples, with every argument mapped and with only the first one mapped; and the table
complete (every primitive a user applies or a derivative program contains has a row); and the rules
for operands the drawn cases leave unmapped (indices, kernels) against the loop on their own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import strategies as st

import backend
import backend.contractions as C
import backend.indexing as I
import backend.numpy as bnp
import backend.structural as S
from backend import checks
from backend.batching import BATCHING, BatchTrace, BatchTracer, _loop, vmap
from backend.dispatch import bind
from backend.lprims import DIFFERENTIATED, HELPER, KINDS
from backend.strategies import GENERATORS, Case
from calculi.core.mutants import patch, patch_entry
from calculi.linear_ad.syntax import Primitive
from proofs.backend import YOLO, mutant
from proofs.backend.arrays import every, show_cases
from proofs.backend.second_order import SECOND, loss_of
from proofs.registry import register_mutants, theorem

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
         statement="every array primitive but the linear ones has a batching rule (a missing row fails)")
def _() -> None:
    missing = sorted(p.name for p, kind in KINDS.items()
                     if kind in (*DIFFERENTIATED, HELPER, "source") and p not in BATCHING)
    assert not missing, f"without a batching rule (batched by the loop): {missing}"


def _apply(prim: Primitive, **params: Any) -> Callable[..., Any]:
    return lambda *xs: bind(prim, *xs, **params)


@st.composite
def _indexed(draw: st.DrawFn) -> tuple[str, Callable[..., Any], list[np.ndarray]]:
    """One of the rules whose operands the drawn cases leave unmapped: ``take`` and ``scatter_add``
    with mapped indices, ``conv1d`` with a mapped kernel, and the second-order helpers ``wgrad`` and
    ``scatter_along``, on drawn shapes (indices negative too)."""
    from backend.second_order import scatter_along_p, wgrad_p

    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dims = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    axis = draw(st.integers(0, len(dims) - 1))
    inner = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    v = dims[axis]
    which = draw(st.sampled_from(["take", "scatter_add", "conv1d", "wgrad", "scatter_along"]))
    if which == "take":
        return which, _apply(I.take_p, axis=axis), [rng.standard_normal(dims),
                                                   rng.integers(-v, v, inner)]
    if which == "scatter_add":
        g = rng.standard_normal((*dims[:axis], *inner, *dims[axis + 1:]))
        return which, _apply(I.scatter_add_p, axis=axis, size=v), [g, rng.integers(-v, v, inner)]
    b, t, d, k = (draw(st.integers(1, 3)) for _ in range(4))
    reverse = draw(st.booleans())
    if which == "conv1d":
        return which, _apply(C.conv1d_p, reverse=reverse), [rng.standard_normal((b, t, d)),
                                                            rng.standard_normal((k, d))]
    if which == "wgrad":
        return which, _apply(wgrad_p, width=k, reverse=reverse), [rng.standard_normal((b, t, d)),
                                                                  rng.standard_normal((b, t, d))]
    size = dims[axis] + draw(st.integers(0, 2))
    shape = (*dims[:axis], draw(st.integers(1, 3)), *dims[axis + 1:])
    return which, _apply(scatter_along_p, axis=axis, size=size), [rng.standard_normal(shape),
                                                                  rng.integers(-size, size, shape)]


def _mapped_gap(which: str, f: Callable[..., Any], xs: list[np.ndarray]) -> str | None:
    for mapped in ({0, 1}, {0}, {1}):
        args = [_batch(x, k) if k in mapped and x.dtype.kind == "f" else np.stack([np.roll(x, b) for b in
                range(BATCH)]) if k in mapped else x for k, x in enumerate(xs)]
        got = np.asarray(vmap(f, in_axes=tuple(0 if k in mapped else None for k in range(2)))(*args))
        want = np.stack([np.asarray(f(*(a[b] if k in mapped else a for k, a in enumerate(args))))
                         for b in range(BATCH)])
        if got.shape != want.shape or not np.allclose(got, want, rtol=1e-12, atol=1e-12):
            return f"{which} with arguments {sorted(mapped)} mapped: vmap and the loop differ"
    return None


def _show_indexed(case: object) -> str:
    if isinstance(case, tuple) and len(case) == 3:
        return f"{case[0]} at {[np.shape(x) for x in case[2]]}"
    return repr(case)


@theorem("backend.vmap.indices_and_kernels", paper=YOLO, section="§ batching (arrays)", label="derived",
         statement="vmap equals the loop for take and scatter_add with mapped indices (array shared or "
                   "mapped), conv1d with a mapped kernel, and the helpers wgrad and scatter_along",
         given={"case": _indexed()}, show=_show_indexed,
         max_examples=30)
def _(case: tuple[str, Callable[..., Any], list[np.ndarray]]) -> None:
    gap = _mapped_gap(*case)
    assert gap is None, gap


def _per_example_gap(case: Case) -> str | None:
    """vmap of grad of the case's loss, written as users write it (a literal power, Python floats, a
    scale ``s`` no example maps), against the loop over the examples; mapped: every argument, or the
    first only (the others then unbatched floats)."""
    loss, xs = loss_of(case)

    def user(*args: Any) -> Any:
        *ys, s = args
        return loss(*ys) * (s * s + 1.0) + bnp.sum(ys[0] ** 3) * 0.5 - s ** 2

    nums = tuple(range(len(xs)))
    grads = backend.grad(user, argnums=nums)
    s = np.float64(0.75)
    for mapped in ({*nums}, {0}):
        args = [_batch(x, k) if k in mapped else x for k, x in enumerate(xs)]
        got = vmap(grads, in_axes=(*(0 if k in mapped else None for k in nums), None))(*args, s)
        rows = [grads(*(a[b] if k in mapped else a for k, a in enumerate(args)), s) for b in range(BATCH)]
        for k in nums:
            want = np.stack([np.asarray(r[k]) for r in rows])
            have = np.asarray(got[k])
            bound = 1e-9 * (1 + np.max(np.abs(want), initial=0))
            if have.shape != want.shape or not np.max(np.abs(have - want), initial=0) <= bound:
                return f"{case.show()}: vmap(grad), argument {k}, {sorted(mapped)} mapped: not the loop"
    return None


@theorem("backend.vmap.per_example_gradients", paper=YOLO, section="§ batching (arrays)", label="derived",
         statement="vmap(grad L)(x̄, s) = stack([grad L(x̄[b], s) for b]) to 1e-9 relative for "
                   "L = Σ w ⊙ p(x̄)² · (s² + 1) + Σ x̄₀³ / 2 − s² (literals, an integer power and an unmapped "
                   "float made inside the mapped function), every drawn primitive p with a derivative, all "
                   "arguments mapped and the first only",
         given={"cases": every(SECOND)}, show=show_cases, max_examples=1)
def _(cases: tuple[Case, ...]) -> None:
    gaps = [g for g in map(_per_example_gap, cases) if g]
    assert not gaps, "; ".join(gaps)


def _process_always_batched(self: BatchTrace, prim: Primitive, operands: tuple[object, ...],
                            params: dict[str, Any]) -> Any:
    values, batched = zip(*(self.lift(x) for x in operands), strict=True) if operands else ((), ())
    rule = BATCHING.get(prim) or _loop(prim)
    return BatchTracer(self, rule(list(values), list(batched), params, self.size))


def _unshifted(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
    return bind(S.reduce_sum_p, values[0], **params)


def _shared_indices(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
    return bind(I.take_p, *values, axis=params["axis"] + 1)


register_mutants([replace(m, theorems="backend.vmap") for m in (
    mutant("backend.vmap_reduce_axes_unshifted", "the batching rule of reduce_sum keeps the axes (the batch "
           "axis is summed, an example axis kept)",
           lambda: patch_entry(BATCHING, S.reduce_sum_p, _unshifted)),
    mutant("backend.vmap_take_indices_shared", "take's batching rule reads mapped indices as shared ones "
           "(every example gathers with every example's indices)",
           lambda: patch_entry(BATCHING, I.take_p, _shared_indices)),
    mutant("backend.vmap_constants_batched", "BatchTrace.process hands an application with no mapped "
           "operand (a constant made inside the mapped function) to the batching rules",
           lambda: patch(BatchTrace, "process", _process_always_batched)),
)])
