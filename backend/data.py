"""Data that ships offline: the digits images (scikit-learn) and the text of ``pydoc_data.topics``.

Nothing is downloaded. ``digits()`` needs scikit-learn (the ``bench`` extra) and says so when it is
missing; ``pydoc_text()`` needs only CPython. Splits are deterministic, and the unigram baseline
(each character predicted from its training frequency) is the bar a language model must clear.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from calculi.core.errors import UsageError

Array = np.ndarray[Any, Any]


@dataclass(frozen=True)
class Classification:
    """A train/test split of a classification data set."""

    x_train: Array
    y_train: Array
    x_test: Array
    y_test: Array
    classes: int


def digits(test_fraction: float = 0.2, seed: int = 0, dtype: Any = np.float32) -> Classification:
    """The 1797 8×8 digit images of scikit-learn's bundled ``load_digits``, scaled to [0, 1]."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise UsageError(
            "the digits data comes with scikit-learn, which is not installed: "
            "pip install 'calculi[bench]' (or pip install scikit-learn)"
        ) from None
    bunch = load_digits()
    x = (np.asarray(bunch.data, np.float64) / 16.0).astype(dtype)
    y = np.asarray(bunch.target, np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = round(len(y) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return Classification(x[train], y[train], x[test], y[test], 10)


@dataclass(frozen=True)
class Text:
    """A character-level corpus: the vocabulary and the train/validation token streams."""

    vocab: str
    train: Array
    valid: Array

    def encode(self, text: str) -> Array:
        index = {c: i for i, c in enumerate(self.vocab)}
        unknown = [c for c in set(text) if c not in index]
        if unknown:
            raise UsageError(f"characters not in the vocabulary: {''.join(sorted(unknown))!r}")
        return np.fromiter((index[c] for c in text), np.int64, len(text))

    def decode(self, tokens: Array) -> str:
        return "".join(self.vocab[int(t)] for t in tokens)


def pydoc_text(valid_fraction: float = 0.1) -> Text:
    """The prose of Python's own ``pydoc_data.topics`` (about 465k characters), topics in name order;
    the last ``valid_fraction`` of the text is the validation set."""
    from pydoc_data.topics import topics

    text = "".join(topics[name] for name in sorted(topics))
    vocab = "".join(sorted(set(text)))
    index = {c: i for i, c in enumerate(vocab)}
    tokens = np.fromiter((index[c] for c in text), np.int64, len(text))
    cut = len(tokens) - round(len(tokens) * valid_fraction)
    return Text(vocab, tokens[:cut], tokens[cut:])


def unigram_loss(train: Array, valid: Array, vocab_size: int) -> float:
    """Cross-entropy (nats per token) of ``valid`` under add-one-smoothed training frequencies."""
    counts = Counter(train.tolist())
    total = len(train) + vocab_size
    return -sum(math.log((counts.get(t, 0) + 1) / total) for t in valid.tolist()) / len(valid)


def windows(tokens: Array, batch: int, length: int, rng: np.random.Generator) -> tuple[Array, Array]:
    """A batch of random windows: inputs ``[B, T]`` and the next-token targets ``[B, T]``."""
    if len(tokens) < length + 1:
        raise UsageError(f"the text has {len(tokens)} tokens, fewer than a window of {length + 1}")
    starts = rng.integers(0, len(tokens) - length, size=batch)
    idx = starts[:, None] + np.arange(length + 1)
    chunk = tokens[idx]
    return chunk[:, :-1], chunk[:, 1:]
