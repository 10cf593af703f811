"""Adam skips a step whose loss or gradient is not finite, and its norm clip never makes NaN a number;
a saturated RG-LRU gate, where √(1 − a²) meets 0 in float32, is such a step unless √'s derivative
is bounded (as the model's is)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import backend
import backend.numpy as bnp
from backend import optim
from backend.models import griffin
from backend.pytree import flatten

RNG = np.random.default_rng(0)


def params() -> dict[str, Any]:
    return {"w": RNG.standard_normal((3, 2)).astype(np.float32), "b": np.zeros(2, np.float32)}


def grads_like(p: dict[str, Any], scale: float = 1.0) -> dict[str, Any]:
    return {k: (RNG.standard_normal(v.shape) * scale).astype(v.dtype) for k, v in p.items()}


def same(a: Any, b: Any) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(flatten(a)[0], flatten(b)[0], strict=True))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_step_with_a_non_finite_gradient_is_skipped(bad: float) -> None:
    p, opt = params(), optim.Adam(lr=0.1)
    p = opt.update(p, grads_like(p))
    m, v = opt.m, opt.v
    g = grads_like(p)
    g["w"][1, 0] = bad
    assert opt.update(p, g) is p
    assert opt.last_skipped and opt.skipped == 1 and opt.step == 2
    assert opt.m is m and opt.v is v and all(np.all(np.isfinite(x)) for x in flatten(opt.m)[0])


def test_a_step_with_a_non_finite_loss_is_skipped() -> None:
    p, opt = params(), optim.Adam()
    assert opt.update(p, grads_like(p), loss=math.nan) is p
    assert opt.skipped == 1 and opt.m is None


def test_a_skipped_step_leaves_no_trace_in_the_steps_taken() -> None:
    """Adam's bias correction counts the steps taken: skipping one is as if it never came."""
    p = params()
    g1, g2 = grads_like(p), grads_like(p)
    nan = {k: np.full_like(v, np.nan) for k, v in p.items()}
    a, b = optim.Adam(lr=0.1), optim.Adam(lr=0.1)
    pa = a.update(a.update(a.update(p, g1), nan), g2)
    pb = b.update(b.update(p, g1), g2)
    assert same(pa, pb) and same(a.m, b.m) and same(a.v, b.v)
    assert (a.step, a.skipped, a.last_skipped) == (3, 1, False)


def test_the_norm_clip_handles_huge_gradients_without_overflow() -> None:
    g = {"w": np.full((2, 2), 1e300), "b": np.array([-1e300])}
    assert optim.global_norm(g) == pytest.approx(math.sqrt(5) * 1e300)
    p = {"w": np.zeros((2, 2)), "b": np.zeros(1)}
    new = optim.Adam(lr=0.1, clip=1.0).update(p, g)
    assert all(np.all(np.isfinite(x)) for x in flatten(new)[0])
    np.testing.assert_allclose(new["w"], -0.1, rtol=1e-6)  # Adam's first step is ±lr, clipped or not


def test_the_skip_count_survives_a_checkpoint(tmp_path: Path) -> None:
    p, opt = params(), optim.Adam()
    p = opt.update(p, grads_like(p))
    opt.update(p, {k: np.full_like(v, np.inf) for k, v in p.items()})
    path = str(tmp_path / "c.npz")
    optim.save(path, p, opt, np.random.default_rng(0), {})
    _, back, _, _ = optim.load(path, p)
    assert (back.step, back.skipped) == (2, 1)


# -- a saturated recurrence gate ------------------------------------------------------------------

CFG = griffin.GriffinConfig(vocab=11, width=8, heads=2, blocks=3, window=3)


def saturated(pre_activation: float = -15.0) -> griffin.Params:
    """float32 parameters whose a-gates all sit at σ(−15) and a = σ(Λ) at the ring's edge 0.999:
    log a_t = −8 · σ(−15) · 0.001 ≈ −2.4e−9, so a_t² rounds to 1 and √(1 − a_t²) is √0."""
    params = griffin.init(CFG, 0, np.float32)
    for block in params["blocks"]:
        if "recurrent_block" in block:
            lru = block["recurrent_block"]["rg_lru"]
            lru["a_gate"]["w"][:] = 0.0
            lru["a_gate"]["b"][:] = pre_activation
            lru["a_param"][:] = np.log(np.expm1(1e-3))
    return params


def test_a_saturated_gate_rounds_a_squared_to_one_in_float32() -> None:
    lru = saturated()["blocks"][0]["recurrent_block"]["rg_lru"]
    log_a = -griffin.C_GATE * bnp.logistic(lru["a_gate"]["b"]) * bnp.softplus(lru["a_param"])[:4]
    assert np.all(1.0 - np.exp(2 * log_a) == 0.0)


def test_the_unbounded_sqrt_at_a_saturated_gate_gives_a_step_that_is_skipped() -> None:
    """The RG-LRU's multiplier with the plain √: its gradient is not finite, and Adam skips it."""
    lru = saturated()["blocks"][0]["recurrent_block"]["rg_lru"]
    p = {"b": lru["a_gate"]["b"], "a_param": lru["a_param"]}
    x = RNG.standard_normal((3, 2, 4)).astype(np.float32)

    def loss(p: dict[str, Any]) -> Any:
        log_a = bnp.logistic(p["b"]) * bnp.reshape(bnp.softplus(p["a_param"]), (2, 4)) * (-griffin.C_GATE)
        return bnp.sum(x * bnp.sqrt(1.0 - bnp.exp(log_a * 2.0)))

    with np.errstate(all="ignore"):
        value, grads = backend.value_and_grad(loss)(p)
    assert np.isfinite(value) and not optim.finite(grads)
    opt = optim.Adam()
    assert opt.update(p, grads, float(value)) is p and opt.skipped == 1 and opt.m is None


def test_a_saturated_gate_never_puts_a_nan_in_the_parameters() -> None:
    """With the bounded √ the step is taken; were it not bounded, it would be skipped."""
    params = saturated()
    x, y = RNG.integers(0, 11, (2, 6)), RNG.integers(0, 11, (2, 6))
    with np.errstate(all="ignore"):
        value, grads = backend.value_and_grad(lambda p, a, b: griffin.loss(p, a, b, CFG))(params, x, y)
    opt = optim.Adam()
    new = opt.update(params, grads, float(value))
    assert opt.last_skipped == (not optim.finite(grads))
    assert all(np.all(np.isfinite(leaf)) for leaf in flatten(new)[0])


@pytest.mark.parametrize("pre_activation", [-13.0, -15.0, -20.0])
def test_the_griffin_gradient_at_a_saturated_gate_is_finite(pre_activation: float) -> None:
    """The multiplier's √ has its derivative bounded at 1000, as in the reference."""
    params = saturated(pre_activation)
    x, y = RNG.integers(0, 11, (2, 6)), RNG.integers(0, 11, (2, 6))
    with np.errstate(all="ignore"):
        _, grads = backend.value_and_grad(lambda p, a, b: griffin.loss(p, a, b, CFG))(params, x, y)
    assert optim.finite(grads)
