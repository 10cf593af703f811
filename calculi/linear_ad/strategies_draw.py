"""Drawing one of a list of options, the generators' basic choice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from hypothesis import strategies as st

T = TypeVar("T")


def choose(draw: Any, options: Sequence[T]) -> T:
    """One of ``options``, shrinking towards the first: an index drawn with ``integers`` (whose
    strategies Hypothesis caches) rather than a new ``sampled_from`` strategy for every list."""
    n = len(options)
    strategy = _INDICES.get(n)
    if strategy is None:
        strategy = _INDICES[n] = st.integers(0, n - 1)
    index: int = draw(strategy)
    return options[index]


_INDICES: dict[int, st.SearchStrategy[int]] = {}
"""``integers(0, n - 1)`` for each n: looking a strategy up here is cheaper than Hypothesis's cache."""
