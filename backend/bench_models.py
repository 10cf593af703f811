"""The benchmark's small workloads, written once with ``backend.numpy``, as users write them.

Attention block (pre-norm, causal, ``H`` heads of width ``K = D/H``)::

    LN(x) = (x − μ) · rsqrt(σ² + ε) · g + b                     (μ, σ² over the last axis)
    q, k, v = LN₁(x) W_{q,k,v}                                   (W: D × H × K)
    a = softmax(mask(q kᵀ / √K))                                 (a query sees itself and the past)
    r = x + (a v) W_o                                            (W_o: H × K × D)
    y = r + gelu(LN₂(r) W₁ + b₁) W₂ + b₂                         (hidden width 4D)

Recurrent network, unrolled by a Python loop: ``h_t = tanh(x_t W + h_{t−1} U + b)`` from
``h_0 = 0``. Each loss is the mean square of the outputs (every state of the RNN). ``backend.peers``
runs these functions unchanged on the other engines.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import backend.numpy as bnp

Params = dict[str, Any]


def _normal(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, dtype: Any) -> Any:
    return (rng.standard_normal(shape) / math.sqrt(fan_in)).astype(dtype)


# -- attention block -------------------------------------------------------------------------------

def attention_init(width: int, heads: int, seed: int = 0, dtype: Any = np.float32) -> Params:
    """``N(0, 1/fan_in)`` projections, unit norm gains, zero biases."""
    rng = np.random.default_rng(seed)
    d, k, m = width, width // heads, 4 * width

    def norm() -> Params:
        return {"g": np.ones(d, dtype), "b": np.zeros(d, dtype)}

    return {
        "ln1": norm(), "ln2": norm(),
        "wq": _normal(rng, (d, heads, k), d, dtype), "wk": _normal(rng, (d, heads, k), d, dtype),
        "wv": _normal(rng, (d, heads, k), d, dtype), "wo": _normal(rng, (heads, k, d), d, dtype),
        "w1": _normal(rng, (d, m), d, dtype), "b1": np.zeros(m, dtype),
        "w2": _normal(rng, (m, d), m, dtype), "b2": np.zeros(d, dtype),
    }


def layer_norm(x: Any, p: Params, eps: float = 1e-5) -> Any:
    """``(x − μ) · rsqrt(σ² + ε) · g + b`` over the last axis."""
    centred = x - bnp.mean(x, axis=-1, keepdims=True)
    var = bnp.mean(bnp.square(centred), axis=-1, keepdims=True)
    return centred * bnp.rsqrt(var + eps) * p["g"] + p["b"]


def attention_block(p: Params, x: Any) -> Any:
    t, k = bnp.shape(x)[1], bnp.shape(p["wq"])[2]
    h = layer_norm(x, p["ln1"])
    q = bnp.einsum("btd,dhk->bhtk", h, p["wq"])
    keys = bnp.einsum("btd,dhk->bhtk", h, p["wk"])
    v = bnp.einsum("btd,dhk->bhtk", h, p["wv"])
    scores = bnp.einsum("bhtk,bhsk->bhts", q, keys) * (1.0 / math.sqrt(k))
    causal = np.tril(np.ones((t, t), bool))
    a = bnp.softmax(bnp.where(causal, scores, -1e9), axis=-1)
    r = x + bnp.einsum("bhtk,hkd->btd", bnp.einsum("bhts,bhsk->bhtk", a, v), p["wo"])
    hidden = bnp.gelu(bnp.matmul(layer_norm(r, p["ln2"]), p["w1"]) + p["b1"])
    return r + bnp.matmul(hidden, p["w2"]) + p["b2"]


def attention_loss(p: Params, x: Any) -> Any:
    return bnp.mean(bnp.square(attention_block(p, x)))


# -- recurrent network -----------------------------------------------------------------------------

def rnn_init(inputs: int, hidden: int, seed: int = 0, dtype: Any = np.float32) -> Params:
    rng = np.random.default_rng(seed)
    return {"w": _normal(rng, (inputs, hidden), inputs, dtype),
            "u": _normal(rng, (hidden, hidden), hidden, dtype), "b": np.zeros(hidden, dtype)}


def rnn_loss(p: Params, x: Any) -> Any:
    """Mean square of every state of ``h_t = tanh(x_t W + h_{t−1} U + b)``, ``x``: B × T × inputs."""
    b, steps = bnp.shape(x)[:2]
    h = bnp.zeros((b, bnp.shape(p["u"])[0]), bnp.dtype_of(x))
    states = []
    for t in range(steps):
        h = bnp.tanh(bnp.matmul(x[:, t], p["w"]) + bnp.matmul(h, p["u"]) + p["b"])
        states.append(h)
    return bnp.mean(bnp.square(bnp.stack(states, axis=1)))
