"""The backend's logistic, log, rsqrt, softplus, gelu and identities in PartIR, values and gradients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import backend.numpy as bnp
from backend.api import value_and_grad
from backend.partition import partition

SCHEDULE = "ManualPartition({in0: 0}, x); ManualPartition({w: 1}, y)"
UNARY: dict[str, Callable[[Any], Any]] = {
    "logistic": bnp.logistic,
    "log": lambda h: bnp.log(bnp.exp(h) + 1.0),
    "rsqrt": lambda h: bnp.rsqrt(h * h + 1.0),
    "softplus": lambda h: bnp.softplus(h * 40.0),
    "stop_gradient": lambda h: h * bnp.stop_gradient(bnp.tanh(h)),
    "gelu": bnp.gelu,
}


def _loss(name: str) -> Callable[[dict[str, Any], Any], Any]:
    return lambda p, x: bnp.sum(UNARY[name](x @ p["w"]))


@pytest.mark.parametrize("name", UNARY)
def test_a_unary_primitive_and_its_gradient_partition_exactly(name: str) -> None:
    rng = np.random.default_rng(2)
    params, x = {"w": rng.normal(size=(6, 8))}, rng.normal(size=(4, 6))
    loss, grads = value_and_grad(_loss(name))(params, x)
    out = partition(_loss(name), "x=2, y=2", SCHEDULE, grad=True)(params, x)
    np.testing.assert_allclose(out[0], loss, rtol=1e-12)
    np.testing.assert_allclose(out[1], grads["w"], rtol=1e-10, atol=1e-12)
