"""Compiled generation: ``backend.jit``, the pure decode step of the Griffin model, and sampling with it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backend
import backend.numpy as bnp
from backend import api
from backend.models import griffin, stream
from calculi.core.errors import CalculusError, UsageError

CFG = griffin.GriffinConfig(vocab=17, width=16, heads=2, blocks=3, window=4)
PARAMS = griffin.init(CFG, seed=1, dtype=np.float64)
DECODE = backend.jit(griffin.decode, static_argnums=4)


def decode_all(tokens: np.ndarray, state: griffin.State) -> np.ndarray:
    """Logits of every token of ``tokens [B, T]``, one compiled decode step each, from ``state``."""
    cache, out = state.blocks, []
    for t in range(tokens.shape[1]):
        logits, cache = DECODE(PARAMS, cache, tokens[:, t], np.asarray(state.position + t), CFG)
        out.append(logits)
    return np.stack(out, axis=1)


def test_decoding_token_by_token_equals_forward_past_the_window() -> None:
    tokens = np.random.default_rng(0).integers(0, 17, (2, 3 * CFG.window + 2))
    full = griffin.forward(PARAMS, tokens, CFG)
    stepped = decode_all(tokens, griffin.init_state(CFG, 2, np.float64))
    np.testing.assert_allclose(stepped, full, rtol=1e-10, atol=1e-12)


W = CFG.window


@pytest.mark.parametrize("length", [W, W + 1, 2 * W, 2 * W + 1, 3 * W, 3 * W + 1, 4 * W])
def test_every_path_agrees_at_the_window_edges(length: int) -> None:
    """One forward pass (blocked attention at T = 3W and 4W), one chunk continuing a state (the masked
    form with the cache), chunks of W − 1, W and W + 1 tokens, and the compiled decode step."""
    tokens = np.random.default_rng(length).integers(0, 17, (2, length))
    full = griffin.forward(PARAMS, tokens, CFG)
    one_chunk = griffin.forward(PARAMS, tokens, CFG, griffin.init_state(CFG, 2, np.float64))
    np.testing.assert_allclose(one_chunk, full, rtol=1e-10, atol=1e-12)
    for size in (W - 1, W, W + 1):
        state = griffin.init_state(CFG, 2, np.float64)
        parts = [griffin.forward(PARAMS, tokens[:, a : a + size], CFG, state) for a in range(0, length, size)]
        np.testing.assert_allclose(np.concatenate(parts, axis=1), full, rtol=1e-10, atol=1e-12)
    stepped = decode_all(tokens, griffin.init_state(CFG, 2, np.float64))
    np.testing.assert_allclose(stepped, full, rtol=1e-10, atol=1e-12)


def test_decode_continues_packed_documents() -> None:
    """Decoding after a chunk with document starts: the last document's keys, conv inputs and state only."""
    tokens = np.random.default_rng(3).integers(0, 17, (2, 3 * W))
    resets = np.zeros(tokens.shape, bool)
    resets[0, W + 1] = resets[1, 2 * W - 2] = True
    full = griffin.forward(PARAMS, tokens, CFG, resets=resets)
    state = griffin.init_state(CFG, 2, np.float64)
    head = griffin.forward(PARAMS, tokens[:, : 2 * W], CFG, state, resets[:, : 2 * W])
    tail = decode_all(tokens[:, 2 * W :], state)
    np.testing.assert_allclose(np.concatenate([head, tail], axis=1), full, rtol=1e-10, atol=1e-12)


def test_decode_continues_a_state_left_by_forward() -> None:
    tokens = np.random.default_rng(1).integers(0, 17, (1, 13))
    full = griffin.forward(PARAMS, tokens, CFG)
    state = griffin.init_state(CFG, 1, np.float64)
    head = griffin.forward(PARAMS, tokens[:, :6], CFG, state)
    tail = decode_all(tokens[:, 6:], state)
    np.testing.assert_allclose(np.concatenate([head, tail], axis=1), full, rtol=1e-10, atol=1e-12)


def test_eager_decode_is_the_same_function() -> None:
    tokens = np.random.default_rng(2).integers(0, 17, (2, 7))
    state = griffin.init_state(CFG, 2, np.float64)
    cache = state.blocks
    for t in range(7):
        want, cache_want = griffin.decode(PARAMS, cache, tokens[:, t], np.asarray(t), CFG)
        got, cache = DECODE(PARAMS, cache, tokens[:, t], np.asarray(t), CFG)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
        for a, b in zip(cache_want, cache, strict=True):
            assert a.keys() == b.keys()
            for k in a:
                np.testing.assert_allclose(b[k], a[k], rtol=1e-12, atol=1e-14)


def test_the_state_keeps_its_shapes() -> None:
    state = griffin.init_state(CFG, 1, np.float64)
    shapes = [{k: (np.shape(v), np.asarray(v).dtype) for k, v in s.items()} for s in state.blocks]
    size = stream.state_bytes(state)
    tokens = list(stream.sample(PARAMS, CFG, np.array([1, 2]), 25, np.random.default_rng(0), state=state))
    assert len(tokens) == 25 and state.position == 27
    assert [{k: (np.shape(v), np.asarray(v).dtype) for k, v in s.items()} for s in state.blocks] == shapes
    assert stream.state_bytes(state) == size


def test_one_program_serves_the_whole_stream() -> None:
    def programs() -> int:
        return api.traces_of(griffin.decode)

    list(stream.sample(PARAMS, CFG, np.array([3]), 2, np.random.default_rng(0)))
    before = programs()
    list(stream.sample(PARAMS, CFG, np.array([3, 4, 5]), 30, np.random.default_rng(1)))
    assert programs() == before


def test_sampling_is_deterministic_given_the_rng() -> None:
    prompt = np.array([1, 2, 3])
    a = list(stream.sample(PARAMS, CFG, prompt, 20, np.random.default_rng(7), temperature=0.7))
    b = list(stream.sample(PARAMS, CFG, prompt, 20, np.random.default_rng(7), temperature=0.7))
    c = list(stream.sample(PARAMS, CFG, prompt, 20, np.random.default_rng(8), temperature=0.7))
    assert a == b and a != c and all(0 <= t < CFG.vocab for t in a)


def test_zero_temperature_is_greedy_decoding() -> None:
    prompt = np.array([5, 6])
    tokens = list(stream.sample(PARAMS, CFG, prompt, 9, np.random.default_rng(0), temperature=0.0))
    seq = np.concatenate([prompt, tokens])[None, :]
    logits = griffin.forward(PARAMS, seq, CFG)[0]
    assert tokens == [int(np.argmax(logits[i])) for i in range(len(prompt) - 1, seq.shape[1] - 1)]


def test_draw_follows_the_softmax() -> None:
    logits = np.array([0.0, 1.0, -np.inf, 2.0, 0.5])
    rng = np.random.default_rng(0)
    n = 6_000
    counts = np.bincount([stream.draw(logits, rng, 1.0) for _ in range(n)], minlength=5)
    p = np.exp(logits - logits.max())
    p /= p.sum()
    assert counts[2] == 0
    assert np.all(np.abs(counts / n - p) < 4 * np.sqrt(p * (1 - p) / n) + 1e-12)
    assert stream.draw(logits, rng, 0.0) == 3 and stream.draw(logits, rng, -1.0) == 3


# -- backend.jit -----------------------------------------------------------------------------------

def test_jit_agrees_with_eager_and_does_not_retrace() -> None:
    calls = []

    def f(p: dict[str, np.ndarray], idx: np.ndarray, scale: float) -> dict[str, Any]:
        calls.append(1)
        rows = bnp.take(p["w"], idx, axis=0)
        return {"y": bnp.tanh(bnp.matmul(rows, p["v"]) * scale), "n": bnp.sum(rows, axis=0), "idx": idx}

    g = backend.jit(f)
    rng = np.random.default_rng(0)
    for k in range(3):
        p = {"w": rng.standard_normal((5, 3)), "v": rng.standard_normal((3, 2))}
        idx = rng.integers(0, 5, 4)
        got, want = g(p, idx, 0.5 + k), f(p, idx, 0.5 + k)
        for key in ("y", "n", "idx"):
            np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-14)
    assert len(calls) == 1 + 3  # traced once; the three eager calls
    g(p, rng.integers(0, 5, 6), 1.0)  # a new shape: a new program
    assert len(calls) == 5


def test_jit_static_arguments_are_part_of_the_key() -> None:
    calls = []

    def f(x: np.ndarray, n: int) -> object:
        calls.append(n)
        for _ in range(n):
            x = bnp.sin(x)
        return x

    g = backend.jit(f, static_argnums=1)
    x = np.linspace(0.0, 1.0, 4)
    np.testing.assert_allclose(g(x, 2), np.sin(np.sin(x)))
    np.testing.assert_allclose(g(x + 1.0, 2), np.sin(np.sin(x + 1.0)))
    np.testing.assert_allclose(g(x, 3), np.sin(np.sin(np.sin(x))))
    assert calls == [2, 3]
    with pytest.raises(UsageError, match="hashable"):
        backend.jit(f, static_argnums=1)(x, [2])
    with pytest.raises(UsageError, match="out of range"):
        backend.jit(f, static_argnums=2)(x, 2)


def test_jit_reports_shape_errors_as_calculus_errors() -> None:
    cache = griffin.init_state(CFG, 2, np.float64).blocks
    with pytest.raises(CalculusError):
        DECODE(PARAMS, cache, np.array([1, 2, 3]), np.asarray(0), CFG)  # three tokens, a batch of two
