"""Offline data: the pydoc text, its split and unigram baseline; the digits (with scikit-learn)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from backend import data


def test_pydoc_text_split_and_round_trip() -> None:
    text = data.pydoc_text()
    assert len(text.train) > 400_000 and len(text.valid) > 40_000
    assert text.decode(text.encode("The for statement")) == "The for statement"
    baseline = data.unigram_loss(text.train, text.valid, len(text.vocab))
    assert 2.5 < baseline < np.log(len(text.vocab))


def test_windows_are_next_token_pairs() -> None:
    tokens = np.arange(100)
    x, y = data.windows(tokens, 4, 10, np.random.default_rng(0))
    assert x.shape == y.shape == (4, 10)
    np.testing.assert_array_equal(y, x + 1)


@pytest.mark.skipif(importlib.util.find_spec("sklearn") is None, reason="needs scikit-learn")
def test_digits_split() -> None:
    d = data.digits()
    assert d.x_train.shape == (1438, 64) and d.x_test.shape == (359, 64)
    assert d.x_train.dtype == np.float32 and d.x_train.min() >= 0 and d.x_train.max() <= 1
