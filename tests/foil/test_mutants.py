"""Each mutant is also killed by a property-based theorem, not only by the fixed capture cases
(which come first in the catalogue so that ``--mutants`` is fast). Slow tier: shrinking takes time."""

from __future__ import annotations

import pytest

from calculi.foil.mutants import MUTANTS
from proofs.registry import THEOREMS, Mutant, check, load_all

load_all("foil")
PROPERTIES = [t for t in THEOREMS.values() if t.calculus == "foil" and t.given is not None]


@pytest.mark.slow
@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_a_property_kills_the_mutant(mutant: Mutant) -> None:
    with mutant.activate():
        for thm in PROPERTIES:
            if not check(thm, "ci", seed=0).ok:
                return
    pytest.fail(f"{mutant.id} survives every property-based theorem")
