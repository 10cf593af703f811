"""A seeded bug in the inference of ``for i. e`` that the theorems must kill.

* ``inference_last_use``: a use of ``i`` at another index set than the one an earlier use fixed is
  not a conflict; the later use wins (the inferred ``for`` then ranges over the wrong set).
"""

from __future__ import annotations

from calculi.core.mutants import Mutant, patch
from calculi.core.syntax import Span
from calculi.dex.index_inference import IndexInference
from calculi.dex.syntax import IndexVar, Type

_EXPECT = IndexInference.expect


def _last_use_wins(self: IndexInference, ty: Type, want: Type, what: str, span: Span | None,
                   rule: str) -> None:
    if isinstance(ty, IndexVar) and (known := self.unknowns[ty.ident]).solution is not None:
        known.solution, known.fixed_at = self.zonk(want), span
        return
    _EXPECT(self, ty, want, what, span, rule)


INFERENCE_MUTANT = Mutant(
    "dex.inference_last_use", "dex",
    "a second use of i at another index set overrides the first instead of being a type error",
    lambda: patch(IndexInference, "expect", _last_use_wins), "dex.types.inference")
