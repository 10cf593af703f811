"""Neural-network helpers for ``backend.numpy``: activations, composites of its functions (log-sum-exp,
softmax) and the two sequence primitives the models use (a linear recurrence and a causal depthwise
convolution).

``backend.numpy`` re-exports every name here (``bnp.softmax``), so models keep one namespace. The
helpers look ``backend.numpy``'s functions up when they run, and that module is imported at the end of
this one: either module may be imported first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backend.dispatch import bind

# -- activations ------------------------------------------------------------------------------------

def logistic(x: object) -> Any:
    """``σ(x) = 1/(1+e^{−x})``."""
    return bind("logistic", x)


sigmoid = logistic


def softplus(x: object) -> Any:
    """``log(1+e^x)``."""
    return bind("softplus", x)


def gelu(x: object) -> Any:
    """GeLU, tanh form: ``½x(1+tanh(√(2/π)(x+0.044715x³)))``."""
    return bind("gelu_tanh", x)


# -- normalisers (composites of backend.numpy) ------------------------------------------------------

def logsumexp(x: object, axis: int = -1, keepdims: bool = False) -> Any:
    """``log Σ exp x`` along ``axis``, shifted by the (constant) maximum for stability."""
    m = bnp.stop_gradient(bnp.max(x, axis=axis, keepdims=True))
    out = bnp.add(bnp.log(bnp.sum(bnp.exp(bnp.subtract(x, m)), axis=axis, keepdims=True)), m)
    return out if keepdims else bnp.reshape(out, tuple(n for i, n in enumerate(bnp.shape(out))
                                                       if i != axis % len(bnp.shape(out))))


def log_softmax(x: object, axis: int = -1) -> Any:
    """``x − logsumexp(x)`` along ``axis``."""
    return bnp.subtract(x, logsumexp(x, axis=axis, keepdims=True))


def softmax(x: object, axis: int = -1) -> Any:
    """``exp(x − max x) / Σ exp(x − max x)`` along ``axis``."""
    e = bnp.exp(bnp.subtract(x, bnp.stop_gradient(bnp.max(x, axis=axis, keepdims=True))))
    return bnp.divide(e, bnp.sum(e, axis=axis, keepdims=True))


# -- sequence primitives ----------------------------------------------------------------------------

def linear_scan(a: object, x: object, h0: object | None = None, reverse: bool = False) -> Any:
    """``h_t = a_t ⊙ h_{t−1} + x_t`` over axis 1, from ``h0`` (zero by default)."""
    shape, dtype = bnp.shape(x), bnp.dtype_of(x)
    if h0 is None:
        h0 = np.zeros((shape[0], *shape[2:]), dtype)
    return bind("linear_scan", a, x, h0, reverse=reverse)


def conv1d(x: object, w: object) -> Any:
    """Depthwise causal convolution over axis 1: ``y_t = Σ_k w[K−1−k] ⊙ x_{t−k}``."""
    return bind("conv1d", x, w, reverse=False)


# Last, so that importing this module first works: backend.numpy's last lines import the helpers
# above, which by then are defined.
from backend import numpy as bnp  # noqa: E402
