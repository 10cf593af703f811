"""Streaming with a fixed-size state: generation and scoring of arbitrarily long token streams.

The Griffin model's state is the RG-LRU state h and the last K−1 conv inputs of each recurrent
block, and the last W keys and values of each attention block; it does not grow with the number
of tokens seen, so memory is flat in the sequence length. ``sample`` generates one token at a
time with one compiled program (``backend.jit`` of ``griffin.decode``); ``score_stream`` feeds a
long stream chunk by chunk (the same state, the same arithmetic as one long forward pass) and
returns its mean cross-entropy.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

import backend
from backend.models import griffin
from backend.models.griffin import GriffinConfig, Params, State, forward, init_state

Array = np.ndarray[Any, Any]


def log_softmax(logits: Array) -> Array:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))  # type: ignore[no-any-return]


DECODE = backend.jit(griffin.decode, static_argnums=4)
"""``griffin.decode`` compiled once per configuration, batch and dtype (the stream's one program)."""


def sample(params: Params, cfg: GriffinConfig, prompt: Array, steps: int, rng: np.random.Generator,
           temperature: float = 1.0, state: State | None = None) -> Iterator[int]:
    """Tokens drawn one at a time after ``prompt`` (a 1-D token array), from softmax(logits/τ)
    (the most likely token when τ ≤ 0). The prompt runs as one chunk through ``forward``; each
    further token is one call of the compiled ``decode`` step. ``state``, if given, continues a
    stream and is advanced in place."""
    dtype = params["embedder"]["input_embedding"].dtype
    state = state if state is not None else init_state(cfg, 1, dtype)
    logits = forward(params, prompt[None, :], cfg, state)[0, -1]
    for _ in range(steps):
        token = draw(logits, rng, temperature)
        yield token
        out, state.blocks = DECODE(params, state.blocks, np.array([token]), np.asarray(state.position), cfg)
        state.position += 1
        logits = out[0]


def draw(logits: Array, rng: np.random.Generator, temperature: float = 1.0) -> int:
    """One token from softmax(logits/τ) by the inverse CDF, with one uniform draw: the first index
    whose cumulative weight exceeds u · Σ weights (a zero-weight token is never drawn); argmax for
    τ ≤ 0."""
    if temperature <= 0:
        return int(np.argmax(logits))
    z = np.asarray(logits, np.float64) * (1.0 / temperature)
    weights = np.cumsum(np.exp(z - z.max()))
    return int(np.searchsorted(weights, rng.random() * weights[-1], side="right"))


def chunks(tokens: Array, size: int, total: int) -> Iterator[Array]:
    """``total`` tokens of ``tokens`` repeated cyclically, in chunks of ``size`` (no big copy)."""
    done = 0
    n = len(tokens)
    while done < total:
        take = min(size, total - done)
        idx = (done + np.arange(take)) % n
        yield tokens[idx]
        done += take


def score_stream(params: Params, cfg: GriffinConfig, stream: Iterable[Array]) -> tuple[float, int]:
    """Mean next-token cross-entropy over a stream of chunks, carrying the fixed-size state
    across chunk boundaries (the last token of a chunk predicts the first of the next)."""
    dtype = params["embedder"]["input_embedding"].dtype
    state = init_state(cfg, 1, dtype)
    total, count = 0.0, 0
    pending: Array | None = None
    for chunk in stream:
        logits = forward(params, chunk[None, :], cfg, state)[0]
        logp = log_softmax(logits)
        if pending is not None:
            total -= float(pending[chunk[0]])
            count += 1
        if len(chunk) > 1:
            total -= float(logp[np.arange(len(chunk) - 1), chunk[1:]].sum())
            count += len(chunk) - 1
        pending = logp[-1]
    return total / max(count, 1), count


def state_bytes(state: State) -> int:
    """The size of the state in bytes (constant along the stream)."""
    return sum(int(np.asarray(v).nbytes) for block in state.blocks for v in block.values())
