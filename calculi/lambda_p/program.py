"""Programs: files of top-level items, the prelude, and the table of globals they build.

A file is a sequence of items; an item starts on a line that is not indented and runs until the
next such line (continuation lines are indented). An item is ``def f x = e`` or an expression.

Top-level names are lexically scoped through the foil: every definition is its own global (a
fresh key of the table), and a reference is resolved once, where it is parsed. So a user
definition named like a prelude one shadows it for the user's code only, and the prelude keeps
its own. A file declares all its names first (its definitions may refer to each other); defining
a name twice in one file is an error, reported before anything runs. In the REPL a later ``def``
rebinds the name, and the definitions made before keep the one they referred to.

A definition whose body is a value (a function, a number, an array …) is defined when the file is
loaded. Any other body (``def xs = iota 5``) is evaluated when the program reaches it, in file
order, and the name is bound to its value; a use before that is stuck with both positions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from importlib import resources

from calculi.core.errors import ScopeError, UsageError
from calculi.core.syntax import Source
from calculi.lambda_p.deep import deep
from calculi.lambda_p.parse import Definition, Parsed, parse_item
from calculi.lambda_p.syntax import Global, Globals, Term, Var, is_value

VARIANT_NAMES = ("icfp24", "pepm22")
_PRELUDES: dict[str, Globals] = {}
_DEF = re.compile(r"\s*def\s+([a-z_][A-Za-z0-9_']*)")

Item = Term | Definition
"""What a file holds, in order: expressions to evaluate, and definitions (those whose body is
not a value are evaluated in their turn; see ``Program.run``)."""


def items(source: Source) -> Iterator[Source]:
    """The items of a file, each knowing the line it starts on, so that positions in it are those
    of the file (an item starts at the beginning of its line)."""
    lines = source.text.splitlines(keepends=True)
    first: int | None = None
    for i, text in enumerate([*lines, "end"]):
        stripped = text.strip()
        is_start = i == len(lines) or (stripped and not text[0].isspace() and not stripped.startswith("--"))
        if is_start:
            if first is not None:
                chunk = "".join(lines[first:i]).rstrip("\r\n")
                yield Source(chunk, source.filename, first + 1)
            first = i


@dataclass(slots=True)
class Program:
    """A table of globals (over the prelude's) and the warnings its items raised."""

    variant: str = "icfp24"
    table: Globals = field(default_factory=Globals)
    warnings: list[str] = field(default_factory=list)

    @staticmethod
    def with_prelude(variant: str = "icfp24") -> Program:
        return Program(variant, Globals(prelude(variant)))

    def add(self, source: Source, defining: Global | None = None) -> Parsed:
        """Parse one item; a definition is bound (and defined, when its body is a value)."""
        parsed = deep(partial(parse_item, source, self.table, self.variant, defining))
        self.warnings.extend(parsed.warnings)
        if isinstance(parsed.item, Definition):
            self.table.bind(parsed.item.glob)
            if is_value(parsed.item.term):
                self.table.define(parsed.item.glob, parsed.item.term)
        return parsed

    def expression(self, source: Source) -> Parsed:
        """Parse one expression (a definition is an error here, and binds nothing)."""
        parsed = deep(partial(parse_item, source, self.table, self.variant))
        if isinstance(parsed.item, Definition):
            raise UsageError("expected an expression; definitions are inputs of their own", parsed.item.span)
        return parsed

    def declare(self, source: Source) -> list[tuple[Source, Global | None]]:
        """The items of a file, each with the global its definition binds, all declared first (so
        that they may refer to each other); a name defined twice is an error."""
        declared: dict[str, Global] = {}
        out: list[tuple[Source, Global | None]] = []
        for chunk in items(source):
            match = _DEF.match(chunk.text)
            glob = None
            if match:
                name, site = match.group(1), chunk.span(match.start(1), match.end(1))
                if name in declared:
                    first = self.table.sites.get(declared[name].key)
                    raise ScopeError(f"{name} is defined twice in this file (first at {first})", site)
                glob = declared[name] = self.table.fresh(name, site)
            out.append((chunk, glob))
        for glob in declared.values():
            self.table.bind(glob)
        return out

    def load(self, source: Source) -> list[Item]:
        """All items of a file, parsed, in order; on an error the names are bound as before."""
        names = dict(self.table.names)
        try:
            return [self.add(chunk, glob).item for chunk, glob in self.declare(source)]
        except BaseException:
            self.table.names = names
            raise

    def expressions(self, source: Source) -> list[Term]:
        """The expressions of a file, whose definitions are loaded (a definition whose body is not
        a value stays pending: use ``load`` and ``run`` to evaluate it in its turn)."""
        return [item for item in self.load(source) if not isinstance(item, Definition)]

    def run(self, item: Item, evaluate: Callable[[Term], Term]) -> Term | None:
        """Carry out one item: an expression's value; a pending definition evaluated and defined."""
        if not isinstance(item, Definition):
            return evaluate(item)
        if item.glob.key not in self.table.terms:
            value = evaluate(item.term)
            if isinstance(value, Var):  # how a continuation reads back
                reason = f"the value of {item.name} is a continuation, which has no term to define"
                raise UsageError(reason, item.span)
            self.table.define(item.glob, value)
        return None


def prelude(variant: str = "icfp24") -> Globals:
    """The prelude's globals for a variant (parsed once, then shared)."""
    if variant not in _PRELUDES:
        program = Program(variant)
        chunks = [
            chunk
            for name in ("prelude.lp", f"prelude_{variant}.lp")
            for chunk in program.declare(
                Source(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"), name)
            )
        ]
        for chunk, glob in chunks:
            item = program.add(chunk, glob).item
            assert isinstance(item, Definition) and is_value(item.term), "the prelude defines values"
        _PRELUDES[variant] = program.table
    return _PRELUDES[variant]
