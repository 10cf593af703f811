"""The executor's rewrites: common subexpressions merged, slopes saved or recomputed by the policy,
results written into the buffers of arguments that die (``out=``)."""

from __future__ import annotations

from typing import Any

import numpy as np

import backend
import backend.numpy as bnp
from backend import api, checks, policies
from backend.executor import Compiled
from backend.models import mlp


def _tanh_sum(x: Any) -> Any:
    return bnp.sum(bnp.tanh(x) * 2.0)


def _listings(f: Any, *args: Any) -> tuple[str, str]:
    p = api.build(f, args, 0, "transpose")
    return p.compiled.listing(p.names["nonlin"]), p.compiled.listing(p.names["transpose"])


def test_tanh_is_computed_once_and_its_slope_is_saved() -> None:
    """J(tanh v) = (tanh v ; tanh_grad(tanh v) ⊙ v̇): the two tanh v are one value, and saving
    everything puts the slope on the tape, so the backward sweep evaluates no tanh."""
    nonlin, transposed = _listings(_tanh_sum, np.linspace(-1, 1, 6))
    assert nonlin.count(" tanh(") == 1 and "tanh_grad(" in nonlin, nonlin
    assert "tanh" not in transposed, transposed
    g = backend.grad(_tanh_sum)(np.linspace(-1, 1, 6))
    np.testing.assert_allclose(g, 2.0 / np.cosh(np.linspace(-1, 1, 6)) ** 2, rtol=1e-14)


def test_a_recompute_policy_recomputes_the_slope() -> None:
    f = backend.checkpoint(_tanh_sum, policies.POLICIES["nothing_saveable"])
    _, transposed = _listings(f, np.linspace(-1, 1, 6))
    assert "tanh_grad(" in transposed, transposed
    saved = backend.grad(_tanh_sum)(np.linspace(-1, 1, 6))
    assert np.array_equal(backend.grad(f)(np.linspace(-1, 1, 6)), saved)


def test_dying_buffers_are_reused_where_nothing_else_sees_them() -> None:
    params = mlp.init([6, 16, 3])
    x, y = np.ones((64, 6), np.float32), np.arange(64) % 3  # hidden values of 1024 ≥ OUT_MIN_SIZE
    p = api.build(mlp.loss, (params, x, y), 0, "transpose")
    assert sum(p.compiled.reused.values()) > 0
    assert "out=" in p.compiled.listing(p.names["transpose"])
    assert checks.reuse_gap(mlp.loss, (params, x, y)) == []


def test_small_results_are_allocated_afresh() -> None:
    """Below ``OUT_MIN_SIZE`` elements ``out=`` costs more than NumPy's allocation saves."""
    p = api.build(_tanh_sum, (np.linspace(-1, 1, 6),), 0, "transpose")
    assert sum(p.compiled.reused.values()) == 0
    assert sum(Compiled(p.compiled.typing.program, p.compiled.typing, out_min_size=1).reused.values()) > 0


def test_inputs_and_feeds_are_never_written() -> None:
    def f(w: Any, a: Any) -> Any:
        return bnp.sum(bnp.exp(w) * a + a)

    w, a = np.linspace(0, 1, 8), np.linspace(1, 2, 8)
    before = w.copy(), a.copy()
    for _ in range(2):
        backend.grad(f)(w, a)
    assert np.array_equal(w, before[0]) and np.array_equal(a, before[1])
