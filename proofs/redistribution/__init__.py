"""Theorems of the redistribution calculus, checked on generated meshes, types and programs.

Importing this package registers the theorems and mutants. The submodules are imported in a fixed
order (the table lists, and the mutant hunt tries, theorems in registration order): the paper's
properties first, then the ones that go past the paper.
"""

from __future__ import annotations

import importlib

ORDER = ("paper", "optimal", "subaxes", "uneven", "lowering")

for _module in ORDER:
    importlib.import_module(f"{__name__}.{_module}")
