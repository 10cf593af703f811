"""Reusing traces never gives a stale answer: every value a call depends on is fed or guarded."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import backend
import backend.numpy as bnp
from backend import api, pipeline
from backend.models import mlp
from calculi.core.errors import UsageError

RNG = np.random.default_rng(0)
W = RNG.standard_normal(3)


def scaled(w: Any, s: Any) -> Any:
    return bnp.sum(w * s)


@pytest.mark.parametrize("s", [0.5, 4.0, np.float64(-2.0), 3])
def test_a_scalar_argument_is_read_at_each_call(s: Any) -> None:
    vg = backend.value_and_grad(scaled)
    for t in (0.5, s, 7.25):
        value, g = vg(W, t)
        np.testing.assert_allclose(value, np.sum(W * t), rtol=1e-14)
        np.testing.assert_allclose(g, np.full(3, t), rtol=1e-14)


def test_a_python_float_keeps_the_dtype_of_the_array_it_meets() -> None:
    w32 = W.astype(np.float32)
    value, g = backend.value_and_grad(scaled)(w32, 0.5)
    assert np.asarray(value).dtype == np.float32 and g.dtype == np.float32
    assert backend.jit(scaled)(w32, 0.5).dtype == np.float32


X = np.array([1.0, 2.0, 3.0])
TEMPERATURE = 0.5
CONFIG = {"scale": 2.0}


def captured(w: Any) -> Any:
    return bnp.sum(w * X) * TEMPERATURE * CONFIG["scale"]


def _expected(w: np.ndarray) -> np.ndarray:
    return X * TEMPERATURE * CONFIG["scale"]


def test_what_a_function_reads_besides_its_arguments_is_never_stale() -> None:
    global X, TEMPERATURE
    g = backend.grad(captured)
    np.testing.assert_allclose(g(W), _expected(W))
    X[:] = [4.0, 5.0, 6.0]  # in place
    np.testing.assert_allclose(g(W), _expected(W))
    X = np.array([-1.0, 0.0, 1.0])  # rebound
    np.testing.assert_allclose(g(W), _expected(W))
    TEMPERATURE = 3.0
    np.testing.assert_allclose(g(W), _expected(W))
    CONFIG["scale"] = -1.0
    np.testing.assert_allclose(g(W), _expected(W))
    # the same program every time: one compilation, however many traces
    assert api.traces_of(captured) == 1


def test_a_value_computed_from_a_captured_array_while_tracing_follows_it() -> None:
    data = np.array([1.0, 2.0, 4.0])

    def centred(w: Any) -> Any:
        return bnp.sum(w * (data - data.mean()))  # data.mean() runs in NumPy, while tracing

    g = backend.grad(centred)
    np.testing.assert_allclose(g(W), data - data.mean())
    data[0] = 10.0
    np.testing.assert_allclose(g(W), data - data.mean())


@dataclass
class Model:
    w: np.ndarray

    def loss(self, x: Any) -> Any:
        return bnp.sum(bnp.tanh(x * self.w))


def test_attributes_of_a_bound_method_s_object_are_guarded() -> None:
    m = Model(np.array([1.0, 2.0, 3.0]))
    g = backend.grad(m.loss)
    np.testing.assert_allclose(g(W), m.w * (1 - np.tanh(W * m.w) ** 2))
    m.w = np.array([0.5, 0.5, 0.5])
    np.testing.assert_allclose(g(W), m.w * (1 - np.tanh(W * m.w) ** 2))


def test_a_closure_per_step_shares_one_compilation_and_keeps_nothing_alive() -> None:
    api.clear_cache()
    params = mlp.init([5, 8, 3], 0, np.float64)
    x, y = RNG.standard_normal((64, 5)), RNG.integers(0, 3, 64)
    for step in range(20):
        xb, yb = x[step:step + 16], y[step:step + 16]
        grads = backend.grad(lambda p, xb=xb, yb=yb: mlp.loss(p, xb, yb))(params)
        expected = backend.grad(mlp.loss)(params, xb, yb)
        for a, b in zip(backend.pytree.flatten(grads)[0], backend.pytree.flatten(expected)[0], strict=True):
            np.testing.assert_array_equal(a, b)
    gc.collect()
    assert len(pipeline._COMPILATIONS) == 2  # the closure's program and mlp.loss's
    assert len(pipeline._TRACES) <= 2  # each closure's trace died with it


def test_the_caches_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "TRACES", 4)
    keep = [lambda w, k=k: bnp.sum(w * float(k)) for k in range(10)]
    for k, f in enumerate(keep):
        np.testing.assert_allclose(backend.grad(f)(W), np.full(3, float(k)))
    assert len(pipeline._TRACES) <= 4


def test_static_objects_are_compared_by_value_or_guarded() -> None:
    @dataclass
    class Options:  # not hashable: compared by identity, its fields guarded
        power: int

    def f(w: Any, opts: Options) -> Any:
        return bnp.sum(w ** opts.power)

    opts = Options(2)
    np.testing.assert_allclose(backend.grad(f)(W, opts), 2 * W)
    opts.power = 3
    np.testing.assert_allclose(backend.grad(f)(W, opts), 3 * W**2)


def test_a_cotangent_of_the_wrong_shape_or_structure_is_a_usage_error() -> None:
    _, f_vjp = backend.vjp(lambda w: (w * 2.0, bnp.sum(w)), W)
    with pytest.raises(UsageError, match=r"leaf 0 .* shape \(2,\); it must be \(3,\)"):
        f_vjp((np.ones(2), 1.0))
    with pytest.raises(UsageError, match="structure"):
        f_vjp([np.ones(3), 1.0])
    np.testing.assert_allclose(f_vjp((np.ones(3), 1.0))[0], np.full(3, 3.0))


def test_grad_of_an_integer_output_is_an_error() -> None:
    with pytest.raises(UsageError, match="floating-point output"):
        backend.grad(lambda w: bnp.sum(bnp.astype(w, np.int64)))(W)
