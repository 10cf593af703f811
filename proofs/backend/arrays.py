"""The NumPy backend's theorems: Linear A's AD on arrays, checked numerically.

The rule tables complete (every primitive a user applies drawn by the strategies, with a JVP rule;
every linear one with a transpose rule); every array primitive's JVP rule against the complex-step
derivative (analytic primitives) or central differences, at ties too (where JAX's conventions hold:
k tied extrema share the tangent, checked exactly, with worked examples in ``backend.ties``); every
transpose rule by the dot-product test and by transposing twice; whole models' gradients against
finite differences in float64; checkpoint policies giving identical gradients while recomputation
lowers the peak memory. The mutants that these theorems kill are in ``proofs.backend.mutants``.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
from hypothesis import strategies as st

import backend
import backend.nn
import backend.numpy as bnp
import backend.structural as S
from backend import checks, policies
from backend.models import griffin, mlp
from backend.pytree import flatten
from backend.strategies import (
    ANALYTIC,
    CONSTANT,
    GENERATORS,
    Case,
    applications,
    seeds,
    show_case,
)
from backend.strategies_programs import Dag, dags, run_dag
from calculi.linear_ad.syntax import Primitive
from proofs.backend import GRIFFIN, YOLO
from proofs.registry import theorem

PER_PRIMITIVE = 10
"""Examples per primitive and property."""


def every(prims: Sequence[Primitive]) -> st.SearchStrategy[tuple[Case, ...]]:
    """One well-formed application of each primitive in ``prims``."""
    return st.tuples(*(applications((p,)) for p in prims))


def show_cases(cases: object) -> str:
    return "; ".join(show_case(c) for c in cases) if isinstance(cases, tuple) else repr(cases)


def _close(a: Any, b: Any, rtol: float, atol: float, what: str) -> None:
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape, f"{what}: shapes {a.shape} and {b.shape}"
    gap = np.abs(a - b)
    bound = atol + rtol * np.abs(b)
    assert np.all(gap <= bound), f"{what}: max gap {gap.max():.3g} (tolerance {bound.max():.3g})"


def _complex_step(case: Case) -> None:
    f, xs = checks.primitive_function(case)
    ts = checks.tangents_for(xs)
    out, tangent = backend.jvp(f, xs, ts)
    _close(out, f(*xs), 0, 0, "primal")
    _close(tangent, checks.complex_step(f, xs, ts), 1e-9, 1e-12, "tangent")


SHARED = {S.reduce_max_p: False, S.reduce_min_p: True}
"""The reductions whose k tied extrema share the tangent (1/k each, JAX's convention), and whether
the extremum is the lowest."""


def _central_difference(case: Case) -> None:
    f, xs = checks.primitive_function(case)
    ts = checks.tangents_for(xs)
    out, tangent = backend.jvp(f, xs, ts)
    _close(out, f(*xs), 0, 0, "primal")
    if case.constant:
        assert not np.any(tangent), "a constant result has a non-zero tangent"
        return
    if case.prim in SHARED:
        axes = case.params["axes"]
        shared = checks.shared_extremum(xs[0], ts[0], axes, lowest=SHARED[case.prim])
        _close(tangent, shared, 1e-12, 1e-12, "tangent (the mean over the tied extrema)")
        if checks.ties(xs[0], axes) > 1:
            return
    _close(tangent, checks.central_difference(f, xs, ts), 1e-6, 1e-8, "tangent")


def _dot_product(case: Case) -> None:
    f, xs = checks.primitive_function(case)
    left, right = checks.dot_product_gap(f, xs)
    bound = 1e-10 * (abs(left) + abs(right)) + 1e-12
    assert abs(left - right) <= bound, f"⟨c, Lt⟩ = {left}, ⟨Lᵀc, t⟩ = {right}"


@theorem("backend.executor.reuse_on_models", paper=YOLO, section="§ executor", label="derived",
         statement="the MLP's and the tiny Griffin model's loss and gradient are bit-identical with buffer "
                   "reuse (out=) at every size and without it, and their inputs and batches stay untouched "
                   "(checked first: a wrong buffer plan fails here at once)")
def _() -> None:
    rng = np.random.default_rng(0)
    batch = rng.standard_normal((64, 5)).astype(np.float32), rng.integers(0, 3, 64)
    assert checks.reuse_gap(mlp.loss, (mlp.init([5, 16, 3]), *batch)) == []
    tokens = rng.integers(0, 11, (2, 6)), rng.integers(0, 11, (2, 6))
    assert checks.reuse_gap(_griffin_loss, (griffin.init(TINY, 0, np.float32), *tokens)) == []


@theorem("backend.tables.complete", paper=YOLO, section="§ rules as tables", label="derived",
         statement="every array primitive a user applies is drawn by the strategies and has a JVP rule, and "
                   "each linear primitive a transpose rule (a missing row fails here, before any property)")
def _() -> None:
    gaps = checks.coverage_gaps()
    assert not gaps, "; ".join(gaps)


TIES: list[tuple[str, Any, Any, Any]] = [
    ("max of [1, 3, 3, 3]", lambda L, x: L.np.max(x), [1.0, 3.0, 3.0, 3.0], [0, 1 / 3, 1 / 3, 1 / 3]),
    ("min over axis 0 of [[1, 2], [1, 0]]", lambda L, x: L.np.sum(L.np.min(x, axis=0) * np.array([1.0, 2.0])),
     [[1.0, 2.0], [1.0, 0.0]], [[0.5, 0], [0.5, 2]]),
    ("max with initial=3 of [3, 1]", lambda L, x: L.np.max(x, initial=3.0), [3.0, 1.0], [0.5, 0]),
    ("Σ maximum(x, 1) at x = [1, 2, 0]", lambda L, x: L.np.sum(L.np.maximum(x, 1.0)), [1.0, 2.0, 0.0],
     [0.5, 1, 0]),
    ("Σ minimum(x, x)", lambda L, x: L.np.sum(L.np.minimum(x, x)), [2.0], [1.0]),
    ("Σ clip(x, 0, 1) at x = [0, 1, 0.5]", lambda L, x: L.np.sum(L.np.clip(x, 0.0, 1.0)), [0.0, 1.0, 0.5],
     [0.5, 0.5, 1]),
    ("Σ relu(x) at x = [0, 1, -1]", lambda L, x: L.np.sum(L.nn.relu(x)), [0.0, 1.0, -1.0], [0, 1, 0]),
    ("sort(x)·[1, 2, 3] at x = [2, 1, 2]", lambda L, x: L.np.sort(x) @ np.array([1.0, 2.0, 3.0]),
     [2.0, 1.0, 2.0], [2, 1, 3]),
    ("Σ abs(x) at x = [0, -2]", lambda L, x: L.np.sum(L.np.abs(x)), [0.0, -2.0], [0, -1]),
]
"""Gradients at ties, ``(name, f(L, x), x, ∇f(x))`` with ``L.np`` and ``L.nn`` the library (the
backend's or JAX's), as JAX gives them, except the last: at 0, abs' is sign(0) = 0 here (the central
difference, and PyTorch's choice), where JAX gives 1."""
BACKEND = SimpleNamespace(np=bnp, nn=backend.nn)


@theorem("backend.ties.split_as_jax_splits", paper=YOLO, section="P3 (arrays)", label="derived",
         statement="at ties the gradient is JAX's: k tied maxima or minima of a reduction each get 1/k, "
                   "maximum and minimum (and clip) split a tie evenly, relu'(0) = 0, sort moves each "
                   "tangent with its element in the stable order; and abs'(0) = sign(0) = 0 "
                   "(worked examples with exact values)")
def _() -> None:
    wrong = []
    for name, f, x, want in TIES:
        got = backend.grad(lambda v, f=f: f(BACKEND, v))(np.array(x))
        if not np.allclose(got, want, rtol=1e-15, atol=1e-15):
            wrong.append(f"the gradient of {name} is {got.tolist()}, not {want}")
    assert not wrong, "; ".join(wrong)


DRAWN = list(GENERATORS)
"""Every primitive the strategies draw, in the order their theorems run."""


@theorem("backend.tables.shapes_agree", paper=YOLO, section="§ rules as tables", label="derived",
         statement="each primitive's strategy draws that primitive, and its shape rule types each drawn "
                   "application as the implementation computes it (shape and dtype)",
         given={"cases": every(DRAWN)}, show=show_cases, max_examples=2)
def _(cases: tuple[Case, ...]) -> None:
    for p, case in zip(DRAWN, cases, strict=True):
        assert case.prim is p, f"the strategy of {p.name} drew {case.prim.name}"
        gap = checks.shape_gap(case)
        assert gap is None, gap


def _per_primitive(p: Primitive) -> None:
    """The theorems of one primitive: its JVP against the complex step (analytic) or central
    differences, and the dot-product test of its linearization's transpose."""
    analytic = p in ANALYTIC
    how = ("the complex-step derivative Im f(x + ih·ẋ)/h (h = 1e-20) to 1e-9 relative" if analytic else
           "the central difference to 1e-6 (at ties and kinks too: an even split, sign(0) = 0), k tied "
           "extrema sharing the tangent 1/k each (exactly), or is zero for integer, boolean and stopped "
           "results; its primal is the eager one")
    theorem(f"backend.jvp.{p.name}", paper=YOLO, section="P3 (arrays)", label="derived",
            statement=f"the tangent of J({p.name}) equals {how}, at random shapes",
            given={"case": applications((p,))}, show=show_case, max_examples=PER_PRIMITIVE)(
                _complex_step if analytic else _central_difference)
    if p not in CONSTANT:
        theorem(f"backend.transpose.{p.name}", paper=YOLO, section="P8 (arrays)",
                statement=f"for L the linearization of {p.name} (its JVP, unzipped): ⟨c, L t⟩ = ⟨Lᵀ c, t⟩ to "
                          "1e-10 relative, Lᵀ from the transpose rules of the linear array primitives",
                given={"case": applications((p,))}, show=show_case, max_examples=PER_PRIMITIVE)(_dot_product)


for _p in DRAWN:
    _per_primitive(_p)


@theorem("backend.transpose.involution", paper=YOLO, section="P9 (arrays)", label="derived",
         statement="transposing the linear half twice gives back the same linear map: (Lᵀ)ᵀ t = L t",
         given={"cases": every(ANALYTIC)}, show=show_cases, max_examples=4)
def _(cases: tuple[Case, ...]) -> None:
    for case in cases:
        f, xs = checks.primitive_function(case)
        assert checks.involution_gap(f, xs) <= 1e-10, case.show()


def _mlp_case(seed: int) -> tuple[Any, Any, Any]:
    rng = np.random.default_rng(seed)
    params = mlp.init([5, 7, 3], seed, np.float64)
    return params, rng.standard_normal((4, 5)), rng.integers(0, 3, 4)


@theorem("backend.grad.mlp", paper=YOLO, section="P12 (models)", label="derived",
         statement="reverse mode (T∘U∘J) of the MLP's cross-entropy equals central finite differences in "
                   "float64 (relative 1e-6) at random weights",
         given={"seed": seeds}, max_examples=10)
def _(seed: int) -> None:
    params, x, y = _mlp_case(seed)
    for fd, g in checks.fd_gradient(mlp.loss, params, (x, y), picks=3, seed=seed):
        assert abs(fd - g) <= 1e-6 * (abs(fd) + abs(g)) + 1e-9, f"finite difference {fd}, gradient {g}"


TINY = griffin.GriffinConfig(vocab=11, width=8, heads=2, blocks=3, window=3)


def _griffin_loss(p: Any, x: Any, y: Any) -> Any:
    return griffin.loss(p, x, y, TINY)


@theorem("backend.grad.griffin", paper=GRIFFIN, section="§2 (RG-LRU, local MQA)", label="derived",
         statement="reverse mode of the Griffin model's loss (RG-LRU, conv1d, local attention, gated MLP, "
                   "RMSNorm, tied embeddings) equals central finite differences in float64 (relative 1e-5)",
         given={"seed": seeds}, max_examples=2)
def _(seed: int) -> None:
    rng = np.random.default_rng(seed)
    params = griffin.init(TINY, seed % 1000, np.float64)
    x, y = rng.integers(0, 11, (2, 6)), rng.integers(0, 11, (2, 6))
    for fd, g in checks.fd_gradient(_griffin_loss, params, (x, y), picks=2, seed=seed, eps=1e-5):
        assert abs(fd - g) <= 1e-5 * (abs(fd) + abs(g)) + 1e-8, f"finite difference {fd}, gradient {g}"


@theorem("backend.checkpoint.identical_gradients", paper=YOLO, section="§ checkpointing (unzip's choice)",
         statement="every checkpoint policy (save everything, nothing, contractions only, block boundaries) "
                   "gives bit-identical gradients",
         given={"seed": seeds}, max_examples=1)
def _(seed: int) -> None:
    rng = np.random.default_rng(seed)
    params = griffin.init(TINY, seed % 1000, np.float64)
    x, y = rng.integers(0, 11, (2, 7)), rng.integers(0, 11, (2, 7))
    results = {name: flatten(backend.grad(backend.checkpoint(_griffin_loss, policy))(params, x, y))[0]
               for name, policy in policies.POLICIES.items()}
    base = results["everything_saveable"]
    for name, grads in results.items():
        assert all(np.array_equal(a, b) for a, b in zip(grads, base, strict=True)), f"{name} differs"


def _peak(f: Any, *args: Any) -> int:
    vg = backend.value_and_grad(f)
    vg(*args)
    tracemalloc.start()
    vg(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


@theorem("backend.checkpoint.recompute_saves_memory", paper=YOLO, section="§ checkpointing",
         label="derived", statement="saving only the residual stream at block boundaries (recomputing inside "
                                    "blocks) lowers the peak memory of a Griffin gradient at least 2x")
def _() -> None:
    cfg = griffin.GriffinConfig(vocab=20, width=16, heads=2, blocks=6, window=8)
    params = griffin.init(cfg, 0, np.float32)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 20, (2, 128)), rng.integers(0, 20, (2, 128))

    def loss(p: Any, a: Any, b: Any) -> Any:
        return griffin.loss(p, a, b, cfg)

    saved = _peak(backend.checkpoint(loss, policies.everything_saveable), params, x, y)
    blocks = _peak(backend.checkpoint(loss, policies.save_only_these_names("residual")), params, x, y)
    assert blocks * 2 <= saved, f"peak {blocks} bytes with block checkpoints, {saved} saving everything"


@theorem("backend.scan.transpose_is_reverse_scan", paper=GRIFFIN, section="§2.4 (RG-LRU)", label="derived",
         statement="for L(x) = scan(a, x), h_t = a_t h_{t-1} + x_t, the transpose is the reverse scan "
                   "u_t = g_t + a_{t+1} u_{t+1} (a worked example with exact values)",
         given={"a": st.lists(st.sampled_from([0.5, 0.25, 2.0, -1.0]), min_size=4, max_size=4)})
def _(a: list[float]) -> None:
    av = np.array(a).reshape(1, 4, 1)
    g = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1)
    _, f_vjp = backend.vjp(lambda x: backend.numpy.linear_scan(av, x), np.zeros((1, 4, 1)))
    u = [0.0] * 5
    for t in reversed(range(4)):
        u[t] = g[0, t, 0] + (a[t + 1] * u[t + 1] if t < 3 else 0.0)
    assert np.array_equal(f_vjp(g)[0].ravel(), np.array(u[:4])), f"{f_vjp(g)[0].ravel()} != {u[:4]}"


@theorem("backend.executor.rewrites_are_invisible", paper=YOLO, section="§ executor", label="derived",
         statement="merging common subexpressions and writing into dying buffers (out=) change no bit: a "
                   "random straight-line program of views and elementwise operations gives the same value "
                   "and gradient with buffer reuse at every size, at the default sizes and without it, "
                   "twice over one tape, and leaves its inputs untouched",
         given={"dag": dags()}, show=show_case, max_examples=30)
def _(dag: Dag) -> None:
    def f(x: Any) -> Any:
        return run_dag(dag, x, bnp)

    assert checks.reuse_gap(f, (dag.x,)) == []
