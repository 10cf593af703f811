"""PyTorch eager running the very same model code: its gradients agree with the backend's."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backend
import backend.numpy
from backend import peers
from backend.models import griffin, mlp
from backend.pytree import flatten

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.engine
RNG = np.random.default_rng(5)


def relative_error(a: Any, b: Any) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a))), 1e-300))


def assert_same_gradients(ours: Any, theirs: Any) -> None:
    leaves, other = flatten(ours)[0], flatten(theirs)[0]
    assert len(leaves) == len(other)
    for a, b in zip(leaves, other, strict=True):
        assert np.shape(a) == np.shape(b)
        assert relative_error(a, b) < 1e-6


def test_griffin_tiny_gradient_agrees_with_torch_in_float64() -> None:
    cfg = griffin.preset("tiny", 17)
    params = griffin.init(cfg, 1, np.float64)
    # T = 40 > window = 32: the sliding window and both block types are exercised
    x, y = RNG.integers(0, 17, (2, 40)), RNG.integers(0, 17, (2, 40))

    def loss(p: Any, a: Any, c: Any) -> Any:
        return griffin.loss(p, a, c, cfg)

    v1, g1 = backend.value_and_grad(loss)(params, x, y)
    v2, g2 = peers.torch_value_and_grad(loss)(params, x, y)
    assert isinstance(v2, np.ndarray) and v2.dtype == np.float64
    assert relative_error(v1, v2) < 1e-12
    assert_same_gradients(g1, g2)
    assert all(isinstance(g, np.ndarray) and g.dtype == np.float64 for g in flatten(g2)[0])


def test_mlp_gradient_agrees_with_torch_in_float64() -> None:
    params = mlp.init([64, 32, 10], 2, np.float64)
    x, y = RNG.standard_normal((50, 64)), RNG.integers(0, 10, 50)
    v1, g1 = backend.value_and_grad(mlp.loss)(params, x, y)
    v2, g2 = peers.torch_value_and_grad(mlp.loss)(params, x, y)
    assert relative_error(v1, v2) < 1e-12
    assert_same_gradients(g1, g2)


def test_float32_runs_in_float32_and_agrees_loosely() -> None:
    params = mlp.init([64, 32, 10], 3, np.float32)
    x, y = RNG.standard_normal((20, 64)).astype(np.float32), RNG.integers(0, 10, 20)
    v1, g1 = backend.value_and_grad(mlp.loss)(params, x, y)
    v2, g2 = peers.torch_value_and_grad(mlp.loss)(params, x, y)
    assert v2.dtype == np.float32
    np.testing.assert_allclose(v1, v2, rtol=1e-5)
    for a, b in zip(flatten(g1)[0], flatten(g2)[0], strict=True):
        assert b.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_the_peer_leaves_torch_and_the_models_as_they_were() -> None:
    params = mlp.init([4, 3], 0, np.float64)
    peers.torch_value_and_grad(mlp.loss)(params, np.ones((2, 4)), np.array([0, 2]))
    assert "__array_ufunc__" not in torch.Tensor.__dict__
    assert getattr(mlp, "bnp") is backend.numpy  # noqa: B009  (the models' module attribute)
    assert getattr(griffin, "bnp") is backend.numpy  # noqa: B009


def test_a_wrong_gradient_would_be_caught() -> None:
    # the comparison can fail: a perturbed weight gives a different gradient
    params = mlp.init([8, 5, 3], 4, np.float64)
    x, y = RNG.standard_normal((6, 8)), RNG.integers(0, 3, 6)
    _, g1 = backend.value_and_grad(mlp.loss)(params, x, y)
    params["layer0"]["w"] = params["layer0"]["w"] * 1.01
    _, g2 = peers.torch_value_and_grad(mlp.loss)(params, x, y)
    with pytest.raises(AssertionError):
        assert_same_gradients(g1, g2)
