"""Transformations nest (``grad(grad f)``, ``jit(grad f)``, ``grad(jit f)``, ``jvp(grad f)`` …), and
``jacfwd``, ``jacrev``, ``hessian`` follow JAX: each checked against JAX in float64, on small functions,
the MLP and Griffin, with float arguments that change between calls."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backend
import backend.numpy as bnp
from backend import peers
from backend.jacobians import hvp
from backend.lprims import HELPER, KINDS, TANGENT
from backend.models import griffin, mlp
from backend.pytree import flatten, unflatten
from calculi.core.errors import UsageError
from calculi.linear_ad.embed import missing_rows, readings
from calculi.linear_ad.primitives import jvp_rules

jax = pytest.importorskip("jax")
jnp = jax.numpy
jax.config.update("jax_enable_x64", True)

RNG = np.random.default_rng(3)
X = RNG.standard_normal(5)
V = RNG.standard_normal(5)


def f(x: Any, s: Any = 1.0) -> Any:
    return bnp.sum(bnp.tanh(x) * x**3) * s + bnp.sum(bnp.exp(x[:3]) * x[1:4]) + bnp.sum(bnp.logistic(x) * x)


def fj(x: Any, s: Any = 1.0) -> Any:
    return (jnp.sum(jnp.tanh(x) * x**3) * s + jnp.sum(jnp.exp(x[:3]) * x[1:4])
            + jnp.sum(jax.nn.sigmoid(x) * x))


def close(a: Any, b: Any, rtol: float = 1e-10) -> None:
    la, lb = flatten(a)[0], jax.tree_util.tree_leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb, strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=1e-12)


def test_grad_of_grad_jit_of_grad_and_grad_of_jit_agree_with_jax() -> None:
    close(backend.grad(lambda x: backend.grad(f)(x)[2])(X), jax.grad(lambda x: jax.grad(fj)(x)[2])(X))
    close(backend.jit(backend.grad(f))(X), jax.grad(fj)(X))
    close(backend.grad(backend.jit(f))(X), jax.grad(fj)(X))
    close(backend.jit(backend.grad(backend.jit(f)))(X), jax.grad(fj)(X))


def test_forward_over_reverse_and_the_others() -> None:
    want = jax.jvp(jax.grad(fj), (X,), (V,))[1]
    close(backend.jvp(backend.grad(f), (X,), (V,))[1], want)
    close(backend.grad(lambda x: bnp.sum(backend.jvp(f, (x,), (V,))[1]))(X), want)  # reverse over forward
    close(backend.linearize(backend.grad(f), X)[1](V), want)
    close(backend.vjp(backend.grad(f), X)[1](V), want)  # the Hessian is symmetric
    value, g = backend.value_and_grad(lambda x: backend.grad(f)(x)[0])(X)
    close(value, jax.grad(fj)(X)[0])
    close(g, jax.grad(lambda x: jax.grad(fj)(x)[0])(X))
    third = backend.grad(lambda x: backend.grad(lambda y: backend.grad(f)(y)[1])(x)[1])(X)
    close(third, jax.grad(lambda x: jax.grad(lambda y: jax.grad(fj)(y)[1])(x)[1])(X))
    close(backend.jvp(backend.checkpoint(backend.grad(f)), (X,), (V,))[1], want)
    close(backend.grad(lambda x: backend.grad(backend.checkpoint(f))(x)[1])(X),
          jax.grad(lambda x: jax.grad(fj)(x)[1])(X))


def test_nested_transformations_read_new_floats_at_each_call() -> None:
    """Nothing is cached on values: a Python float, an array and a closed-over value change."""
    g = backend.jit(backend.grad(f))
    h = backend.grad(lambda x, s: backend.grad(f)(x, s)[0])
    for s in (1.0, 2.5, -0.75):
        x = X * s
        close(g(x, s), jax.grad(fj)(x, s))
        close(h(x, s), jax.grad(lambda y, s=s: jax.grad(fj)(y, s)[0])(x))
        ours = backend.jvp(lambda y, s=s: backend.grad(f)(y, s), (x,), (V,))[1]
        close(ours, jax.jvp(lambda y, s=s: jax.grad(fj)(y, s), (x,), (V,))[1])


def test_an_inner_transformation_may_close_over_the_outer_traced_value() -> None:
    def mixed(x: Any) -> Any:
        return backend.grad(lambda y: bnp.sum(bnp.sin(x * y) * y))(x)[0]

    def mixed_j(x: Any) -> Any:
        return jax.grad(lambda y: jnp.sum(jnp.sin(x * y) * y))(x)[0]

    for scale in (1.0, 0.5):
        close(backend.grad(mixed)(X * scale), jax.grad(mixed_j)(X * scale))


def test_jacfwd_jacrev_hessian_follow_jax_signatures() -> None:
    w = {"a": RNG.standard_normal((3, 2)), "b": RNG.standard_normal(2)}
    x = RNG.standard_normal((4, 3))

    def g(w: Any, x: Any) -> Any:
        return bnp.tanh(x @ w["a"] + w["b"])

    def gj(w: Any, x: Any) -> Any:
        return jnp.tanh(x @ w["a"] + w["b"])

    for nums in (0, 1, (0, 1)):
        close(backend.jacfwd(g, argnums=nums)(w, x), jax.jit(jax.jacfwd(gj, argnums=nums))(w, x))
        close(backend.jacrev(g, argnums=nums)(w, x), jax.jit(jax.jacrev(gj, argnums=nums))(w, x))

    def loss(w: Any, x: Any) -> Any:
        return bnp.sum(g(w, x) ** 2), x.sum()

    def loss_j(w: Any, x: Any) -> Any:
        return jnp.sum(gj(w, x) ** 2), x.sum()

    hess, aux = backend.hessian(loss, has_aux=True)(w, x)
    want, want_aux = jax.jit(jax.hessian(loss_j, has_aux=True))(w, x)
    close(hess, want)
    close(aux, want_aux)
    close(backend.hessian(lambda w, x: loss(w, x)[0], argnums=(0, 1))(w, x),
          jax.jit(jax.hessian(lambda w, x: loss_j(w, x)[0], argnums=(0, 1)))(w, x))
    with pytest.raises(UsageError, match="holomorphic"):
        backend.jacfwd(g, holomorphic=True)(w, x)


def _mlp_data() -> tuple[Any, np.ndarray, np.ndarray]:
    params = mlp.init([4, 5, 3], seed=2, dtype=np.float64)
    rng = np.random.default_rng(5)
    return params, rng.standard_normal((6, 4)), rng.integers(0, 3, 6)


def _on_jax(loss: Any, *rest: Any) -> Any:
    namespace = peers.jax_numpy()

    def run(p: Any) -> Any:
        with peers.running_on(namespace):
            return loss(p, *rest)

    return run


def test_mlp_hessian_vector_products_and_full_hessian_match_jax() -> None:
    params, x, y = _mlp_data()
    leaves, tree = flatten(params)
    v = unflatten(tree, [RNG.standard_normal(np.shape(a)) for a in leaves])
    lj = _on_jax(mlp.loss, x, y)
    want = jax.jit(lambda p, t: jax.jvp(jax.grad(lj), (p,), (t,))[1])(params, v)
    close(hvp(lambda p: mlp.loss(p, x, y), (params,), (v,)), want)
    close(backend.hessian(mlp.loss)(params, x, y), jax.jit(jax.hessian(lj))(params))
    jitted = backend.jit(lambda p, xx: hvp(lambda q: mlp.loss(q, xx, y), (p,), (v,)))
    for scale in (1.0, 3.0):  # new values, one trace
        lj = _on_jax(mlp.loss, x * scale, y)
        want = jax.jit(lambda p, t, lj=lj: jax.jvp(jax.grad(lj), (p,), (t,))[1])(params, v)
        close(jitted(params, x * scale), want)


class _JaxGriffin(peers.PeerNumpy):
    """JAX's namespace with the bounded-derivative square root as a ``custom_jvp`` (the peer's
    stop-gradient form has the right first derivative only)."""

    def __init__(self) -> None:
        super().__init__(jnp, jax.lax.stop_gradient)

        @jax.custom_jvp
        def root(x: Any, m: float) -> Any:
            return jnp.sqrt(x)

        @root.defjvp
        def _(primals: Any, tangents: Any) -> Any:
            x, m = primals
            r = jnp.sqrt(x)
            return r, tangents[0] / jnp.maximum(2.0 * r, 1.0 / m)

        self._root = root

    def sqrt_bound_derivative(self, x: Any, max_gradient: float) -> Any:
        return self._root(x, max_gradient)


@pytest.mark.slow
def test_griffin_hessian_vector_product_matches_jax() -> None:
    cfg = griffin.GriffinConfig(vocab=11, width=8, heads=2, blocks=3, window=4)
    params = griffin.init(cfg, seed=1, dtype=np.float64)
    rng = np.random.default_rng(0)
    tokens, targets = rng.integers(0, 11, (2, 6)), rng.integers(0, 11, (2, 6))
    leaves, tree = flatten(params)
    v = unflatten(tree, [rng.standard_normal(np.shape(a)) for a in leaves])
    ours = hvp(lambda p: griffin.loss(p, tokens, targets, cfg), (params,), (v,))
    namespace = _JaxGriffin()

    def lj(p: Any) -> Any:
        with peers.running_on(namespace):
            return griffin.loss(p, tokens, targets, cfg)

    close(ours, jax.jit(lambda p, t: jax.jvp(jax.grad(lj), (p,), (t,))[1])(params, v), rtol=1e-8)


def test_every_linear_primitive_has_a_reading_and_every_helper_a_jvp_rule() -> None:
    tangent = [p for p, kind in KINDS.items() if kind == TANGENT]
    assert not missing_rows(tangent)
    assert all(p in readings for p in tangent)
    without = sorted(p.name for p, kind in KINDS.items() if kind == HELPER and p not in jvp_rules)
    assert without == []


def test_third_derivatives_through_scans_agree_with_jax() -> None:
    """grad ∘ grad ∘ grad of a gated linear recurrence, forwards and reversed, meets ``scan_lin_prev``
    (the state each step of a derivative scan starts from) and its JVP rule."""
    rng = np.random.default_rng(5)
    a0, x0 = rng.uniform(0.2, 0.9, (2, 4, 3)), rng.standard_normal((2, 4, 3))

    def jscan(a: Any, x: Any, reverse: bool) -> Any:
        steps = range(x.shape[1] - 1, -1, -1) if reverse else range(x.shape[1])
        h, out = jnp.zeros_like(x[:, 0]), {}
        for t in steps:
            h = a[:, t] * h + x[:, t]
            out[t] = h
        return jnp.stack([out[t] for t in range(x.shape[1])], axis=1)

    for reverse in (False, True):
        def ours(s: Any, reverse: bool = reverse) -> Any:
            return bnp.sum(bnp.sin(bnp.linear_scan(a0 * s, x0 * s, reverse=reverse)))

        def theirs(s: Any, reverse: bool = reverse) -> Any:
            return jnp.sum(jnp.sin(jscan(a0 * s, x0 * s, reverse)))

        s0 = np.float64(0.8)
        got = backend.grad(backend.grad(backend.grad(ours)))(s0)
        close(got, jax.grad(jax.grad(jax.grad(theirs)))(s0), rtol=1e-9)


PROD_INPUTS = {
    "no zero": RNG.uniform(0.5, 1.5, (3, 4)),
    "one zero": np.array([[0.7, 0.0, 1.3, 0.9], [1.1, 0.8, 1.2, 0.6], [0.0, 1.4, 0.5, 1.1]]),
    "two zeros": np.array([[0.0, 0.9, 0.0, 1.2], [1.1, 0.0, 1.2, 0.0], [0.8, 1.4, 0.5, 1.1]]),
}


@pytest.mark.parametrize(("name", "axis", "keepdims"), [("no zero", 1, False), ("one zero", None, False),
                                                   ("one zero", -1, True), ("two zeros", 0, True),
                                                   ("two zeros", (0, 1), True)])
def test_second_derivatives_of_prod_agree_with_jax(name: str, axis: Any, keepdims: bool) -> None:
    """``prod_others`` (the derivative of prod) has a JVP rule without division, exact with zeros."""
    x0 = PROD_INPUTS[name]
    v0 = np.random.default_rng(4).standard_normal(x0.shape)

    def ours(x: Any) -> Any:
        return bnp.sum(bnp.sin(bnp.prod(x * 1.5, axis=axis, keepdims=keepdims)) * 2.0) + bnp.sum(x**3)

    def theirs(x: Any) -> Any:
        return jnp.sum(jnp.sin(jnp.prod(x * 1.5, axis=axis, keepdims=keepdims)) * 2.0) + jnp.sum(x**3)

    def routes(x: Any, v: Any) -> Any:
        return (jax.hessian(theirs)(x), jax.grad(lambda y: jnp.sum(jax.grad(theirs)(y) * v))(x),
                jax.jvp(jax.grad(theirs), (x,), (v,))[1])

    hess, gg, jg = jax.jit(routes)(x0, v0)
    close(backend.hessian(ours)(x0), hess, rtol=1e-10)
    close(backend.grad(lambda x: bnp.sum(backend.grad(ours)(x) * v0))(x0), gg, rtol=1e-10)
    close(backend.jvp(backend.grad(ours), (x0,), (v0,))[1], jg, rtol=1e-10)


def test_third_derivative_of_prod_agrees_with_jax() -> None:
    x0 = PROD_INPUTS["one zero"]

    def ours(s: Any) -> Any:
        return bnp.sum(bnp.prod(x0 * s + 0.25, axis=1) ** 2)

    def theirs(s: Any) -> Any:
        return jnp.sum(jnp.prod(x0 * s + 0.25, axis=1) ** 2)

    s0 = np.float64(0.9)
    want = jax.jit(jax.grad(jax.grad(jax.grad(theirs))))(s0)
    close(backend.grad(backend.grad(backend.grad(ours)))(s0), want, rtol=1e-9)
