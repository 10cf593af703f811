"""``vmap`` of functions written the way users write them: literals, powers and Python floats made
inside the batched function, unbatched scalar arguments, against ``jax.vmap`` in float64."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import backend
import backend.numpy as bnp

jax = pytest.importorskip("jax")
jnp = jax.numpy
jax.config.update("jax_enable_x64", True)

XS = np.stack([np.linspace(-1.0, 1.0, 5), np.linspace(0.5, 2.0, 5), np.linspace(-3.0, 0.25, 5)])


def cube(np_: Any) -> Callable[[Any], Any]:
    return lambda x: np_.sum(x**3)


def scaled(np_: Any) -> Callable[[Any, Any], Any]:
    return lambda x, s: np_.sum(np_.tanh(x * s) ** 2) * s + 2.0


def shifted(np_: Any) -> Callable[[Any], Any]:
    return lambda x: np_.sum(np_.sin(x) * 2.0 - 1.5 * x + 0.5)


@pytest.mark.parametrize("make", [cube, shifted], ids=["x**3", "literals"])
def test_per_example_gradients_of_functions_with_constants(make: Callable[[Any], Any]) -> None:
    got = backend.vmap(backend.grad(make(bnp)))(XS)
    want = jax.vmap(jax.grad(make(jnp)))(XS)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("s", [0.5, 2.0, -1.25])
def test_an_unbatched_float_argument_is_read_at_each_call(s: float) -> None:
    got = backend.vmap(backend.grad(scaled(bnp)), in_axes=(0, None))(XS, s)
    want = jax.vmap(jax.grad(scaled(jnp)), in_axes=(0, None))(XS, s)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    both = backend.vmap(backend.grad(scaled(bnp), argnums=(0, 1)))(XS, np.array([s, s + 1.0, s - 1.0]))
    jboth = jax.vmap(jax.grad(scaled(jnp), argnums=(0, 1)))(XS, np.array([s, s + 1.0, s - 1.0]))
    for a, b in zip(both, jboth, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_per_example_hessian_vector_products_of_prod_with_zeros() -> None:
    """vmap over jvp(grad f) meets the JVP rule of ``prod_others`` (exact with zeros) and its batching
    rule."""
    xs = np.array([[0.5, 0.0, 1.5, 2.0], [0.0, 0.0, 1.25, -1.0], [1.5, -0.5, 0.75, 2.0]])
    vs = np.array([[1.0, -0.5, 0.25, 2.0], [0.5, 1.5, -1.0, 0.75], [-2.0, 0.5, 1.0, 0.5]])

    def hvp_of(np_: Any, ad: Any) -> Callable[[Any, Any], Any]:
        def f(x: Any) -> Any:
            return np_.sum(np_.prod(x.reshape(2, 2), axis=1) ** 2) + np_.prod(x) * 3.0

        return lambda x, v: ad.jvp(ad.grad(f), (x,), (v,))[1]

    got = backend.vmap(hvp_of(bnp, backend))(xs, vs)
    want = jax.jit(jax.vmap(hvp_of(jnp, jax)))(xs, vs)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
