"""The NumPy backend's theorems: Linear A's AD on arrays (``arrays``); calls of transformed functions
that reuse their traces never answering for old values, and promoting dtypes as NumPy does
(``calls``); transformations called with the arguments users pass (``transforms``); and the suite's
own quality, rule coverage and what the generators produce (``coverage``).

Importing this package registers the theorems and mutants; ``calls`` first, since its theorems are the
quick ones that kill its mutants (the mutant hunt tries theorems in registration order), the slower
random programs of ``transforms`` and the coverage theorem last.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

# Under pytest, tests/ is on sys.path and its folder tests/backend would pass for a namespace package
# named ``backend``; the project root goes first so that ``backend`` is the package.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
if getattr(sys.modules.get("backend"), "__file__", "") is None:
    del sys.modules["backend"]

from calculi.core.mutants import Mutant  # noqa: E402
from proofs.registry import Paper  # noqa: E402

YOLO = Paper("YOLO", "You Only Linearize Once: Tangents Transpose to Gradients", "POPL 2023")
GRIFFIN = Paper("Griffin", "Griffin: Mixing Gated Linear Recurrences with Local Attention for Efficient "
                "Language Models (De et al.)", "arXiv:2402.19427")


@contextmanager
def _fresh(patched: Callable[[], AbstractContextManager[None]]) -> Iterator[None]:
    """A mutant's patch, with the caches of traces and compiled programs emptied on the way in and
    out (programs compiled with the right rules must not serve the mutant, nor the mutant's the right
    rules), and a patched rule row firing as the row it replaces (rule coverage)."""
    from backend.api import clear_cache  # (after the path is set, above)
    from backend.rule_coverage import instrument

    clear_cache()
    try:
        with patched():
            instrument()
            yield
    finally:
        clear_cache()


def mutant(id_: str, description: str, patched: Callable[[], AbstractContextManager[None]]) -> Mutant:
    """A seeded bug of the backend: ``patched()`` is the context in which it is in place."""
    return Mutant(id_, "backend", description, lambda: _fresh(patched))


ORDER = ("calls", "arrays", "mutants", "transforms", "second_order", "batching", "coverage")

for _module in ORDER:
    importlib.import_module(f"{__name__}.{_module}")
