"""The Griffin model's layers: reference values, causality, locality, streaming with a flat state."""

from __future__ import annotations

import tracemalloc
from dataclasses import replace

import numpy as np

import backend.numpy as bnp
from backend.models import griffin, stream

CFG = griffin.GriffinConfig(vocab=17, width=16, heads=2, blocks=3, window=4)
PARAMS = griffin.init(CFG, seed=1, dtype=np.float64)
RNG = np.random.default_rng(0)


def test_rms_norm_reference_vector() -> None:
    out = griffin.rms_norm({"scale": np.zeros(2, np.float32)}, np.array([0.1, 0.2], np.float32))
    np.testing.assert_allclose(out, [0.6324429, 1.2648858], rtol=1e-6)


def test_rms_norm_is_scale_invariant() -> None:
    x = RNG.standard_normal((3, 8))
    p = {"scale": RNG.standard_normal(8)}
    np.testing.assert_allclose(griffin.rms_norm(p, 7.5 * x), griffin.rms_norm(p, x), rtol=1e-5)


def test_a_is_initialised_on_the_ring() -> None:
    a_param = PARAMS["blocks"][0]["recurrent_block"]["rg_lru"]["a_param"]
    a = np.exp(-bnp.softplus(a_param))
    assert np.all((a >= 0.9) & (a <= 0.999))


def test_soft_cap_bounds_the_logits() -> None:
    big = replace(CFG, logit_cap=0.5)
    logits = griffin.forward(PARAMS, RNG.integers(0, 17, (2, 9)), big)
    assert np.abs(logits).max() < 0.5


def test_the_model_is_causal() -> None:
    tokens = RNG.integers(0, 17, (2, 12))
    changed = tokens.copy()
    changed[:, 7:] = (changed[:, 7:] + 1) % 17
    a, b = griffin.forward(PARAMS, tokens, CFG), griffin.forward(PARAMS, changed, CFG)
    np.testing.assert_allclose(a[:, :7], b[:, :7], rtol=1e-12)
    assert np.abs(a[:, 7:] - b[:, 7:]).max() > 1e-6


def test_attention_is_local() -> None:
    p = PARAMS["blocks"][2]["attention_block"]
    x = RNG.standard_normal((1, 10, 16))
    y = x.copy()
    q = 8
    y[:, q - CFG.window] += 1.0  # just outside the window of query q
    a = griffin.attention_block(p, x, CFG, None, 0)
    b = griffin.attention_block(p, y, CFG, None, 0)
    np.testing.assert_allclose(a[:, q], b[:, q], rtol=1e-12)
    y = x.copy()
    y[:, q - CFG.window + 1] += 1.0  # the oldest position inside the window
    assert np.abs(griffin.attention_block(p, y, CFG, None, 0)[:, q] - a[:, q]).max() > 1e-6


def test_streaming_in_chunks_equals_one_forward_pass() -> None:
    tokens = RNG.integers(0, 17, (2, 23))
    full = griffin.forward(PARAMS, tokens, CFG)
    state = griffin.init_state(CFG, 2, np.float64)
    cuts = [(0, 1), (1, 2), (2, 9), (9, 23)]
    parts = [griffin.forward(PARAMS, tokens[:, a:b], CFG, state) for a, b in cuts]
    np.testing.assert_allclose(np.concatenate(parts, axis=1), full, rtol=1e-10, atol=1e-12)
    assert state.position == 23


def test_score_stream_matches_the_full_loss() -> None:
    tokens = RNG.integers(0, 17, 40)
    loss, n = stream.score_stream(PARAMS, CFG, stream.chunks(tokens, 7, 40))
    want = griffin.loss(PARAMS, tokens[None, :-1], tokens[None, 1:], CFG)
    assert n == 39
    np.testing.assert_allclose(loss, want, rtol=1e-10)


def test_state_size_and_memory_are_flat_in_the_stream_length() -> None:
    state = griffin.init_state(CFG, 1)
    size = stream.state_bytes(state)
    peaks = []
    tokens = RNG.integers(0, 17, 1000)
    for total in (2_000, 8_000):
        tracemalloc.start()
        stream.score_stream(PARAMS, CFG, stream.chunks(tokens, 256, total))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.2 * peaks[0]
    assert stream.state_bytes(state) == size


def test_sampling_is_reproducible() -> None:
    prompt = np.array([1, 2, 3])
    a = list(stream.sample(PARAMS, CFG, prompt, 10, np.random.default_rng(5)))
    b = list(stream.sample(PARAMS, CFG, prompt, 10, np.random.default_rng(5)))
    assert a == b and all(0 <= t < 17 for t in a)


def test_blocked_local_attention_equals_the_masked_form() -> None:
    p = PARAMS["blocks"][2]["attention_block"]
    x = RNG.standard_normal((2, 16, 16))
    blocked = griffin.attention_block(p, x, CFG, None, 0)  # T = 16 > 2W: blocks of W = 4
    masked = griffin.attention_block(p, x, CFG, griffin.init_state(CFG, 2, np.float64).blocks[2], 0)
    np.testing.assert_allclose(blocked, masked, rtol=1e-12, atol=1e-14)
