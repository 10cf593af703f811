"""Local multi-query attention with RoPE, as in RecurrentGemma: a query at t sees the keys
t−W … t (itself and the W before it), none before its document's start.

``attention_step`` is a pure function of the keys and values kept so far (the last W, with their
positions), so ``decode`` compiles it; without a cache and with T a multiple of W above 2W it runs in
blocks of W queries (``_blocked_attention``), O(T·W) instead of O(T²).
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np

import backend.numpy as bnp
from backend.dispatch import is_traced
from backend.models.layers import Params, linear


class Heads(Protocol):
    """What attention needs of a model's configuration."""

    @property
    def heads(self) -> int: ...

    @property
    def head_dim(self) -> int: ...

    @property
    def window(self) -> int: ...


def rope(x: Any, positions: Any, max_wavelength: float = 10_000.0) -> Any:
    """Rotary embedding on the first half of the last axis (rotate-half inside that half).
    ``positions [T]`` is a NumPy array (the angles are then constants of a traced program) or, in
    ``decode``, a traced integer array (the angles are computed in the program, in float64)."""
    d = bnp.shape(x)[-1]
    half = d // 4
    freq = max_wavelength ** (-np.arange(half) / half)
    angle = positions[:, None] * freq[None, :]  # [T, half]
    trig = bnp if is_traced(angle) else np
    extra = (1,) * (len(bnp.shape(x)) - 3)
    dtype = bnp.dtype_of(x)
    cos = trig.cos(angle).astype(dtype).reshape(bnp.shape(x)[1:2] + extra + (half,))
    sin = trig.sin(angle).astype(dtype).reshape(cos.shape)
    x1, x2, rest = x[..., :half], x[..., half : 2 * half], x[..., 2 * half :]
    return bnp.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin, rest], axis=-1)


def attention_block(p: Params, x: Any, cfg: Heads, state: dict[str, Any] | None,
                    position: int, start: Any = None) -> Any:
    """Local attention; with ``state``, continues from it and updates it in place."""
    out, cache = attention_step(p, x, cfg, state, position, start)
    if state is not None:
        state.update({name: np.asarray(value) for name, value in cache.items()})
    return out


def attention_step(p: Params, x: Any, cfg: Heads, cache: dict[str, Any] | None,
                   position: Any, start: Any = None) -> tuple[Any, dict[str, Any]]:
    """``(out, cache')``: local attention over ``x [B,T,D]`` at positions ``position + t``, after the
    keys and values in ``cache`` (the last W, with their positions per row, −1 for an empty slot).
    ``start [B, T]`` (NumPy), where given, is the position at which each query's document starts: no
    earlier key is seen. RoPE takes stream positions (the reference: positions in the document); the
    scores depend on q − k only, so they agree. Without side effects; ``position`` may be a traced
    0-d integer (``decode``)."""
    b, t, _ = bnp.shape(x)
    hd, w = cfg.head_dim, cfg.window
    qpos = position + np.arange(t)
    q = rope(bnp.reshape(bnp.matmul(x, p["proj_q"]), (b, t, cfg.heads, hd)), qpos)
    k = rope(bnp.matmul(x, p["proj_k"]), qpos)
    v = bnp.matmul(x, p["proj_v"])
    floor = np.zeros((1, t), np.int64) if start is None else start
    if cache is None and t > 2 * w and t % w == 0:
        return linear(p["proj_final"], _blocked_attention(q, k, v, cfg, floor)), {}
    kpos = qpos[None, :]
    new: dict[str, Any] = {}
    if cache is not None:
        k = bnp.concatenate([cache["k"], k], axis=1)
        v = bnp.concatenate([cache["v"], v], axis=1)
        xp = bnp if is_traced(qpos) else np
        kpos = xp.concatenate([cache["pos"], xp.broadcast_to(qpos, (b, t))], axis=1)
        new = {"k": k[:, -w:], "v": v[:, -w:], "pos": kpos[:, -w:]}
        if start is not None:  # the keys of a finished document are forgotten
            new["pos"] = np.where(new["pos"] < start[:, -1:], -1, new["pos"])
    logits = bnp.einsum("bthd,bsd->bhts", q, k) * (1.0 / math.sqrt(hd))
    # As the reference: a query at q sees the keys k with 0 ≤ q − k ≤ W (itself and the W before it),
    # none before its document's start (so no empty slot, at −1). Positions are integers, so "≥" is
    # "> … − 1"; "×" of booleans is "and" (traced or not).
    gap = qpos[None, :, None] - kpos[:, None, :]
    mask = (gap > -1) * (gap < w + 1) * (kpos[:, None, :] > floor[:, :, None] - 1)
    probs = bnp.softmax(bnp.where(mask[:, None], logits, -1e30), axis=-1)
    out = bnp.reshape(bnp.einsum("bhts,bsd->bthd", probs, v), (b, t, cfg.heads * hd))
    return linear(p["proj_final"], out), new


def _blocked_attention(q: Any, k: Any, v: Any, cfg: Heads, floor: Any) -> Any:
    """Local attention in blocks of W queries, each against its own block and the one before (which
    hold the keys t−W … t of every query): O(T·W) work and memory instead of O(T²), the same result
    as the full masked form. ``floor [1|B, T]``: each query's document start."""
    b, t, heads, hd = bnp.shape(q)
    w = cfg.window
    n = t // w

    def with_previous(x: Any) -> Any:
        shifted = bnp.concatenate([np.zeros((b, w, hd), bnp.dtype_of(x)), x[:, : t - w]], axis=1)
        return bnp.concatenate([bnp.reshape(shifted, (b, n, w, hd)), bnp.reshape(x, (b, n, w, hd))], axis=2)

    keys, values = with_previous(k), with_previous(v)
    queries = bnp.reshape(q, (b, n, w, heads, hd))
    logits = bnp.einsum("bnqhd,bnsd->bnhqs", queries, keys) * (1.0 / math.sqrt(hd))
    gap = w + np.arange(w)[:, None] - np.arange(2 * w)[None, :]  # query position − key position
    kpos = (np.arange(n)[:, None] - 1) * w + np.arange(2 * w)[None, :]  # [n, 2W]; < 0 before block 0
    seen = kpos[None, :, None, :] >= np.reshape(floor, (-1, n, w, 1))
    mask = ((gap >= 0) & (gap <= w))[None, None] & seen  # [1|B, n, W, 2W]
    probs = bnp.softmax(bnp.where(mask[:, :, None], logits, -1e30), axis=-1)
    out = bnp.einsum("bnhqs,bnsd->bnqhd", probs, values)
    return bnp.reshape(out, (b, t, heads * hd))
