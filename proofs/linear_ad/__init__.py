"""Linear A's theorems (YOLO, POPL 2023; LAFI 2021), checked exactly on generated programs.

Labels P1–P17 are those of reference/linear_ad.md §3; [paper-claim] means the abstract states
it, [derived] that it follows from the authors' rules. Exact means: sympy (symbolic, or 50-digit
evaluation of symbolic values), exact rationals (``Fraction``), or bit-identical floats.

Importing this package registers the theorems and mutants. The submodules are imported in a fixed
order, because the table lists, and the mutant hunt tries, theorems in registration order: the cheap
screening checks first.
"""

from __future__ import annotations

import importlib

ORDER = ("screening", "primitives", "passes", "cost", "rejects", "zeros", "speed", "speed_parse", "speed_jvp",
         "speed_unzip", "speed_transpose", "speed_check", "speed_eval", "syntax", "second_order", "quality",
         "mutants")

for _module in ORDER:
    importlib.import_module(f"{__name__}.{_module}")
