"""How raw names are spelled: a process-wide, injective table between identifiers and spellings.

At run time a foil name is an ``int`` (calculi.foil.core) and a scope is a bit set indexed by it,
so identifiers must stay small: every new spelling gets the next unused identifier (0, 1, 2, …),
whatever it looks like. A spelling never chooses its own number: ``x100000000000`` is one more
dense identifier, not bit 10¹¹ of every scope it enters.

The printer looks spellings up, except for binders renamed by substitution or read-back: those
are fresh identifiers nobody spelled, and the printer shows them from the binder's hint (the
spelled name they were renamed from: ``y`` renamed is shown as ``y1``), chosen per printed term so
that the text does not depend on what the process did before (``syntax.display_names``).

The table is injective and only grows, so printing and re-parsing a term with no renamed binder
gives back the very same identifiers (the round-trip property is exact, not only up to α; with
renamed binders it is up to α). An identifier nobody spelled (a fresh name chosen by
``with_fresh``, with no hint) is shown as ``x<n>``, or ``x<n>'``, ``x<n>''``, ... when that
spelling already belongs to another name, and keeps that spelling from then on.
"""

from __future__ import annotations

import re
import threading


class Spellings:
    """An injective, growing table ``identifier ↔ spelling`` with dense identifiers."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._names: dict[int, str] = {}
        self._next = 0
        self.ceiling = 0
        """One past the largest spelled identifier: a fresh name at or above it is no name of
        any text read so far (``core.fresh_unspelled``)."""
        self._lock = threading.Lock()

    def intern(self, spelling: str) -> int:
        """The identifier of ``spelling``, allocating the next unused one on first sight."""
        found = self._ids.get(spelling)
        if found is not None:
            return found
        with self._lock:
            found = self._ids.get(spelling)
            if found is not None:
                return found
            while self._next in self._names:
                self._next += 1
            identifier = self._next
            self._bind(identifier, spelling)
            return identifier

    def spell(self, identifier: int) -> str:
        """The spelling of ``identifier``, inventing (and recording) one for a fresh name."""
        found = self._names.get(identifier)
        if found is not None:
            return found
        with self._lock:
            found = self._names.get(identifier)
            if found is not None:
                return found
            spelling = f"x{identifier}"
            while spelling in self._ids:
                spelling += "'"
            self._bind(identifier, spelling)
            return spelling

    def __len__(self) -> int:
        return len(self._names)

    def _bind(self, identifier: int, spelling: str) -> None:
        self._ids[spelling] = identifier
        self._names[identifier] = spelling
        if identifier >= self.ceiling:
            self.ceiling = identifier + 1


SPELLINGS = Spellings()


def intern(spelling: str) -> int:
    return SPELLINGS.intern(spelling)


def spell(identifier: int) -> str:
    return SPELLINGS.spell(identifier)


_SUFFIX = re.compile(r"[0-9']+$")


def stem(spelling: str) -> str:
    """A spelling without its trailing digits and primes (``x`` if nothing is left): ``y2`` and
    ``y'`` have the stem ``y``."""
    return _SUFFIX.sub("", spelling) or "x"
