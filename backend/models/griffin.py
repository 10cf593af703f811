"""A Griffin / RecurrentGemma-style language model, written once with ``backend.numpy``.

Per block (the cyclic pattern recurrent, recurrent, attention)::

    r  = x + Temporal(RMSNorm(x))          x' = r + MLP(RMSNorm(r))
    RMSNorm(x) = x · rsqrt(mean(x²) + 1e−6) · (1 + scale)
    Recurrent:  g = gelu(W_y x + b_y);  u = RG-LRU(Conv1D(W_x x + b_x));  out = W_out (u ⊙ g) + b_out
    RG-LRU:     r_t = σ(W_a u_t + b_a), i_t = σ(W_i u_t + b_i)          (block-diagonal gates)
                log a_t = −c · r_t · softplus(Λ'), c = 8                 (a = σ(Λ), Λ' = −Λ)
                h_t = a_t ⊙ h_{t−1} + √(1 − a_t²) ⊙ (i_t ⊙ u_t)
    Attention:  local sliding-window multi-query attention, RoPE on the first half of each head
    MLP:        W_down (gelu(W_up⁰ x) ⊙ W_up¹ x)
    logits = c_cap · tanh((RMSNorm(x) Eᵀ) / c_cap)                       (embeddings tied)

``forward(params, tokens, config, state)`` runs a whole sequence; with a ``State`` (the recurrence
state, the last K−1 conv inputs and the attention window) it continues a stream chunk by chunk.
``decode(params, cache, tokens, position, config)`` is the same layers one token at a time as a pure
function (state in, state out, the position an array), which ``backend.jit`` compiles once for a
whole stream: ``backend.models.stream`` generates with it, memory flat in the sequence length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

import backend.numpy as bnp
from backend.dispatch import is_traced

Params = dict[str, Any]
PATTERN = ("recurrent", "recurrent", "attention")
C_GATE = 8.0


@dataclass(frozen=True)
class GriffinConfig:
    vocab: int
    width: int  # D
    heads: int  # H (attention heads; also the RG-LRU gate blocks)
    blocks: int
    window: int  # W: a query sees itself and the W−1 keys before it
    lru_width: int = 0  # D_rnn, defaults to D
    mlp_expansion: int = 3
    conv_width: int = 4
    embed_scale: bool = True
    logit_cap: float = 30.0

    def __post_init__(self) -> None:
        if self.lru_width == 0:
            object.__setattr__(self, "lru_width", self.width)
        if self.width % self.heads or self.lru_width % self.heads:
            raise ValueError("width and lru_width must be multiples of heads")

    @property
    def head_dim(self) -> int:
        return self.width // self.heads

    def kind(self, block: int) -> str:
        return PATTERN[block % len(PATTERN)]


PRESETS: dict[str, GriffinConfig] = {
    "tiny": GriffinConfig(vocab=0, width=32, heads=2, blocks=3, window=32),
    "small": GriffinConfig(vocab=0, width=64, heads=2, blocks=3, window=64),
    "medium": GriffinConfig(vocab=0, width=128, heads=4, blocks=6, window=128),
}


def preset(name: str, vocab: int) -> GriffinConfig:
    return replace(PRESETS[name], vocab=vocab)


# -- initialisation ------------------------------------------------------------------------------

def init(cfg: GriffinConfig, seed: int = 0, dtype: Any = np.float32) -> Params:
    """Initialisation as in RecurrentGemma: N(0, 1/fan_in) projections, N(0, s/fan_in) output
    projections with s = 2/blocks, zero biases and norm scales, Λ' on the ring a ∈ [0.9, 0.999]."""
    rng = np.random.default_rng(seed)
    d, r, m, k = cfg.width, cfg.lru_width, cfg.mlp_expansion * cfg.width, cfg.conv_width
    s = 2.0 / cfg.blocks

    def normal(shape: tuple[int, ...], var: float) -> Any:
        return (rng.standard_normal(shape) * math.sqrt(var)).astype(dtype)

    def zeros(*shape: int) -> Any:
        return np.zeros(shape, dtype)

    blocks: list[Params] = []
    for i in range(cfg.blocks):
        block: Params = {"temporal_pre_norm": {"scale": zeros(d)}, "channel_pre_norm": {"scale": zeros(d)}}
        if cfg.kind(i) == "recurrent":
            bw = r // cfg.heads
            u = rng.uniform(0.9**2, 0.999**2, r)
            a_real = 0.5 * np.log(u)
            block["recurrent_block"] = {
                "linear_x": {"w": normal((d, r), 1 / d), "b": zeros(r)},
                "linear_y": {"w": normal((d, r), 1 / d), "b": zeros(r)},
                "linear_out": {"w": normal((r, d), s / r), "b": zeros(d)},
                "conv_1d": {"w": normal((k, r), 0.01 / k), "b": zeros(r)},
                "rg_lru": {
                    "a_param": np.log(np.expm1(-a_real)).astype(dtype),
                    "input_gate": {"w": normal((cfg.heads, bw, bw), 1 / bw), "b": zeros(cfg.heads, bw)},
                    "a_gate": {"w": normal((cfg.heads, bw, bw), 1 / bw), "b": zeros(cfg.heads, bw)},
                },
            }
        else:
            hd = cfg.head_dim
            block["attention_block"] = {
                "proj_q": normal((d, cfg.heads * hd), 1 / d),
                "proj_k": normal((d, hd), 1 / d),
                "proj_v": normal((d, hd), 1 / d),
                "proj_final": {"w": normal((cfg.heads * hd, d), s / d), "b": zeros(d)},
            }
        block["mlp_block"] = {
            "ffw_up": {"w": normal((2, d, m), 1 / d), "b": zeros(2, m)},
            "ffw_down": {"w": normal((m, d), s / m), "b": zeros(d)},
        }
        blocks.append(block)
    return {"embedder": {"input_embedding": normal((cfg.vocab, d), 1 / d)}, "blocks": blocks,
            "final_norm": {"scale": zeros(d)}}


def count(params: Params) -> int:
    from backend.pytree import flatten

    return sum(int(np.size(x)) for x in flatten(params)[0])


# -- state for streaming ---------------------------------------------------------------------------

@dataclass
class State:
    """What a stream keeps between chunks, fixed in size: per recurrent block the last K−1 conv
    inputs and h; per attention block the last W−1 keys, values and their positions."""

    position: int
    blocks: list[dict[str, Any]]


def init_state(cfg: GriffinConfig, batch: int, dtype: Any = np.float32) -> State:
    blocks: list[dict[str, Any]] = []
    for i in range(cfg.blocks):
        if cfg.kind(i) == "recurrent":
            blocks.append({"conv": np.zeros((batch, cfg.conv_width - 1, cfg.lru_width), dtype),
                           "h": np.zeros((batch, cfg.lru_width), dtype)})
        else:
            w = cfg.window - 1
            blocks.append({"k": np.zeros((batch, w, cfg.head_dim), dtype),
                           "v": np.zeros((batch, w, cfg.head_dim), dtype),
                           "pos": np.full(w, -1, np.int64)})
    return State(0, blocks)


# -- layers ----------------------------------------------------------------------------------------

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


def rg_lru(p: Params, x: Any, h0: Any, heads: int) -> Any:
    """The RG-LRU: gates, ``a_t = exp(−c · r_t · softplus(Λ'))`` and the scan
    ``h_t = a_t ⊙ h_{t−1} + √(1−a_t²) ⊙ i_t ⊙ x_t``. A window starts from h_{−1} = h0 with the
    √(1−a²) normalisation also at t = 0 (no document resets inside a window)."""
    gate_x = bnp.logistic(block_diagonal(p["input_gate"], x, heads))
    gate_a = bnp.logistic(block_diagonal(p["a_gate"], x, heads))
    log_a = gate_a * bnp.softplus(p["a_param"]) * (-C_GATE)
    a = bnp.exp(log_a)
    multiplier = bnp.sqrt(1.0 - bnp.exp(log_a * 2.0))
    return bnp.linear_scan(a, x * gate_x * multiplier, h0)


def recurrent_block(p: Params, x: Any, cfg: GriffinConfig, state: dict[str, Any] | None) -> Any:
    """The recurrent block; with ``state``, continues from it and updates it in place."""
    out, cache = recurrent_step(p, x, cfg, state)
    if state is not None:
        state.update({name: np.asarray(value) for name, value in cache.items()})
    return out


def recurrent_step(p: Params, x: Any, cfg: GriffinConfig,
                   cache: dict[str, Any] | None) -> tuple[Any, dict[str, Any]]:
    """``(out, cache')``: the recurrent block over ``x [B,T,D]`` continuing from ``cache`` (the last
    K−1 conv inputs and h), without side effects, so that it also runs traced (``decode``)."""
    g = bnp.gelu(linear(p["linear_y"], x))
    u = linear(p["linear_x"], x)
    k = cfg.conv_width
    if cache is not None:
        u = bnp.concatenate([cache["conv"], u], axis=1)
    c = bnp.conv1d(u, p["conv_1d"]["w"])
    if cache is not None:
        c = c[:, k - 1:]
    c = c + p["conv_1d"]["b"]
    b, _t, r = bnp.shape(c)
    h0 = cache["h"] if cache is not None else np.zeros((b, r), bnp.dtype_of(c))
    h = rg_lru(p["rg_lru"], c, h0, cfg.heads)
    new = {"conv": u[:, -(k - 1):], "h": h[:, -1]} if cache is not None else {}
    return linear(p["linear_out"], h * g), new


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


def attention_block(p: Params, x: Any, cfg: GriffinConfig, state: dict[str, Any] | None,
                    position: int) -> Any:
    """Local attention; with ``state``, continues from it and updates it in place."""
    out, cache = attention_step(p, x, cfg, state, position)
    if state is not None:
        state.update({name: np.asarray(value) for name, value in cache.items()})
    return out


def attention_step(p: Params, x: Any, cfg: GriffinConfig, cache: dict[str, Any] | None,
                   position: Any) -> tuple[Any, dict[str, Any]]:
    """``(out, cache')``: local attention over ``x [B,T,D]`` at positions ``position + t``, after the
    keys and values in ``cache`` (the last W−1, with their positions, −1 for an empty slot). Without
    side effects; ``position`` may be a traced 0-d integer array (``decode``)."""
    b, t, _ = bnp.shape(x)
    hd = cfg.head_dim
    qpos = position + np.arange(t)
    q = rope(bnp.reshape(bnp.matmul(x, p["proj_q"]), (b, t, cfg.heads, hd)), qpos)
    k = rope(bnp.matmul(x, p["proj_k"]), qpos)
    v = bnp.matmul(x, p["proj_v"])
    kpos = qpos
    new: dict[str, Any] = {}
    if cache is None and t > 2 * cfg.window and t % cfg.window == 0:
        return linear(p["proj_final"], _blocked_attention(q, k, v, cfg)), new
    if cache is not None:
        k = bnp.concatenate([cache["k"], k], axis=1)
        v = bnp.concatenate([cache["v"], v], axis=1)
        kpos = (bnp if is_traced(qpos) else np).concatenate([cache["pos"], qpos])
        keep = cfg.window - 1
        new = {"k": k[:, -keep:], "v": v[:, -keep:], "pos": kpos[-keep:]}
    logits = bnp.einsum("bthd,bsd->bhts", q, k) * (1.0 / math.sqrt(hd))
    # A query at q sees the keys k with 0 ≤ q − k < W: itself and the W−1 before it, so the decode
    # cache is exactly W−1 keys (the reference note's "q ≤ k + W" would admit W+1 positions).
    # Positions are integers, so "≥ 0" is "> −1"; "×" of booleans is "and" (traced or not).
    gap = qpos[:, None] - kpos[None, :]
    mask = (gap > -1) * (gap < cfg.window) * (kpos[None, :] > -1)
    probs = bnp.softmax(bnp.where(mask, logits, -1e30), axis=-1)
    out = bnp.reshape(bnp.einsum("bhts,bsd->bthd", probs, v), (b, t, cfg.heads * hd))
    return linear(p["proj_final"], out), new


def _blocked_attention(q: Any, k: Any, v: Any, cfg: GriffinConfig) -> Any:
    """Local attention in blocks of W queries, each against its own block and the one before:
    O(T·W) work and memory instead of O(T²), the same result as the full masked form."""
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
    first = np.arange(2 * w)[None, :] >= w  # block 0 has no previous block
    mask = ((gap >= 0) & (gap < w))[None] & np.where(np.arange(n)[:, None, None] == 0, first[None], True)
    probs = bnp.softmax(bnp.where(mask[:, None], logits, -1e30), axis=-1)
    out = bnp.einsum("bnhqs,bnsd->bnqhd", probs, values)
    return bnp.reshape(out, (b, t, heads * hd))


def mlp_block(p: Params, x: Any) -> Any:
    w, bias = p["ffw_up"]["w"], p["ffw_up"]["b"]
    up0 = bnp.matmul(x, w[0]) + bias[0]
    up1 = bnp.matmul(x, w[1]) + bias[1]
    return linear(p["ffw_down"], bnp.gelu(up0) * up1)


def embed(params: Params, tokens: Any, cfg: GriffinConfig) -> Any:
    """``E[tokens]``, scaled by √D when ``embed_scale``."""
    x = bnp.take(params["embedder"]["input_embedding"], tokens)
    return x * math.sqrt(cfg.width) if cfg.embed_scale else x


def unembed(params: Params, x: Any, cfg: GriffinConfig) -> Any:
    """``c_cap · tanh((RMSNorm(x) Eᵀ) / c_cap)`` (tied embeddings, soft cap when ``logit_cap > 0``)."""
    emb = params["embedder"]["input_embedding"]
    logits = bnp.einsum("btd,vd->btv", rms_norm(params["final_norm"], x), emb)
    if cfg.logit_cap > 0:
        logits = bnp.tanh(logits * (1.0 / cfg.logit_cap)) * cfg.logit_cap
    return logits


def forward(params: Params, tokens: Any, cfg: GriffinConfig, state: State | None = None) -> Any:
    """Logits ``[B, T, V]`` for ``tokens [B, T]``; with ``state``, continues the stream (and
    updates the state in place)."""
    x = embed(params, tokens, cfg)
    position = state.position if state is not None else 0
    for i, p in enumerate(params["blocks"]):
        s = state.blocks[i] if state is not None else None
        h = rms_norm(p["temporal_pre_norm"], x)
        if cfg.kind(i) == "recurrent":
            h = recurrent_block(p["recurrent_block"], h, cfg, s)
        else:
            h = attention_block(p["attention_block"], h, cfg, s, position)
        x = x + h
        x = x + mlp_block(p["mlp_block"], rms_norm(p["channel_pre_norm"], x))
        if state is None:
            x = bnp.checkpoint_name(x, "residual")
    if state is not None:
        state.position += bnp.shape(tokens)[1]
    return unembed(params, x, cfg)


def decode(params: Params, cache: list[dict[str, Any]], tokens: Any, position: Any,
           cfg: GriffinConfig) -> tuple[Any, list[dict[str, Any]]]:
    """One generation step, pure: ``(logits [B, V], cache')`` for ``tokens [B]`` at ``position``.

    ``cache`` is ``State.blocks`` (arrays of fixed shapes) and ``position`` a 0-d integer array, so
    ``backend.jit(decode, static_argnums=4)`` compiles one program for a whole stream. The same
    layers as ``forward``: decoding token by token equals ``forward`` over the whole sequence.
    """
    x = embed(params, bnp.reshape(tokens, (bnp.shape(tokens)[0], 1)), cfg)
    new: list[dict[str, Any]] = []
    for i, p in enumerate(params["blocks"]):
        h = rms_norm(p["temporal_pre_norm"], x)
        if cfg.kind(i) == "recurrent":
            h, s = recurrent_step(p["recurrent_block"], h, cfg, cache[i])
        else:
            h, s = attention_step(p["attention_block"], h, cfg, cache[i], position)
        new.append(s)
        x = x + h
        x = x + mlp_block(p["mlp_block"], rms_norm(p["channel_pre_norm"], x))
    logits = unembed(params, x, cfg)
    return bnp.reshape(logits, (bnp.shape(logits)[0], cfg.vocab)), new


def loss(params: Params, tokens: Any, targets: Any, cfg: GriffinConfig) -> Any:
    """Mean next-token cross-entropy (nats per token)."""
    logits = forward(params, tokens, cfg)
    b, t, v = bnp.shape(logits)
    logp = bnp.log_softmax(logits, axis=-1)
    picked = bnp.sum(logp * bnp.one_hot(targets, v, bnp.dtype_of(logits)))
    return picked * (-1.0 / (b * t))
