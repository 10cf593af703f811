"""Other AD engines running the same models, for benchmarks and cross-checks.

The models are written against ``backend.numpy``'s names, so a namespace with the same names over
another engine's arrays runs them unchanged: ``PeerNumpy`` maps them onto HIPS autograd
(``autograd.numpy``) and JAX (``jax.numpy``), with the scan and the convolution as plain loops and
slices, as one would write them for those engines. ``running_on(namespace)`` swaps the namespace
the models use.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from backend.models import griffin, mlp
from calculi.core.errors import UsageError


def available(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


class PeerNumpy:
    """``backend.numpy``'s model-facing names over another engine's NumPy-like module."""

    def __init__(self, module: Any, stop: Any) -> None:
        self.np = module
        self._stop = stop

    def __getattr__(self, name: str) -> Any:
        return getattr(self.np, name)

    def shape(self, x: Any) -> tuple[int, ...]:
        return tuple(np.shape(x))

    def dtype_of(self, x: Any) -> Any:
        return x.dtype if hasattr(x, "dtype") else np.asarray(getattr(x, "_value", x)).dtype

    def logistic(self, x: Any) -> Any:
        return 0.5 * (self.np.tanh(0.5 * x) + 1.0)

    def softplus(self, x: Any) -> Any:
        return self.np.logaddexp(0.0, x)

    def gelu(self, x: Any) -> Any:
        return 0.5 * x * (1.0 + self.np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))

    def rsqrt(self, x: Any) -> Any:
        return 1.0 / self.np.sqrt(x)

    def stop_gradient(self, x: Any) -> Any:
        return self._stop(x)

    def checkpoint_name(self, x: Any, name: str) -> Any:
        return x

    def take(self, x: Any, idx: Any) -> Any:
        return x[idx]

    def one_hot(self, idx: Any, n: int, dtype: Any = np.float32) -> Any:
        return (self.np.asarray(idx)[..., None] == self.np.arange(n)).astype(dtype)

    def max(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self.np.max(x, axis=axis, keepdims=keepdims)

    def log_softmax(self, x: Any, axis: int = -1) -> Any:
        m = self.stop_gradient(self.np.max(x, axis=axis, keepdims=True))
        return x - m - self.np.log(self.np.sum(self.np.exp(x - m), axis=axis, keepdims=True))

    def softmax(self, x: Any, axis: int = -1) -> Any:
        e = self.np.exp(x - self.stop_gradient(self.np.max(x, axis=axis, keepdims=True)))
        return e / self.np.sum(e, axis=axis, keepdims=True)

    def linear_scan(self, a: Any, x: Any, h0: Any = None) -> Any:
        h = h0 if h0 is not None else self.np.zeros((x.shape[0], *x.shape[2:]), x.dtype)
        out = []
        for t in range(x.shape[1]):
            h = a[:, t] * h + x[:, t]
            out.append(h)
        return self.np.stack(out, axis=1)

    def conv1d(self, x: Any, w: Any) -> Any:
        k, t = w.shape[0], x.shape[1]
        y = x * w[k - 1]
        for lag in range(1, min(k, t)):
            pad = self.np.zeros((x.shape[0], lag, x.shape[2]), x.dtype)
            shifted = self.np.concatenate([pad, x[:, : t - lag]], axis=1)
            y = y + shifted * w[k - 1 - lag]
        return y


@contextmanager
def running_on(namespace: Any) -> Iterator[None]:
    """Run the models with ``namespace`` in place of ``backend.numpy``."""
    modules = (griffin, mlp)
    old = [getattr(m, "bnp") for m in modules]  # noqa: B009  (the models' module attribute)
    for m in modules:
        setattr(m, "bnp", namespace)  # noqa: B010
    try:
        yield
    finally:
        for m, o in zip(modules, old, strict=True):
            setattr(m, "bnp", o)  # noqa: B010


def autograd_numpy() -> PeerNumpy:
    if not available("autograd"):
        raise UsageError("HIPS autograd is not installed: pip install 'calculi[bench]'")
    import autograd.numpy as anp

    return PeerNumpy(anp, lambda x: getattr(x, "_value", x))


def jax_numpy() -> PeerNumpy:
    if not available("jax"):
        raise UsageError("JAX is not installed: pip install 'calculi[jax]'")
    import jax
    import jax.numpy as jnp

    return PeerNumpy(jnp, jax.lax.stop_gradient)


def autograd_value_and_grad(loss: Any) -> Any:
    """The loss and its gradient in the first argument, by HIPS autograd, on the same model code."""
    from autograd import value_and_grad as ag_value_and_grad

    namespace = autograd_numpy()
    vg = ag_value_and_grad(loss)

    def run(*args: Any) -> Any:
        with running_on(namespace):
            return vg(*args)

    return run


def jax_value_and_grad(loss: Any, jit: bool = False) -> Any:
    """The loss and its gradient in the first argument, by JAX, on the same model code (traced once
    per shapes with ``jit``). Call ``jax.config.update("jax_enable_x64", True)`` first for float64."""
    import jax

    namespace = jax_numpy()

    def traced(*args: Any) -> Any:
        with running_on(namespace):
            return loss(*args)

    vg = jax.value_and_grad(traced)
    return jax.jit(vg) if jit else vg
