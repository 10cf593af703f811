"""Neural-network helpers: activations, normalisers (composites: log-sum-exp, softmax), and the
sequence primitives the models use (a linear recurrence, a causal depthwise convolution).

They live at the ``backend.numpy`` level, so models written ``bnp.softmax(x)`` keep one namespace;
``backend.nn`` offers them under JAX's ``jax.nn`` names too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import backend.contractions as C
import backend.indexing as I
import backend.primitives as P
from backend.dispatch import bind
from backend.numpy._core import Axis, DType, axes_of, operands, typeof
from backend.numpy._reductions import max, sum
from backend.numpy._shapes import reshape
from backend.numpy._ufuncs import (
    add,
    divide,
    exp,
    greater,
    log,
    maximum,
    multiply,
    stop_gradient,
    subtract,
    where,
)
from calculi.core.errors import ShapeError

__all__ = ["conv1d", "gelu", "linear_scan", "log_softmax", "logistic", "logsumexp", "one_hot", "relu",
           "sigmoid", "silu", "softmax", "softplus", "sqrt_bound_derivative"]


def _unary(p: Any, x: object) -> Any:
    return bind(p, *operands(np.exp, x))


def logistic(x: object) -> Any:
    """``σ(x) = 1/(1+e^{−x})``."""
    return _unary(P.logistic_p, x)


sigmoid = logistic


def softplus(x: object) -> Any:
    """``log(1+e^x)``."""
    return _unary(P.softplus_p, x)


def gelu(x: object, approximate: bool = True) -> Any:
    """GeLU, tanh form: ``½x(1+tanh(√(2/π)(x+0.044715x³)))`` (JAX's default)."""
    if not approximate:
        raise ShapeError("the exact GeLU needs erf, which backend.numpy does not have; use approximate=True")
    return _unary(P.gelu_tanh_p, x)


def relu(x: object) -> Any:
    """``max(x, 0)`` with the derivative 1 where x > 0, else 0 (at 0 too), as ``jax.nn.relu`` has it;
    ``maximum(x, 0)`` alone would split the tie at 0 evenly."""
    return where(greater(x, 0), x, stop_gradient(maximum(x, 0)))


def silu(x: object) -> Any:
    """``x σ(x)``."""
    return multiply(x, logistic(x))


def sqrt_bound_derivative(x: object, max_gradient: float) -> Any:
    """``√x`` whose derivative is bounded by ``max_gradient``: ``d/dx = 1/max(2√x, 1/max_gradient)``
    (finite at 0, where it is ``max_gradient``)."""
    return bind(P.sqrt_bound_derivative_p, *operands(np.exp, x), max_gradient=float(max_gradient))


# -- normalisers ---------------------------------------------------------------------------------

def logsumexp(a: object, axis: Axis = None, b: object = None, keepdims: bool = False) -> Any:
    """``log Σ b·exp a`` over ``axis`` (None: all, as in SciPy and JAX), shifted by the (constant)
    maximum for stability."""
    t = typeof(a)
    m = stop_gradient(max(a, axis=axis, keepdims=True))
    e = exp(subtract(a, m))
    if b is not None:
        e = multiply(e, b)
    out = add(log(sum(e, axis=axis, keepdims=True)), m)
    if keepdims:
        return out
    axes = axes_of(axis, t.ndim)
    return reshape(out, tuple(n for i, n in enumerate(t.shape) if i not in axes))


def log_softmax(x: object, axis: int = -1) -> Any:
    """``x − logsumexp(x)`` along ``axis``."""
    return subtract(x, logsumexp(x, axis=axis, keepdims=True))


def softmax(x: object, axis: int = -1) -> Any:
    """``exp(x − max x) / Σ exp(x − max x)`` along ``axis``."""
    e = exp(subtract(x, stop_gradient(max(x, axis=axis, keepdims=True))))
    return divide(e, sum(e, axis=axis, keepdims=True))


def one_hot(x: object, num_classes: int, dtype: DType = np.float32) -> Any:
    """``x[..., None] == arange(num_classes)`` as ``dtype`` (a zero derivative)."""
    return bind(I.one_hot_p, x, n=int(num_classes), dtype=np.dtype(dtype).name)


# -- sequence primitives -------------------------------------------------------------------------

def linear_scan(a: object, x: object, h0: object | None = None, reverse: bool = False) -> Any:
    """``h_t = a_t ⊙ h_{t−1} + x_t`` over axis 1, from ``h0`` (zero by default)."""
    t = typeof(x)
    if h0 is None:
        h0 = np.zeros((t.shape[0], *t.shape[2:]), t.dtype)
    return bind(C.linear_scan_p, a, x, h0, reverse=reverse)


def conv1d(x: object, w: object) -> Any:
    """Depthwise causal convolution over axis 1: ``y_t = Σ_k w[K−1−k] ⊙ x_{t−k}``."""
    return bind(C.conv1d_p, x, w, reverse=False)
