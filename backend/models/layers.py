"""Layers shared by the models: RMSNorm, an affine map, and a block-diagonal one."""

from __future__ import annotations

from typing import Any

import backend.numpy as bnp

Params = dict[str, Any]


def rms_norm(p: Params, x: Any) -> Any:
    """``x · rsqrt(mean(x²) + 1e−6) · (1 + scale)``."""
    return x * bnp.rsqrt(bnp.mean(bnp.square(x), axis=-1, keepdims=True) + 1e-6) * (p["scale"] + 1.0)


def linear(p: Params, x: Any) -> Any:
    return bnp.matmul(x, p["w"]) + p["b"]


def block_diagonal(p: Params, x: Any, heads: int) -> Any:
    """``einsum("bthi,hij->bthj")`` on x split into ``heads`` blocks."""
    b, t, r = bnp.shape(x)
    xb = bnp.reshape(x, (b, t, heads, r // heads))
    return bnp.reshape(bnp.einsum("bthi,hij->bthj", xb, p["w"]) + p["b"], (b, t, r))
