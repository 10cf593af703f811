"""The suite's own quality: rule coverage and what the generators produce.

Each calculus's theorem module declares (with ``every_rule_fires``) a theorem that runs its
generators through its rules and fails when a declared rule never fires, and registers
``distribution``s: predicates over drawn terms whose frequencies ``python -m proofs --coverage``
prints beside the rule table, so that a generator that stops producing what users write shows.

    every_rule_fires("foil", FOIL, "§3", exercise)   # exercise(): run the rules on samples
    distribution("foil", "substitutions", substitutions(), {"a single variable": is_var})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st

from calculi.core import coverage
from proofs.registry import Paper, theorem

__all__ = ["DISTRIBUTIONS", "Distribution", "distribution", "every_rule_fires", "sample"]


def sample(strategy: st.SearchStrategy[Any], n: int, seed: int = 0) -> list[Any]:
    """``n`` values drawn from ``strategy``, the same ones for the same seed."""
    drawn: list[Any] = []

    @hypothesis.seed(seed)
    @hypothesis.settings(max_examples=n, database=None, deadline=None, phases=[Phase.generate],
                         suppress_health_check=list(HealthCheck))
    @hypothesis.given(strategy)
    def draw(value: Any) -> None:
        drawn.append(value)

    draw()
    return drawn


@dataclass(frozen=True, slots=True)
class Distribution:
    calculus: str
    name: str
    strategy: st.SearchStrategy[Any]
    stats: Mapping[str, Callable[[Any], bool]]

    def measure(self, n: int = 500, seed: int = 0) -> list[tuple[str, float]]:
        """The fraction of ``n`` samples for which each predicate holds."""
        values = sample(self.strategy, n, seed)
        return [(label, sum(bool(p(v)) for v in values) / max(1, len(values)))
                for label, p in self.stats.items()]


DISTRIBUTIONS: list[Distribution] = []


def distribution(calculus: str, name: str, strategy: st.SearchStrategy[Any],
                 stats: Mapping[str, Callable[[Any], bool]]) -> None:
    """Register predicates whose frequencies over ``strategy`` ``--coverage`` prints."""
    DISTRIBUTIONS.append(Distribution(calculus, name, strategy, stats))


def every_rule_fires(calculus: str, paper: Paper, section: str,
                     exercise: Callable[[], None]) -> None:
    """Register ``<calculus>.coverage.every_rule_fires``: under ``exercise()`` (the generators'
    samples run through the rules), every rule ``calculus`` declared fires at least once."""

    @theorem(f"{calculus}.coverage.every_rule_fires", paper=paper, section=section,
             label="suite-quality",
             statement=f"the generators reach every declared rule of {calculus}")
    def _() -> None:
        with coverage.recording() as counts:
            exercise()
        never = coverage.missing(counts, calculus)
        assert not never, f"rules that never fired: {', '.join(never)}"
