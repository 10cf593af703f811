"""Derivatives at ties follow JAX's conventions: k tied maxima or minima of a reduction share the
tangent (1/k each), ``maximum``/``minimum`` split a tie evenly, ``relu'(0) = 0``, ``sort`` moves each
tangent with its element in the stable order; at 0, ``abs'`` is ``sign(0) = 0`` (JAX gives 1).

The worked examples are the theorem ``backend.ties.split_as_jax_splits``'s; here they are compared
with ``jax.grad`` itself, and random tied arrays with JAX's JVPs.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import backend
import backend.numpy as bnp
from backend import checks
from proofs.backend.arrays import BACKEND, TIES

jax = pytest.importorskip("jax")
jnp = jax.numpy
JAX = SimpleNamespace(np=jnp, nn=jax.nn)


@pytest.fixture(autouse=True)
def _x64() -> Any:
    with jax.enable_x64(True):
        yield


@pytest.mark.parametrize(("name", "f", "x", "want"), TIES[:-1], ids=[t[0] for t in TIES[:-1]])
def test_the_worked_examples_are_jaxs(name: str, f: Any, x: Any, want: Any) -> None:
    ours = backend.grad(lambda v: f(BACKEND, v))(np.array(x))
    theirs = np.asarray(jax.grad(lambda v: f(JAX, v))(jnp.array(x)))
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(ours, want, rtol=1e-15, atol=1e-15)


def test_abs_at_zero_is_sign_where_jax_gives_one() -> None:
    name, f, x, want = TIES[-1]
    assert name.startswith("Σ abs")
    np.testing.assert_array_equal(backend.grad(lambda v: f(BACKEND, v))(np.array(x)), want)
    np.testing.assert_array_equal(np.asarray(jax.grad(lambda v: f(JAX, v))(jnp.array(x))), [1, -1])


def _tied(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    return rng.choice(rng.permutation(4)[: rng.integers(1, 4)] + 0.25, shape)


@pytest.mark.parametrize("seed", range(6))
def test_random_ties_reduce_as_jax_reduces(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(1, 4, rng.integers(1, 4)))
    x, t = _tied(rng, shape), rng.standard_normal(shape)
    axis = tuple(int(a) for a in np.flatnonzero(rng.random(len(shape)) < 0.6)) or (0,)
    y = x + np.where(rng.random(shape) < 0.5, 0.0, rng.choice([-1.0, 1.0], shape))
    cases = {
        "max": (lambda L, v, w: L.max(v, axis=axis), (x, y)),
        "min": (lambda L, v, w: L.min(v, axis=axis), (x, y)),
        "maximum": (lambda L, v, w: L.maximum(v, w), (x, y)),
        "minimum": (lambda L, v, w: L.minimum(v, w), (x, y)),
        "sort": (lambda L, v, w: L.sort(v, axis=-1), (x, y)),
    }
    for name, (f, args) in cases.items():
        _, ours = backend.jvp(lambda v, w, f=f: f(bnp, v, w), args, (t, t[::-1].copy()))
        _, theirs = jax.jvp(lambda v, w, f=f: f(jnp, v, w), args, (t, t[::-1].copy()))
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-12, atol=1e-12, err_msg=name)
    shared = checks.shared_extremum(x, t, axis)
    np.testing.assert_allclose(backend.jvp(lambda v: bnp.max(v, axis=axis), (x,), (t,))[1], shared,
                               rtol=1e-12, atol=1e-12)
