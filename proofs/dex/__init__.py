"""Theorems of Dex, checked on generated well-typed programs.

Importing this package registers the theorems and mutants, in a fixed order: the language's
(round trip, progress, preservation, index ranges, order independence of parallel ``for``),
then the compiler's, then reverse mode's (gradients, linearity, work, parallel transposes), then
the translation into λp's handlers.
"""

from __future__ import annotations

import importlib

ORDER = ("language", "compiler", "ad", "translation")

for _module in ORDER:
    importlib.import_module(f"{__name__}.{_module}")
