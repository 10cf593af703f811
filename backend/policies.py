"""Checkpoint policies: which non-linear values the unzip saves on the tape, and which it recomputes.

Checkpointing is the paper's free choice in unzipping ``let x = e`` (save ``x`` as a residual, or
copy the binding into the linear half so that it is recomputed there). A policy is a predicate on
the binding; the names follow ``jax.checkpoint_policies``::

    backend.grad(backend.checkpoint(loss, policy=save_only_these_names("residual")))
"""

from __future__ import annotations

from calculi.linear_ad.syntax import LetB, Prim
from calculi.linear_ad.unzip import Policy, recompute_all, save_all

everything_saveable: Policy = save_all
nothing_saveable: Policy = recompute_all


def _prim_name(b: LetB) -> str | None:
    return b.rhs.prim.name if isinstance(b.rhs, Prim) else None


def _label(b: LetB) -> str | None:
    """The label of ``let x = checkpoint_name[label](y)``, else None."""
    if isinstance(b.rhs, Prim) and b.rhs.prim.name == "checkpoint_name":
        label = dict(b.rhs.params).get("label")
        return label if isinstance(label, str) else None
    return None


def dots_saveable(b: LetB) -> bool:
    """Save the results of contractions (einsum, matmul); recompute everything else."""
    return _prim_name(b) == "einsum"


def save_only_these_names(*names: str) -> Policy:
    """Save the values labelled with ``bnp.checkpoint_name(x, name)`` for these names only."""
    chosen = set(names)

    def policy(b: LetB) -> bool:
        label = _label(b)
        return label is not None and label in chosen

    return policy


def save_any_names_but_these(*names: str) -> Policy:
    """Save every labelled value except those with these names."""
    excluded = set(names)

    def policy(b: LetB) -> bool:
        label = _label(b)
        return label is not None and label not in excluded

    return policy


POLICIES: dict[str, Policy] = {
    "everything_saveable": everything_saveable,
    "nothing_saveable": nothing_saveable,
    "dots_saveable": dots_saveable,
    "blocks": save_only_these_names("residual"),
}
