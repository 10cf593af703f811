"""``vmap`` with JAX's conventions, composed with the AD transformations: per-example gradients of the
MLP against the Python loop and ``jax.vmap``, ``in_axes``/``out_axes``, nesting, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backend
import backend.numpy as bnp
from backend import peers
from backend.models import mlp
from backend.pytree import flatten
from calculi.core.errors import UsageError

jax = pytest.importorskip("jax")
jnp = jax.numpy
jax.config.update("jax_enable_x64", True)

RNG = np.random.default_rng(11)


def example_loss(p: Any, x: Any, y: Any) -> Any:
    return mlp.loss(p, x[None], y[None])


def test_per_example_gradients_equal_the_loop_and_jax() -> None:
    params = mlp.init([8, 6, 3], seed=1, dtype=np.float64)
    x, y = RNG.standard_normal((16, 8)), RNG.integers(0, 3, 16)
    per_example = backend.vmap(backend.grad(example_loss), in_axes=(None, 0, 0))
    got = per_example(params, x, y)
    jitted = backend.jit(per_example)
    one = backend.grad(example_loss)
    for scale in (1.0, -2.0):  # new values through the same trace
        xs = x * scale
        batched = jitted(params, xs, y)
        for b in range(16):
            for leaf, want in zip(flatten(batched)[0], flatten(one(params, xs[b], y[b]))[0], strict=True):
                np.testing.assert_allclose(leaf[b], want, rtol=1e-12, atol=1e-14)
    namespace = peers.jax_numpy()

    def lj(p: Any, xi: Any, yi: Any) -> Any:
        with peers.running_on(namespace):
            return example_loss(p, xi, yi)

    want = jax.jit(jax.vmap(jax.grad(lj), in_axes=(None, 0, 0)))(params, x, y)
    for a, b in zip(flatten(got)[0], jax.tree_util.tree_leaves(want), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_in_axes_and_out_axes_follow_jax() -> None:
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 5))

    def f(u: Any, v: Any) -> Any:
        return bnp.tanh(u) @ v, bnp.sum(u)

    def fj(u: Any, v: Any) -> Any:
        return jnp.tanh(u) @ v, jnp.sum(u)

    for in_axes, out_axes, args in [(0, 0, (a, np.stack([b] * 3))), ((1, None), (1, 0), (a.T.copy(), b)),
                                    ((0, None), 0, (a, b))]:
        got = backend.vmap(f, in_axes, out_axes)(*args)
        want = jax.vmap(fj, in_axes, out_axes)(*args)
        for x, y in zip(got, want, strict=True):
            np.testing.assert_allclose(x, y, rtol=1e-12)


def test_vmap_nests_with_grad_jit_and_jacobians() -> None:
    w = RNG.standard_normal((4, 4))
    xs = RNG.standard_normal((5, 4))

    def f(x: Any, w: Any) -> Any:
        return bnp.sum(bnp.sin(x @ w) ** 2)

    def fj(x: Any, w: Any) -> Any:
        return jnp.sum(jnp.sin(x @ w) ** 2)

    def total(w: Any) -> Any:
        return bnp.sum(backend.vmap(f, in_axes=(0, None))(xs, w))

    want_grad = jax.grad(lambda w: jnp.sum(jax.vmap(fj, (0, None))(xs, w)))(w)
    np.testing.assert_allclose(backend.grad(total)(w), want_grad, rtol=1e-12)
    hvps = backend.vmap(lambda v: backend.jvp(backend.grad(f, argnums=1), (xs[0], w), (np.zeros(4), v))[1])
    vs = RNG.standard_normal((3, 4, 4))
    want = jax.vmap(lambda v: jax.jvp(jax.grad(fj, argnums=1), (xs[0], w), (jnp.zeros(4), v))[1])(vs)
    np.testing.assert_allclose(hvps(vs), want, rtol=1e-11)
    np.testing.assert_allclose(backend.jacrev(lambda x: bnp.tanh(x @ w))(xs[0]),
                               jax.jacrev(lambda x: jnp.tanh(x @ w))(xs[0]), rtol=1e-12)


@pytest.mark.parametrize(("in_axes", "args", "reason"), [
    (0, (np.ones((2, 3)), np.ones((4, 3))), "sizes 2 and 4"),
    (2, (np.ones((2, 3)),), "out of range"),
    (None, (np.ones(2),), "at least one mapped argument"),
    ((0, 0), (np.ones(2),), "one per argument"),
])
def test_bad_axes_are_usage_errors(in_axes: Any, args: tuple[Any, ...], reason: str) -> None:
    with pytest.raises(UsageError, match=reason):
        backend.vmap(lambda *a: a[0] * 2.0, in_axes)(*args)


def test_out_axes_none_needs_an_unmapped_output() -> None:
    with pytest.raises(UsageError, match="out_axes None"):
        backend.vmap(lambda x: x * 2.0, out_axes=None)(np.ones((2, 3)))
    unmapped = backend.vmap(lambda x: (x, np.ones(2)), out_axes=(0, None))(np.ones((3, 2)))[1]
    np.testing.assert_array_equal(unmapped, np.ones(2))


def test_mapped_indices_and_kernels_equal_the_loop() -> None:
    """Per-example gradients of an embedding and a causal convolution (``take`` and ``scatter_add``
    with mapped token indices, ``conv1d`` and its weight gradient per example), and a convolution
    mapped over kernels, each against the loop."""
    emb, w = RNG.standard_normal((7, 3)), RNG.standard_normal((2, 3))
    tokens = RNG.integers(-7, 7, (5, 4))

    def loss(e: Any, k: Any, ids: Any) -> Any:
        h = bnp.conv1d(bnp.take(e, ids, axis=0)[None], k)
        return bnp.sum(bnp.tanh(h) ** 2)

    per_example = backend.jit(backend.vmap(backend.grad(loss, argnums=(0, 1)), in_axes=(None, None, 0)))
    got = per_example(emb, w, tokens)
    for b in range(5):
        for leaf, want in zip(got, backend.grad(loss, argnums=(0, 1))(emb, w, tokens[b]), strict=True):
            np.testing.assert_allclose(leaf[b], want, rtol=1e-12, atol=1e-12)
    kernels, x = RNG.standard_normal((4, 3, 2)), RNG.standard_normal((2, 5, 2))
    mapped = backend.vmap(lambda k: bnp.conv1d(x, k))(kernels)
    one = backend.jit(lambda k: bnp.conv1d(x, k))
    np.testing.assert_allclose(mapped, np.stack([one(k) for k in kernels]), rtol=1e-12, atol=1e-12)
