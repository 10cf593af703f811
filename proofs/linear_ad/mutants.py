"""Linear A's seeded bugs: the passes' (``calculi.linear_ad.mutants``) and two in the small-step
semantics, which only ``linear_ad.semantics.agrees_with_eval`` can see.
"""

from __future__ import annotations

from typing import Any

from calculi.core.mutants import Mutant, patch, patch_entry
from calculi.linear_ad import mutants as linear_mutants
from calculi.linear_ad import semantics
from calculi.linear_ad.syntax import Zero
from proofs.registry import register_mutants

register_mutants(linear_mutants.MUTANTS)


def _bind_reversed(subst: Any, binders: Any, values: Any, atom: Any) -> Any:
    return _correct_bind(subst, binders, tuple(reversed(values)), atom)


_correct_bind = semantics.bind


def _zero_is_one(m: Any, e: Any, subst: Any) -> Any:
    return "0", semantics.lval(e.type.zero(m.domain) + 1), subst


register_mutants([
    Mutant("linear_ad.semantics_bind_reversed", "linear_ad",
           "the small-step let/unpack/call binds a list of values in reverse order",
           lambda: patch(semantics, "bind", _bind_reversed)),
    Mutant("linear_ad.semantics_zero_is_one", "linear_ad", "the small-step rule 0 yields ⟨1⟩",
           lambda: patch_entry(semantics.RULES, Zero, _zero_is_one)),
])
