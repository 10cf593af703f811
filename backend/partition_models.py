"""Models for the partitioning bridge, written once in ``backend.numpy`` with no sharding in them.

``partition(transformer_layer, "batch=2, model=4", schedule)(params, x)`` partitions the layer by
the schedule alone; the traced inputs are the parameters by key and the input ``x`` as ``in0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import backend.numpy as bnp

Params = dict[str, np.ndarray]


def mlp_loss(params: Params, x: np.ndarray, y: np.ndarray) -> Any:
    """Half the mean squared error of a two-layer perceptron."""
    h = bnp.tanh(x @ params["w1"] + params["b1"])
    return bnp.sum((h @ params["w2"] - y) ** 2) * (0.5 / x.shape[0])


def transformer_layer(params: Params, x: np.ndarray) -> Any:
    """Multi-head attention (heads ``h`` of width ``e``) with a residual, then an MLP with a residual."""
    q = bnp.einsum("bsd,dhe->bshe", x, params["wq"])
    k = bnp.einsum("bsd,dhe->bshe", x, params["wk"])
    v = bnp.einsum("bsd,dhe->bshe", x, params["wv"])
    scores = bnp.exp(bnp.einsum("bqhe,bkhe->bhqk", q, k) * (1.0 / np.sqrt(q.shape[-1])))
    p = scores / bnp.sum(scores, axis=3, keepdims=True)
    r = x + bnp.einsum("bshe,hed->bsd", bnp.einsum("bhqk,bkhe->bqhe", p, v), params["wo"])
    return r + bnp.tanh(r @ params["w1"]) @ params["w2"]


def init_transformer(d: int = 16, heads: int = 4, hidden: int = 64, seed: int = 0) -> Params:
    rng = np.random.default_rng(seed)
    e = d // heads
    scale = 1.0 / np.sqrt(d)
    shapes = {"wq": (d, heads, e), "wk": (d, heads, e), "wv": (d, heads, e), "wo": (heads, e, d),
              "w1": (d, hidden), "w2": (hidden, d)}
    return {name: rng.normal(size=shape) * scale for name, shape in shapes.items()}


def init_mlp(d: int = 16, hidden: int = 32, out: int = 8, seed: int = 0) -> Params:
    rng = np.random.default_rng(seed)
    return {"w1": rng.normal(size=(d, hidden)) / np.sqrt(d), "b1": np.zeros(hidden),
            "w2": rng.normal(size=(hidden, out)) / np.sqrt(hidden)}
