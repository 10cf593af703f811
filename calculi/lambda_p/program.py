"""Programs: files of top-level items, the prelude, and the table of globals they build.

A file is a sequence of items; an item starts on a line that is not indented and runs until the
next such line (continuation lines are indented). An item is ``def f x = e`` or an expression;
``run`` evaluates the expressions and prints the value of the last one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from importlib import resources

from calculi.core.syntax import Source
from calculi.lambda_p.deep import deep
from calculi.lambda_p.parse import Definition, Parsed, parse_item
from calculi.lambda_p.syntax import UNIT, Term

VARIANT_NAMES = ("icfp24", "pepm22")
_PRELUDES: dict[str, dict[str, Term]] = {}
_DEF = re.compile(r"def\s+([a-z_][A-Za-z0-9_']*)")


def items(source: Source) -> Iterator[Source]:
    """The items of a file, each padded with newlines so that positions stay those of the file."""
    lines = source.text.splitlines()
    start: int | None = None
    for i, text in enumerate([*lines, "end"]):
        stripped = text.strip()
        is_start = i == len(lines) or (stripped and not text[0].isspace() and not stripped.startswith("--"))
        if is_start:
            if start is not None:
                chunk = "\n".join(lines[start:i])
                prefix_len = sum(len(line) + 1 for line in lines[:start])
                yield Source(_pad(source.text, prefix_len) + chunk, source.filename)
            start = i
    return


def _pad(text: str, length: int) -> str:
    """Blank out the first ``length`` characters, keeping the newlines (so offsets match)."""
    return "".join("\n" if c == "\n" else " " for c in text[:length])


@dataclass(slots=True)
class Program:
    """A table of globals (prelude plus definitions) and the expressions of a file."""

    variant: str = "icfp24"
    defs: dict[str, Term] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @staticmethod
    def with_prelude(variant: str = "icfp24") -> Program:
        return Program(variant, dict(prelude(variant)))

    def add(self, source: Source) -> Parsed:
        """Parse one item; a definition enters the table."""
        parsed = deep(partial(parse_item, source, self.defs, self.variant))
        self.warnings.extend(parsed.warnings)
        if isinstance(parsed.item, Definition):
            self.defs[parsed.item.name] = parsed.item.term
        return parsed

    def declare(self, source: Source) -> list[Source]:
        """The items of a file, its definitions declared first (so they may refer to each other)."""
        chunks = list(items(source))
        for chunk in chunks:
            match = _DEF.match(chunk.text.lstrip())
            if match and match.group(1) not in self.defs:
                self.defs[match.group(1)] = UNIT
        return chunks

    def load(self, source: Source) -> list[Term]:
        """All items of a file; the expressions, in order."""
        out: list[Term] = []
        for item in self.declare(source):
            parsed = self.add(item)
            if not isinstance(parsed.item, Definition):
                out.append(parsed.item)
        return out


def prelude(variant: str = "icfp24") -> dict[str, Term]:
    """The prelude's globals for a variant (parsed once, then shared)."""
    if variant not in _PRELUDES:
        program = Program(variant, {})
        sources = [
            Source(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"), name)
            for name in ("prelude.lp", f"prelude_{variant}.lp")
        ]
        chunks = [chunk for source in sources for chunk in program.declare(source)]
        for chunk in chunks:
            program.add(chunk)
        _PRELUDES[variant] = program.defs
    return _PRELUDES[variant]
