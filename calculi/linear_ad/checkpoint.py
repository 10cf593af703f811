"""Checkpointing in unzip: the policies that choose, per non-linear binding ``let x̄ = eN``, to
save its value on the tape or to recompute it in the linear half, and the report of what they did.
``calculi.linear_ad.unzip`` re-exports all of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from calculi.linear_ad.coefficients import save_coefficients
from calculi.linear_ad.primitives import SIN
from calculi.linear_ad.syntax import LetB, Prim, Primitive

Policy = Callable[[LetB], bool]
"""Given a non-linear binding ``let x̄ = eN`` of the unzipped program: save it (True) or recompute it."""


def save_all(b: LetB) -> bool:
    return True


def recompute_all(b: LetB) -> bool:
    return False


def save_only(*prims: Primitive) -> Policy:
    """Save bindings whose right-hand side applies one of ``prims``; recompute the rest."""
    chosen = set(prims)
    return lambda b: isinstance(b.rhs, Prim) and b.rhs.prim in chosen


POLICIES: dict[str, Policy] = {
    "save-all": save_all,
    "recompute-all": recompute_all,
    "save-sin": save_only(SIN),
    "save-coefficients": save_coefficients,
}


@dataclass(slots=True)
class UnzipReport:
    """What checkpointing did, per function: recomputed work added to the linear half and dead
    work removed from the non-linear half (each function's own code, calls excluded); the tape
    size Σ|τ_r|; and, in the pass's own names (which do not depend on the policy), the residuals,
    the names the linear half recomputes, and the free variables of what it recomputes."""

    recomputed_work: dict[str, int] = field(default_factory=dict)
    eliminated_work: dict[str, int] = field(default_factory=dict)
    tape_size: dict[str, int] = field(default_factory=dict)
    residuals: dict[str, frozenset[int]] = field(default_factory=dict)
    recomputed_names: dict[str, frozenset[int]] = field(default_factory=dict)
    recomputed_inputs: dict[str, frozenset[int]] = field(default_factory=dict)
