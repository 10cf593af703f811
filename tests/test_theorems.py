"""pytest collects the theorem catalogue: one test per registered theorem, one per mutant."""

from __future__ import annotations

import os

import pytest

from proofs.registry import Mutant, Theorem, all_mutants, check, hunt, select

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
THEOREMS = select()
MUTANTS = all_mutants()


@pytest.mark.parametrize("thm", THEOREMS, ids=[t.id for t in THEOREMS])
def test_theorem(thm: Theorem) -> None:
    result = check(thm, PROFILE, seed=0)
    if result.status == "skipped":
        pytest.skip(result.message)
    detail = "\n".join(f"{k} = {v}" for k, v in result.counterexample.items())
    assert result.ok, f"{result.message}\n{detail}\nreplay: {result.replay}"
    assert result.examples >= 1


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_mutant_is_killed(mutant: Mutant) -> None:
    assert hunt(mutant, PROFILE, seed=0, shrink=False) is not None, f"mutant {mutant.id} survived"
