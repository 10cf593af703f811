"""A Griffin / RecurrentGemma-style language model, written once with ``backend.numpy``.

Per block (the cyclic pattern recurrent, recurrent, attention)::

    r  = x + Temporal(RMSNorm(x))          x' = r + MLP(RMSNorm(r))
    RMSNorm(x) = x · rsqrt(mean(x²) + 1e−6) · (1 + scale)
    Recurrent:  g = gelu(W_y x + b_y);  u = RG-LRU(Conv1D(W_x x + b_x));  out = W_out (u ⊙ g) + b_out
    RG-LRU:     r_t = σ(W_a u_t + b_a), i_t = σ(W_i u_t + b_i)          (block-diagonal gates)
                log a_t = −c · r_t · softplus(Λ'), c = 8                 (a = σ(Λ), Λ' = −Λ)
                h_t = a_t ⊙ h_{t−1} + √(1 − a_t²) ⊙ (i_t ⊙ u_t);  at a document start h_t = i_t ⊙ u_t
    Attention:  local multi-query attention (backend.models.attention), a query at t sees the keys t−W … t,
                RoPE on the first half of each head
    MLP:        W_down (gelu(W_up⁰ x) ⊙ W_up¹ x)
    logits = c_cap · tanh((RMSNorm(x) Eᵀ) / c_cap)                       (embeddings tied)

``forward(params, tokens, config, state, resets)`` runs a whole sequence; with a ``State`` (the
recurrence state, the last K−1 conv inputs and the attention window) it continues a stream chunk by
chunk. Documents start at stream position 0 and wherever ``resets [B, T]`` holds, as the reference's
``segment_pos == 0``: there the RG-LRU forgets h, the convolution and attention do not reach back, so
packed documents do not see each other.
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
from backend.models.attention import attention_block as attention_block
from backend.models.attention import attention_step
from backend.models.layers import Params as Params
from backend.models.layers import block_diagonal as block_diagonal
from backend.models.layers import linear
from backend.models.layers import rms_norm as rms_norm
from calculi.core.errors import ShapeError

PATTERN = ("recurrent", "recurrent", "attention")
C_GATE = 8.0
MAX_SQRT_GRADIENT = 1000.0  # the reference's bound on the derivative of √(1 − a²)


@dataclass(frozen=True)
class GriffinConfig:
    vocab: int
    width: int  # D
    heads: int  # H (attention heads; also the RG-LRU gate blocks)
    blocks: int
    window: int  # W: a query sees itself and the W keys before it
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
    inputs and h; per attention block the last W keys, values and their positions per row (−1: an
    empty slot, or a key of a finished document)."""

    position: int
    blocks: list[dict[str, Any]]


def init_state(cfg: GriffinConfig, batch: int, dtype: Any = np.float32) -> State:
    blocks: list[dict[str, Any]] = []
    for i in range(cfg.blocks):
        if cfg.kind(i) == "recurrent":
            blocks.append({"conv": np.zeros((batch, cfg.conv_width - 1, cfg.lru_width), dtype),
                           "h": np.zeros((batch, cfg.lru_width), dtype)})
        else:
            w = cfg.window
            blocks.append({"k": np.zeros((batch, w, cfg.head_dim), dtype),
                           "v": np.zeros((batch, w, cfg.head_dim), dtype),
                           "pos": np.full((batch, w), -1, np.int64)})
    return State(0, blocks)


# -- layers ----------------------------------------------------------------------------------------

def rg_lru(p: Params, x: Any, h0: Any, heads: int, reset: Any = None) -> Any:
    """The RG-LRU: gates, ``a_t = exp(−c · r_t · softplus(Λ'))`` and the scan
    ``h_t = a_t ⊙ h_{t−1} + √(1−a_t²) ⊙ i_t ⊙ x_t`` from h_{−1} = h0. Where ``reset`` (broadcast to
    [B, T, 1]) is 1, a document starts: a_t = 0 and no normalisation, ``h_t = i_t ⊙ x_t``."""
    gate_x = bnp.logistic(block_diagonal(p["input_gate"], x, heads))
    gate_a = bnp.logistic(block_diagonal(p["a_gate"], x, heads))
    log_a = gate_a * bnp.softplus(p["a_param"]) * (-C_GATE)
    a = bnp.exp(log_a)
    # √'s derivative is unbounded at 0, reached when the gate saturates (a² rounds to 1 in float32):
    # bounded at MAX_SQRT_GRADIENT, as in the reference.
    multiplier = bnp.sqrt_bound_derivative(1.0 - bnp.exp(log_a * 2.0), MAX_SQRT_GRADIENT)
    if reset is not None:
        a = a * (1.0 - reset)
        multiplier = reset + (1.0 - reset) * multiplier
    return bnp.linear_scan(a, x * gate_x * multiplier, h0)


def document_conv1d(u: Any, w: Any, docs: Any) -> Any:
    """``y_t = Σ_j w[K−1−j] ⊙ u_{t−j}`` over the lags j with no document start in (t−j, t]: the causal
    depthwise convolution that does not reach back across a start (``docs [B, T]``, NumPy booleans)."""
    b, t, r = bnp.shape(u)
    k = bnp.shape(w)[0]
    dtype = bnp.dtype_of(u)
    y = u * w[k - 1]
    cut = np.zeros((b, t), bool)  # cut[t]: a start in (t−j, t]
    for j in range(1, min(k, t)):
        cut[:, j:] |= docs[:, 1 : t - j + 1]
        shifted = bnp.concatenate([np.zeros((b, j, r), dtype), u[:, : t - j]], axis=1)
        y = y + shifted * (~cut)[:, :, None].astype(dtype) * w[k - 1 - j]
    return y


def recurrent_block(p: Params, x: Any, cfg: GriffinConfig, state: dict[str, Any] | None,
                    reset: Any = None, docs: Any = None) -> Any:
    """The recurrent block; with ``state``, continues from it and updates it in place."""
    out, cache = recurrent_step(p, x, cfg, state, reset, docs)
    if state is not None:
        state.update({name: np.asarray(value) for name, value in cache.items()})
    return out


def recurrent_step(p: Params, x: Any, cfg: GriffinConfig, cache: dict[str, Any] | None,
                   reset: Any = None, docs: Any = None) -> tuple[Any, dict[str, Any]]:
    """``(out, cache')``: the recurrent block over ``x [B,T,D]`` continuing from ``cache`` (the last
    K−1 conv inputs and h), without side effects, so that it also runs traced (``decode``).
    ``reset`` goes to the RG-LRU; ``docs [B, T]`` (document starts) masks the convolution."""
    g = bnp.gelu(linear(p["linear_y"], x))
    u = linear(p["linear_x"], x)
    k = cfg.conv_width
    b = bnp.shape(u)[0]
    if cache is not None:
        u = bnp.concatenate([cache["conv"], u], axis=1)
        docs = None if docs is None else np.concatenate([np.zeros((b, k - 1), bool), docs], axis=1)
    c = bnp.conv1d(u, p["conv_1d"]["w"]) if docs is None else document_conv1d(u, p["conv_1d"]["w"], docs)
    if cache is not None:
        c = c[:, k - 1:]
    c = c + p["conv_1d"]["b"]
    r = bnp.shape(c)[2]
    h0 = cache["h"] if cache is not None else np.zeros((b, r), bnp.dtype_of(c))
    h = rg_lru(p["rg_lru"], c, h0, cfg.heads, reset)
    new: dict[str, Any] = {}
    if cache is not None:
        tail = u[:, -(k - 1):]
        if docs is not None:  # inputs before a start are never seen again
            after = np.cumsum(docs[:, ::-1], axis=1)[:, ::-1] - docs  # starts after each position
            tail = tail * (after[:, -(k - 1):, None] == 0).astype(bnp.dtype_of(u))
        new = {"conv": tail, "h": h[:, -1]}
    return linear(p["linear_out"], h * g), new


def mlp_block(p: Params, x: Any) -> Any:
    w, bias = p["ffw_up"]["w"], p["ffw_up"]["b"]
    up0 = bnp.matmul(x, w[0]) + bias[0]
    up1 = bnp.matmul(x, w[1]) + bias[1]
    return linear(p["ffw_down"], bnp.gelu(up0) * up1)


def embed(params: Params, tokens: Any, cfg: GriffinConfig) -> Any:
    """``E[tokens]``, scaled by √D when ``embed_scale``."""
    x = params["embedder"]["input_embedding"][tokens]
    return x * math.sqrt(cfg.width) if cfg.embed_scale else x


def unembed(params: Params, x: Any, cfg: GriffinConfig) -> Any:
    """``c_cap · tanh((RMSNorm(x) Eᵀ) / c_cap)`` (tied embeddings, soft cap when ``logit_cap > 0``)."""
    emb = params["embedder"]["input_embedding"]
    logits = bnp.einsum("btd,vd->btv", rms_norm(params["final_norm"], x), emb)
    if cfg.logit_cap > 0:
        logits = bnp.tanh(logits * (1.0 / cfg.logit_cap)) * cfg.logit_cap
    return logits


def documents(resets: Any, batch: int, length: int, position: int) -> tuple[Any, Any, Any]:
    """``(first, docs, start)`` for a chunk at ``position``: where documents start (``first [1|B, T]``,
    the stream's position 0 included), the user's ``resets`` (None when there are none) and the
    position of each token's document start (None likewise), all NumPy."""
    pos = position + np.arange(length)
    first = (pos == 0)[None, :]
    if resets is None:
        return first, None, None
    docs = np.asarray(resets, bool)
    if docs.shape != (batch, length):
        raise ShapeError(f"resets of shape {docs.shape} for tokens of shape {(batch, length)}")
    if not docs.any():
        return first, None, None
    return first | docs, docs, np.maximum.accumulate(np.where(docs, pos, 0), axis=1)


def forward(params: Params, tokens: Any, cfg: GriffinConfig, state: State | None = None,
            resets: Any = None) -> Any:
    """Logits ``[B, T, V]`` for ``tokens [B, T]``; with ``state``, continues the stream (and
    updates the state in place). ``resets [B, T]`` (booleans) marks the first token of each packed
    document: nothing before it is seen from it or after it (the reference's ``segment_pos == 0``)."""
    x = embed(params, tokens, cfg)
    position = state.position if state is not None else 0
    b, t = bnp.shape(tokens)
    first, docs, start = documents(resets, b, t, position)
    reset = first[:, :, None].astype(bnp.dtype_of(x)) if first.any() else None
    for i, p in enumerate(params["blocks"]):
        s = state.blocks[i] if state is not None else None
        h = rms_norm(p["temporal_pre_norm"], x)
        if cfg.kind(i) == "recurrent":
            h = recurrent_block(p["recurrent_block"], h, cfg, s, reset, docs)
        else:
            h = attention_block(p["attention_block"], h, cfg, s, position, start)
        x = x + h
        x = x + mlp_block(p["mlp_block"], rms_norm(p["channel_pre_norm"], x))
        if state is None:
            x = bnp.checkpoint_name(x, "residual")
    if state is not None:
        state.position += t
    return unembed(params, x, cfg)


def decode(params: Params, cache: list[dict[str, Any]], tokens: Any, position: Any,
           cfg: GriffinConfig) -> tuple[Any, list[dict[str, Any]]]:
    """One generation step, pure: ``(logits [B, V], cache')`` for ``tokens [B]`` at ``position``.

    ``cache`` is ``State.blocks`` (arrays of fixed shapes) and ``position`` a 0-d integer array, so
    ``backend.jit(decode, static_argnums=4)`` compiles one program for a whole stream. The same
    layers as ``forward``: decoding token by token equals ``forward`` over the whole sequence. A
    document starts at position 0 only (``forward`` takes ``resets``; a state it leaves holds only
    what the last document may see).
    """
    x = embed(params, bnp.reshape(tokens, (bnp.shape(tokens)[0], 1)), cfg)
    reset = bnp.reshape(bnp.astype(bnp.less(position, 1), bnp.dtype_of(x)), (1, 1, 1))  # position 0
    new: list[dict[str, Any]] = []
    for i, p in enumerate(params["blocks"]):
        h = rms_norm(p["temporal_pre_norm"], x)
        if cfg.kind(i) == "recurrent":
            h, s = recurrent_step(p["recurrent_block"], h, cfg, cache[i], reset)
        else:
            h, s = attention_step(p["attention_block"], h, cfg, cache[i], position)
        new.append(s)
        x = x + h
        x = x + mlp_block(p["mlp_block"], rms_norm(p["channel_pre_norm"], x))
    logits = unembed(params, x, cfg)
    return bnp.reshape(logits, (bnp.shape(logits)[0], cfg.vocab)), new


def loss(params: Params, tokens: Any, targets: Any, cfg: GriffinConfig, resets: Any = None) -> Any:
    """Mean next-token cross-entropy (nats per token); ``resets`` as in ``forward``."""
    logits = forward(params, tokens, cfg, resets=resets)
    b, t, v = bnp.shape(logits)
    logp = bnp.log_softmax(logits, axis=-1)
    picked = bnp.sum(logp * bnp.one_hot(targets, v, bnp.dtype_of(logits)))
    return picked * (-1.0 / (b * t))
