"""The Griffin model's layers: reference values, causality, locality, streaming with a flat state."""

from __future__ import annotations

import tracemalloc
from dataclasses import replace

import numpy as np
import pytest

import backend.numpy as bnp
from backend import checks
from backend.models import griffin, stream
from calculi.core.errors import ShapeError

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


@pytest.mark.parametrize("length", [10, 16])  # the masked form, and blocks of W (T = 4W)
def test_a_query_sees_itself_and_the_window_keys_before_it(length: int) -> None:
    """As the reference: a query at q sees exactly the positions q − W … q."""
    p = PARAMS["blocks"][2]["attention_block"]
    x = RNG.standard_normal((1, length, 16))
    base = griffin.attention_block(p, x, CFG, None, 0)
    for s in range(length):
        y = x.copy()
        y[:, s] += 1.0
        moved = np.abs(griffin.attention_block(p, y, CFG, None, 0) - base).max(axis=(0, 2)) > 1e-9
        assert list(moved) == [0 <= q - s <= CFG.window for q in range(length)], f"key {s}"


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


def test_blocked_local_attention_equals_the_masked_form_within_documents() -> None:
    p = PARAMS["blocks"][2]["attention_block"]
    x = RNG.standard_normal((2, 16, 16))
    resets = np.zeros((2, 16), bool)
    resets[0, [3, 9]] = resets[1, 8] = True
    _, _, start = griffin.documents(resets, 2, 16, 0)
    blocked = griffin.attention_block(p, x, CFG, None, 0, start)
    masked = griffin.attention_block(p, x, CFG, griffin.init_state(CFG, 2, np.float64).blocks[2], 0, start)
    np.testing.assert_allclose(blocked, masked, rtol=1e-12, atol=1e-14)


# -- documents: resets ------------------------------------------------------------------------------

def test_a_reset_forgets_the_state_and_drops_the_normalisation() -> None:
    p = PARAMS["blocks"][0]["recurrent_block"]["rg_lru"]
    x = RNG.standard_normal((1, 5, 16))
    reset = np.zeros((1, 5, 1))
    reset[0, 2] = 1.0
    h = griffin.rg_lru(p, x, RNG.standard_normal((1, 16)), CFG.heads, reset)
    gate_x = bnp.logistic(griffin.block_diagonal(p["input_gate"], x, CFG.heads))
    np.testing.assert_allclose(h[:, 2], (gate_x * x)[:, 2], rtol=1e-12)
    alone = griffin.rg_lru(p, x[:, 2:], np.zeros((1, 16)), CFG.heads, reset[:, 2:])
    np.testing.assert_allclose(h[:, 2:], alone, rtol=1e-12)


@pytest.mark.parametrize(("first", "second"), [(5, 9), (5, 11), (1, 15), (12, 4)])
def test_a_packed_document_gives_the_logits_it_has_alone(first: int, second: int) -> None:
    """Two documents packed in one row (T = 16 = 4W takes the blocked attention, T = 14 the masked)."""
    a, b = RNG.integers(0, 17, (1, first)), RNG.integers(0, 17, (1, second))
    resets = np.zeros((1, first + second), bool)
    resets[0, first] = True
    packed = griffin.forward(PARAMS, np.concatenate([a, b], axis=1), CFG, resets=resets)
    np.testing.assert_allclose(packed[:, :first], griffin.forward(PARAMS, a, CFG), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(packed[:, first:], griffin.forward(PARAMS, b, CFG), rtol=1e-10, atol=1e-12)


def test_without_resets_documents_leak_into_each_other() -> None:
    a, b = RNG.integers(0, 17, (1, 5)), RNG.integers(0, 17, (1, 9))
    packed = griffin.forward(PARAMS, np.concatenate([a, b], axis=1), CFG)
    assert np.abs(packed[:, 5:] - griffin.forward(PARAMS, b, CFG)).max() > 1e-3


def test_a_stream_starts_a_document() -> None:
    tokens = RNG.integers(0, 17, (2, 9))
    resets = np.zeros((2, 9), bool)
    resets[:, 0] = True
    np.testing.assert_array_equal(griffin.forward(PARAMS, tokens, CFG, resets=resets),
                                  griffin.forward(PARAMS, tokens, CFG))


def test_streaming_packed_documents_in_chunks_equals_one_forward_pass() -> None:
    tokens = RNG.integers(0, 17, (2, 23))
    resets = np.zeros((2, 23), bool)
    resets[0, [5, 9, 20]] = resets[1, [2, 3, 14]] = True  # inside chunks, at a chunk's start, adjacent
    full = griffin.forward(PARAMS, tokens, CFG, resets=resets)
    state = griffin.init_state(CFG, 2, np.float64)
    cuts = [(0, 1), (1, 3), (3, 9), (9, 10), (10, 21), (21, 23)]
    parts = [griffin.forward(PARAMS, tokens[:, a:b], CFG, state, resets[:, a:b]) for a, b in cuts]
    np.testing.assert_allclose(np.concatenate(parts, axis=1), full, rtol=1e-10, atol=1e-12)


def test_the_gradient_with_resets_is_the_finite_difference() -> None:
    x, y = RNG.integers(0, 17, (2, 9)), RNG.integers(0, 17, (2, 9))
    resets = np.zeros((2, 9), bool)
    resets[0, 4] = resets[1, 7] = True

    def loss(p: griffin.Params, a: np.ndarray, b: np.ndarray) -> object:
        return griffin.loss(p, a, b, CFG, resets)

    for fd, g in checks.fd_gradient(loss, PARAMS, (x, y), picks=2, seed=3, eps=1e-5):
        assert abs(fd - g) <= 1e-5 * (abs(fd) + abs(g)) + 1e-8, f"finite difference {fd}, gradient {g}"


def test_resets_of_the_wrong_shape_are_reported() -> None:
    with pytest.raises(ShapeError, match="resets of shape"):
        griffin.forward(PARAMS, RNG.integers(0, 17, (2, 9)), CFG, resets=np.zeros((2, 8), bool))
