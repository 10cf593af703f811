"""A multi-layer perceptron classifier, written once with ``backend.numpy``.

``h_{l+1} = tanh(h_l W_l + b_l)``, logits from the last layer, and the mean softmax cross-entropy
``L = −(1/N) Σ_n log softmax(logits_n)[y_n]``. The same functions run eagerly (prediction) and
traced (the gradient of ``loss`` in ``params``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

import backend.numpy as bnp

Params = dict[str, Any]


def init(sizes: Sequence[int], seed: int = 0, dtype: Any = np.float32) -> Params:
    """LeCun-normal weights ``W_l ~ N(0, 1/fan_in)`` and zero biases."""
    rng = np.random.default_rng(seed)
    params: Params = {}
    for i, (m, n) in enumerate(itertools.pairwise(sizes)):
        params[f"layer{i}"] = {
            "w": (rng.standard_normal((m, n)) / np.sqrt(m)).astype(dtype),
            "b": np.zeros(n, dtype),
        }
    return params


def logits(params: Params, x: Any) -> Any:
    layers = [params[k] for k in sorted(params, key=lambda k: int(k.removeprefix("layer")))]
    h = x
    for i, layer in enumerate(layers):
        h = bnp.matmul(h, layer["w"]) + layer["b"]
        if i < len(layers) - 1:
            h = bnp.tanh(h)
    return h


def cross_entropy(z: Any, labels: Any, classes: int) -> Any:
    """Mean of ``−log softmax(z)[label]`` over the rows."""
    logp = bnp.log_softmax(z, axis=-1)
    picked = bnp.sum(bnp.multiply(bnp.one_hot(labels, classes, bnp.dtype_of(z)), logp))
    return bnp.multiply(picked, -1.0 / bnp.shape(z)[0])


def loss(params: Params, x: Any, labels: Any) -> Any:
    z = logits(params, x)
    return cross_entropy(z, labels, bnp.shape(z)[-1])


def accuracy(params: Params, x: Any, labels: Any) -> float:
    return float(np.mean(np.argmax(np.asarray(logits(params, x)), axis=-1) == labels))
