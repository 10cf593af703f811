"""The λp REPL session (``python -m calculi.repl lambda_p``): evaluate, step, trace, desugar.

Inputs are expressions or definitions ``def f x = e``; the prelude (handlers runAccum,
runWeakExcept, runAmb, runRandom, runReader, runState, runSharedState and their helpers) is
loaded. ``:variant pepm22`` switches the (traverse) rule (and the prelude's handlers with it).
"""

from __future__ import annotations

import re
from argparse import ArgumentTypeError
from collections.abc import Callable, Iterable, Iterator, Mapping

from calculi.core import registry
from calculi.core.errors import UsageError
from calculi.core.files import positive_int
from calculi.core.syntax import Source
from calculi.core.trace import Fuel, Step
from calculi.lambda_p.deep import deep
from calculi.lambda_p.fp_pretty import show_row, show_type
from calculi.lambda_p.fp_program import FpProgram
from calculi.lambda_p.parse import PRIM_FUNCTIONS, Definition
from calculi.lambda_p.pretty import show
from calculi.lambda_p.program import VARIANT_NAMES, Item, Program
from calculi.lambda_p.run import MACHINES, run_term, run_text, trace_lines, trace_summary
from calculi.lambda_p.semantics import Machine
from calculi.lambda_p.syntax import Global, Term


class Session(registry.Session[Term]):
    name = "lambda_p"
    prompt = "λp> "

    def __init__(self) -> None:
        super().__init__()
        self.variant = "icfp24"
        self.jobs = 1
        self.machine = "fast"
        self.program = Program.with_prelude(self.variant)
        self.definitions: list[Source] = []
        self.fp: FpProgram | None = None
        """The Fp program of ``:type`` (its prelude loaded at the first use)."""

    # -- the protocol ------------------------------------------------------------------------

    def parse(self, source: Source) -> Term:
        parsed = self.program.expression(source)
        self.pending_warnings = parsed.warnings
        assert not isinstance(parsed.item, Definition)
        return parsed.item

    def show(self, term: Term) -> str:
        return deep(lambda: show(term))

    def evaluate(self, term: Term, fuel: Fuel) -> str:
        heard: list[str] = []
        value = run_text(term, fuel, self.variant, self.jobs, self.machine, heard.append)
        return "\n".join([*heard, value])

    def step(self, term: Term) -> Step[Term] | None:
        machine = Machine(self.variant)
        return deep(lambda: machine.step(term, Fuel(self.fuel_limit)))

    def trace(self, source: Source) -> Iterator[str]:
        """``:trace TERM``: the first and last steps, and how often each rule fired."""
        return trace_summary(self.parse(source), Fuel(self.fuel_limit), self.variant)

    def _full_trace(self, args: str) -> Iterator[str]:
        if not args:
            raise UsageError("usage: :fulltrace TERM")
        return trace_lines(self.parse(Source(args, "<input>")), Fuel(self.fuel_limit), self.variant)

    def names(self) -> Iterable[str]:
        return [*self.program.table.names, *PRIM_FUNCTIONS]

    def incomplete(self, text: str) -> bool:
        """Go on to the next line while a bracket or an array is open (outside strings and
        comments), or after a ';'."""
        depth = 0
        for token in _OPENERS.findall(text):
            if token == "->":
                continue
            if token.strip() in _CLOSE:
                depth -= 1
            elif token[0] in _OPEN:
                depth += 1
        code = _OPENERS.sub(lambda m: m.group() if m.group()[0] not in "\"-" else "", text)
        return depth > 0 or code.rstrip().endswith(";")

    def type_of(self, term: Term) -> str:
        raise UsageError("λp is untyped: :type reads its input as Fp (ICFP'24 §6), with annotations")

    def _type(self, args: str) -> str:
        """``:type E``: E read as Fp, and its type and least effect row; an Fp definition
        (``def``, ``effect``, ``const``) is entered for the next ``:type``s and its type shown."""
        if not args:
            raise UsageError("usage: :type TERM (an Fp term, or def / effect / const)")
        if self.fp is None:
            self.fp = FpProgram.with_prelude()
        before = dict(self.fp.ctx.globals)
        typed = self.fp.add(Source(args, "<input>"))
        if typed is not None:
            _, t, row = typed
            return f"{show_type(t)} | {show_row(row)}"
        added = [name for name, entry in self.fp.ctx.globals.items() if before.get(name) is not entry]
        if added:
            return "\n".join(f"{name} : {show_type(self.fp.ctx.globals[name][0])}" for name in added)
        return "effect declared"

    def input(self, source: Source) -> str:
        before = dict(self.program.table.names)
        seen = len(self.program.warnings)
        parsed = self.program.add(source)
        if isinstance(parsed.item, Definition):
            self.definitions.append(source)
        return "\n".join([*self.program.warnings[seen:], self._carry(parsed.item, before)])

    def load(self, source: Source) -> Iterator[str]:
        """A file: all its items parsed first (an error leaves the session as it was), then run."""
        before = dict(self.program.table.names)
        seen = len(self.program.warnings)
        loaded = self.program.load(source)
        self.definitions.append(source)
        yield from self.program.warnings[seen:]
        for item in loaded:
            yield self._carry(item, before)

    def _carry(self, item: Item, before: Mapping[str, Global]) -> str:
        """Run one item: an expression's value, or what a definition did to its name."""
        if not isinstance(item, Definition):
            return self.evaluate(item, Fuel(self.fuel_limit))
        warnings: list[str] = []
        self.program.run(item, lambda term: self._value(term, warnings.append))
        heard = "".join(f"{line}\n" for line in warnings)
        old = before.get(item.name)
        if old is None:
            return f"{heard}{item.name} defined"
        if old.table is self.program.table:
            site = old.table.sites[old.key]
            return f"{heard}{item.name} redefined (definitions made before keep the one of {site})"
        return f"{heard}{item.name} defined (the prelude keeps its own {item.name})"

    def _value(self, term: Term, warn: Callable[[str], None] | None = None) -> Term:
        return run_term(term, Fuel(self.fuel_limit), self.variant, self.jobs, self.machine, warn)

    # -- λp's own commands ---------------------------------------------------------------------

    def commands(self) -> Mapping[str, registry.Command]:
        return {
            "desugar": registry.Command(
                "desugar", ":desugar TERM", "the core λp term an input means", self._desugar
            ),
            "variant": registry.Command(
                "variant", ":variant [icfp24|pepm22]", "show or switch the (traverse) rule", self._variant
            ),
            "defs": registry.Command("defs", ":defs", "the names defined (prelude and yours)", self._defs),
            "type": registry.Command(
                "type", ":type TERM", "the Fp type and effect row of a term (or enter an Fp def)", self._type
            ),
            "fulltrace": registry.Command(
                "fulltrace", ":fulltrace TERM", "every step to the result, with its rule", self._full_trace
            ),
        }

    def settings(self) -> Mapping[str, Callable[[str], str]]:
        return {"jobs": self._set_jobs, "machine": self._set_machine}

    def _desugar(self, args: str) -> str:
        if not args:
            raise UsageError("usage: :desugar TERM")
        term = self.parse(Source(args, "<input>"))
        return "\n".join([*self.pending_warnings, deep(lambda: show(term, sugar=False))])

    def _variant(self, args: str) -> str:
        if not args:
            return f"variant = {self.variant}"
        if args not in VARIANT_NAMES:
            raise UsageError(f"unknown variant {args!r}; variants: {', '.join(VARIANT_NAMES)}")
        program, old = Program.with_prelude(args), self.variant
        self.variant = args
        try:
            for source in self.definitions:
                for item in program.load(source):
                    if isinstance(item, Definition):
                        program.run(item, self._value)
        except BaseException:
            self.variant = old
            raise
        self.program = program
        return f"variant = {args} (traverse rule of {'ICFP’24' if args == 'icfp24' else 'PEPM’22'})"

    def _defs(self, _: str) -> str:
        return " ".join(sorted(self.program.table.names))

    def _set_jobs(self, value: str) -> str:
        try:
            self.jobs = positive_int(value)
        except ArgumentTypeError:
            raise UsageError("usage: :set jobs N (worker processes for (parallel) loops, N ≥ 1)") from None
        return f"jobs = {self.jobs}"

    def _set_machine(self, value: str) -> str:
        if value not in MACHINES:
            raise UsageError(f"usage: :set machine {'|'.join(MACHINES)}")
        self.machine = value
        return f"machine = {value}"


_OPEN, _CLOSE = "([{⟨<", {")", "]", "}", "⟩", ">"}
_OPENERS = re.compile(r'->|[([{⟨⟩)\]}]|<(?![\s=\-])|(?<!\s)>(?!=)|(?m:^[ \t]*>)|"(?:\\.|[^"\\\n])*"|--[^\n]*')
"""Brackets, the '<' and '>' of arrays (as the grammar tells them from comparisons), strings, comments."""
