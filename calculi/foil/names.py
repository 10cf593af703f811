"""How raw names are spelled: a process-wide, injective table between identifiers and spellings.

At run time a foil name is an ``int`` (calculi.foil.core). Text needs spellings, so the parser
interns each identifier it reads and the printer looks the spelling up. The table is injective
and only grows, so printing and re-parsing a term gives back the very same identifiers (the
round-trip property is exact, not only up to α).

A spelling ``x<n>`` is given the identifier ``n`` when that identifier is still unspelled, so the
terms of lambda-n-ways keep their numbers, and fresh names (the foil picks one past the largest
name in scope) print as the next ``x<n>``. An identifier nobody spelled (a fresh name) is shown
as ``x<n>``, or ``x<n>'``, ``x<n>''``, ... when that spelling already belongs to another name.
"""

from __future__ import annotations

import re
import threading

_NUMBERED = re.compile(r"x(0|[1-9][0-9]*)")


class Spellings:
    """An injective, growing table ``identifier ↔ spelling``."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._names: dict[int, str] = {}
        self._next = 0
        self._lock = threading.Lock()

    def intern(self, spelling: str) -> int:
        """The identifier of ``spelling``, allocating one on first sight."""
        found = self._ids.get(spelling)
        if found is not None:
            return found
        with self._lock:
            found = self._ids.get(spelling)
            if found is not None:
                return found
            numbered = _NUMBERED.fullmatch(spelling)
            if numbered is not None and int(numbered.group(1)) not in self._names:
                identifier = int(numbered.group(1))
            else:
                while self._next in self._names or f"x{self._next}" in self._ids:
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

    def _bind(self, identifier: int, spelling: str) -> None:
        self._ids[spelling] = identifier
        self._names[identifier] = spelling


SPELLINGS = Spellings()


def intern(spelling: str) -> int:
    return SPELLINGS.intern(spelling)


def spell(identifier: int) -> str:
    return SPELLINGS.spell(identifier)
