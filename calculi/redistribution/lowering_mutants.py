"""Seeded bugs in the JAX lowering that ``proofs.redistribution.lowering`` must kill.

* ``pieces_merged_minor``: a gathered piece puts the devices' blocks after each row's own elements
  (``moveaxis`` to ``i + 1``), interleaving them instead of concatenating.
* ``pieces_need_not_divide``: a gather in pieces cuts the rows into 4 whatever their number, so that
  the rows past ``4 · (n // 4)`` are never written.
"""

from __future__ import annotations

from typing import Any

from calculi.core.mutants import Mutant, patch
from calculi.redistribution import pieces


def _merge_minor(gathered: Any, i: int) -> Any:
    import jax

    v = jax.numpy.moveaxis(gathered, 0, i + 1)
    return v.reshape((*v.shape[:i], v.shape[i] * v.shape[i + 1], *v.shape[i + 2 :]))


def _four_pieces(rows: int) -> int:
    return min(rows, 4)


LOWERING = "redistribution.lowering"

MUTANTS = [
    Mutant("redistribution.lowering.pieces_merged_minor", "redistribution",
           "a gathered piece puts the devices' blocks minor to each row's own elements",
           lambda: patch(pieces, "merge", _merge_minor), theorems=LOWERING),
    Mutant("redistribution.lowering.pieces_need_not_divide", "redistribution",
           "a gather in pieces cuts the rows into 4 pieces whether or not 4 divides them",
           lambda: patch(pieces, "count", _four_pieces), theorems=LOWERING),
]
