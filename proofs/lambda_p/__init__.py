"""λp (Xie, Johnson, Maclaurin, Paszke): the properties of parallel algebraic effect handlers.

The papers prove no theorem about the untyped λp (PEPM'22 has none; ICFP'24's are about the
typed Fp, checked in ``fp``: Lemmas 6.1 and 6.4, Theorems 6.2, 6.3 and 6.5), so most untyped
rows are derived properties (reference notes §7, P1–P14) checked on generated well-formed
programs; a few are the papers' own examples and counterexamples.

Importing this package registers the theorems, submodule by submodule in a fixed order (the table
lists, and the mutant hunt tries, theorems in registration order), then the mutants.
"""

from __future__ import annotations

import importlib

from calculi.lambda_p.fp_mutants import MUTANTS as FP_MUTANTS
from calculi.lambda_p.mutants import MUTANTS
from proofs.registry import register_mutants

ORDER = ("examples", "depth", "interpreters", "parallel", "laws", "variants", "quality", "fp")

for _module in ORDER:
    importlib.import_module(f"{__name__}.{_module}")

register_mutants(MUTANTS)
register_mutants(FP_MUTANTS)
