"""The REPL session: ``python -m calculi.repl dex``.

    x = for i:Fin 3. to_real (ordinal i)     define x (checked, evaluated once)
    sum x                                    evaluate, printing the value and its type
    :type run_accum Real \\r. for i:Fin 3. r += x.i
                                             the type, the effect row, and each for: parallel
                                             or sequential, with the row of its body
    :loops PROGRAM                           the same, for the loops alone
    :grad PROGRAM                            the gradient of a Real PROGRAM with respect to the
                                             parameters (closed definitions of reals or tables
                                             of reals), and the transposed program's loops

A file (``:load FILE``) is a series of definitions ``NAME = EXPR`` and programs, each starting at
the beginning of a line; indented lines continue the item above.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from calculi.core import registry
from calculi.core.errors import UsageError
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.dex.ad import Definition, file_gradient
from calculi.dex.check import Checked, check
from calculi.dex.parse import parse_definition, parse_program
from calculi.dex.pretty import show, show_row, show_type
from calculi.dex.semantics import evaluate
from calculi.dex.syntax import PRIMITIVES, Expr, Type
from calculi.dex.values import Value, show_value

DEFINITION = re.compile(r"\s*([a-z_][A-Za-z0-9_']*)\s*=(?!=)")
KEYWORDS = {"for", "let", "in", "if", "then", "else", "case", "of", "run_state", "run_accum",
            "with_reader"}


def describe(checked: Checked) -> str:
    """``τ ! {ρ}``, then one line per ``for``: where, parallel or sequential, its body's row."""
    lines = [f"{show_type(checked.type)} ! {show_row(checked.row)}"]
    for loop, row in sorted(checked.loops, key=lambda lr: lr[0].span.start if lr[0].span else 0):
        kind = "sequential (State)" if any(e.kind == "State" for e in row) else "parallel"
        where = f" at {loop.span.line}:{loop.span.column}" if loop.span else ""
        lines.append(f"  for {loop.index}{where}: {kind}, body ! {show_row(row)}")
    return "\n".join(lines)


class Session(registry.Session[Expr]):
    name = "dex"
    prompt = "dex> "

    def __init__(self) -> None:
        super().__init__()
        self.types: dict[str, Type] = {}
        self.values: dict[str, Value] = {}
        self.last: tuple[Value, Type] | None = None
        """The value of the last input, with its type."""
        self.definitions: list[Definition] = []

    def parse(self, source: Source) -> Expr:
        expr = parse_program(source)
        check(expr, self.types)
        return expr

    def show(self, term: Expr) -> str:
        return show(term)

    def run(self, term: Expr, fuel: Fuel) -> tuple[Value, Checked]:
        checked = check(term, self.types)
        value = evaluate(term, self.values, fuel=fuel, parallel=checked.parallel)
        self.last = value, checked.type
        return value, checked

    def evaluate(self, term: Expr, fuel: Fuel) -> str:
        value, checked = self.run(term, fuel)
        return f"{show_value(value, checked.type)} : {show_type(checked.type)}"

    def type_of(self, term: Expr) -> str:
        return describe(check(term, self.types))

    def input(self, source: Source) -> str:
        defined = self.define(source)
        if defined is None:
            return super().input(source)
        name, checked = defined
        return f"{name} : {show_type(checked.type)}"

    def define(self, source: Source) -> tuple[str, Checked] | None:
        """``NAME = EXPR``: check and evaluate EXPR and bind NAME to it; ``None`` for a program."""
        match = DEFINITION.match(source.text)
        if match is None or match.group(1) in KEYWORDS:
            return None
        name, term = parse_definition(source)
        value, checked = self.run(term, Fuel(self.fuel_limit))
        self.types[name], self.values[name] = checked.type, value
        self.definitions = [d for d in self.definitions if d.name != name]
        self.definitions.append(Definition(name, term, checked.type, value))
        return name, checked

    def gradient(self, program: Expr) -> str:
        """``∂program/∂p`` for each parameter ``p``, then the loops of the transposed program."""
        params, vjp, grads = file_gradient(self.definitions, program, Fuel(self.fuel_limit))
        lines = [f"d/d{p} = {show_value(grads[p], ty)} : {show_type(ty)}" for p, ty in params.items()]
        loops = describe(vjp.checked).splitlines()[1:]
        parallel = sum("parallel" in line and "sequential" not in line for line in loops)
        lines.append(f"transposed program: {len(loops)} for, {parallel} parallel, "
                     f"{len(vjp.checked.sequential)} sequential")
        return "\n".join(lines)

    def load(self, source: Source) -> Iterator[str]:
        for first, text in items(source.text):
            padded = "\n" * (first - 1) + text
            yield self.input(Source(padded, source.filename))

    def commands(self) -> Mapping[str, registry.Command]:
        return {"loops": registry.Command("loops", ":loops PROGRAM",
                                          "each for of the program: parallel or sequential",
                                          self._loops),
                "grad": registry.Command("grad", ":grad PROGRAM",
                                         "the gradient of a Real program in the parameters",
                                         self._grad)}

    def _grad(self, args: str) -> str:
        if not args.strip():
            raise UsageError("usage: :grad PROGRAM")
        return self.gradient(self.parse(Source(args)))

    def _loops(self, args: str) -> str:
        if not args.strip():
            raise UsageError("usage: :loops PROGRAM")
        lines = self.type_of(self.parse(Source(args))).splitlines()[1:]
        return "\n".join(lines) or "(no for)"

    def names(self) -> Iterable[str]:
        return [*self.types, *PRIMITIVES]


def items(text: str) -> Iterator[tuple[int, str]]:
    """The items of a file: each starts at column 0; indented and blank lines continue it."""
    start, lines = 0, list[str]()
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("--", 1)[0]
        if code.strip() and not line[:1].isspace() and lines:
            yield start, "\n".join(lines)
            lines = []
        if code.strip() or lines:
            if not lines:
                start = number
            lines.append(line)
    if lines:
        yield start, "\n".join(lines)
