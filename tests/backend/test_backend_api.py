"""The transformations' API: jax's conventions, printed programs, errors for people."""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import pytest

import backend
import backend.numpy as bnp
from backend import peers
from backend.models import griffin, mlp
from backend.pytree import flatten
from calculi.core.errors import ShapeError, UsageError

RNG = np.random.default_rng(0)


def f(w: dict[str, np.ndarray], x: np.ndarray) -> object:
    return bnp.sum(bnp.tanh(x @ w["a"] + w["b"]) ** 2)


W = {"a": RNG.standard_normal((3, 2)), "b": RNG.standard_normal(2)}
X = RNG.standard_normal((4, 3))


def test_grad_matches_the_hand_derived_gradient() -> None:
    g = backend.grad(f)(W, X)
    h = np.tanh(X @ W["a"] + W["b"])
    dz = 2 * h * (1 - h**2)
    np.testing.assert_allclose(g["a"], X.T @ dz, rtol=1e-12)
    np.testing.assert_allclose(g["b"], dz.sum(0), rtol=1e-12)


def test_argnums_and_has_aux() -> None:
    def g(x: np.ndarray, y: np.ndarray) -> tuple[object, object]:
        return bnp.sum(x * y), x + 1.0

    (value, aux), (gx, gy) = backend.value_and_grad(g, argnums=(0, 1), has_aux=True)(X, 2 * X)
    np.testing.assert_allclose(value, np.sum(2 * X * X))
    np.testing.assert_allclose(aux, X + 1)
    np.testing.assert_allclose(gx, 2 * X)
    np.testing.assert_allclose(gy, X)
    np.testing.assert_allclose(backend.grad(g, argnums=1, has_aux=True)(X, X)[0], X)


def test_jvp_linearize_vjp_agree() -> None:
    def h(x: np.ndarray) -> object:
        return bnp.exp(bnp.sin(x)) * x

    t = RNG.standard_normal(X.shape)
    out, tangent = backend.jvp(h, [X], [t])
    out2, f_lin = backend.linearize(h, X)
    np.testing.assert_allclose(out, out2)
    np.testing.assert_allclose(f_lin(t), tangent, rtol=1e-12)
    np.testing.assert_allclose(tangent, np.exp(np.sin(X)) * (np.cos(X) * X + 1) * t, rtol=1e-12)
    _, f_vjp = backend.vjp(h, X)
    c = RNG.standard_normal(X.shape)
    np.testing.assert_allclose(np.vdot(c, tangent), np.vdot(f_vjp(c)[0], t), rtol=1e-12)


def test_make_program_prints_each_stage() -> None:
    traced = str(backend.make_program(f)(W, X))
    assert traced.startswith("def f(") and "einsum" in traced and "tanh" in traced
    jvp = str(backend.make_program(f, stage="jvp")(W, X))
    assert "def f.jvp(" in jvp and "tanh_grad" in jvp and "⊙" in jvp
    unzipped = str(backend.make_program(f, stage="unzip")(W, X))
    assert "def f.jvp.nonlin(" in unzipped and "def f.jvp.lin(" in unzipped
    transposed = str(backend.make_program(f, stage="transpose", unicode=False)(W, X))
    assert "f.jvp.lin.T" in transposed and "einsumL" in transposed


def test_the_compiled_program_is_reused_across_batches() -> None:
    backend.api.clear_cache()
    vg = backend.value_and_grad(mlp.loss)
    params = mlp.init([3, 4, 2], 0, np.float64)
    for _ in range(3):
        x, y = RNG.standard_normal((5, 3)), RNG.integers(0, 2, 5)
        value, _ = vg(params, x, y)
        np.testing.assert_allclose(value, mlp.loss(params, x, y), rtol=1e-12)
    assert backend.api.traces_of(mlp.loss) == 1


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: backend.grad(lambda x: x * 2.0)(X), UsageError, "scalar output"),
        (lambda: backend.grad(lambda x: bnp.sum(x @ np.ones((5, 2))))(X), ShapeError, "index"),
        (lambda: backend.grad(lambda x: bnp.sum(x) if x > 0 else x)(X), ShapeError, "truth value"),
        (lambda: backend.grad(lambda x: bnp.sum(np.sin(x)))(X), ShapeError, "bnp"),
        (lambda: backend.grad(f)(W, X, X), TypeError, "positional arguments"),  # Python's own, as in JAX
        (lambda: backend.grad(lambda i: bnp.sum(i))(np.arange(3)), UsageError, "dtype"),
    ],
)
def test_bad_programs_are_calculus_errors(call: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call()  # type: ignore[operator]


def test_zero_tangents_of_constants_are_folded_away() -> None:
    p = backend.api.build(mlp.loss, (mlp.init([3, 4, 2], 0), X[:, :3].astype(np.float32), np.zeros(4, int)),
                          0, "transpose")
    listing = p.compiled.listing(p.names["transpose"])
    # the cotangent of the input batch is never computed: three contractions (two weight gradients and
    # the hidden layer's cotangent), not four
    assert listing.count("einsum[") == 3, listing


def _jax_value_and_grad(loss: object) -> object:
    import jax

    jax.config.update("jax_enable_x64", True)
    return peers.jax_value_and_grad(loss, jit=True)


@pytest.mark.engine
@pytest.mark.parametrize(("engine", "peer"), [("autograd", peers.autograd_value_and_grad),
                                              ("jax", _jax_value_and_grad)])
def test_griffin_gradient_agrees_with_a_peer_on_the_same_model(engine: str, peer: Any) -> None:
    if importlib.util.find_spec(engine) is None:
        pytest.skip(f"needs {engine}")
    cfg = griffin.GriffinConfig(vocab=13, width=8, heads=2, blocks=3, window=4)
    params = griffin.init(cfg, 3, np.float64)
    x, y = RNG.integers(0, 13, (2, 9)), RNG.integers(0, 13, (2, 9))

    def loss(p: object, a: object, b: object) -> object:
        return griffin.loss(p, a, b, cfg)

    v1, g1 = backend.value_and_grad(loss)(params, x, y)
    v2, g2 = peer(loss)(params, x, y)
    np.testing.assert_allclose(v1, float(v2), rtol=1e-12)
    for a, b in zip(flatten(g1)[0], flatten(g2)[0], strict=True):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-6, atol=1e-12)
