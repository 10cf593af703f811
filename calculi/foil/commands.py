"""``python -m calculi.repl foil``: terms in, normal forms out, plus the foil's own commands.

    > (\\x. \\y. x) y
    \\y1. y
    > :alpha (\\x0. \\x1. x1) (\\x1. \\x0. x0)
    α-equivalent
    > :subst \\y. x [x := y]
    \\y1. y
    > :nbe (\\x. \\y. x) y
    \\y1. y
    > :debruijn \\x. \\y. x
    λ λ 1

Tab completion offers the names typed so far in the session (the foil has no definitions: a name
is a constant of open terms, or a binder).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from calculi.core import registry
from calculi.core.errors import UsageError
from calculi.core.syntax import Source
from calculi.core.trace import Fuel, Step
from calculi.foil import semantics, subst
from calculi.foil.alpha import alpha_equiv
from calculi.foil.baselines.debruijn import DB, DLam, DVar
from calculi.foil.debruijn import to_debruijn
from calculi.foil.names import spell
from calculi.foil.nbe import normalize_by_evaluation
from calculi.foil.normalize import normalize, weak_head
from calculi.foil.parse import Term, parse_source, split_terms
from calculi.foil.pretty import pretty
from calculi.foil.syntax import App, free_names, tokens

_SUBST = re.compile(r"^(?P<term>.*)\[(?P<bindings>[^\[\]]*)\]\s*$", re.DOTALL)
_BINDING = re.compile(r"\s*(?P<name>[A-Za-z_][A-Za-z0-9_']*)\s*:=(?P<value>.*\S)", re.DOTALL)


class Session(registry.Session[Term]):
    name = "foil"

    def __init__(self) -> None:
        super().__init__()
        self.open = True
        self.seen: set[int] = set()
        """The raw names of every term parsed in this session (for completion)."""

    # -- the protocol ------------------------------------------------------------------------

    def parse(self, source: Source) -> Term:
        term = parse_source(source, free=self.open)
        self.seen.update(t if t >= 0 else -2 - t for t in tokens(term) if t != -1)
        return term

    def names(self) -> Iterable[str]:
        return sorted(spell(x) for x in self.seen)

    def trace(self, source: Source) -> Iterator[str]:
        """Every step to the normal form, at most ``min(fuel, TRACE_STEPS)`` of them; running out
        points at the input."""
        term = self.parse(source)
        yield self.show(term)
        for nxt in semantics.trace(term, self.fuel_limit, term.span):
            yield f"--> [{nxt.rule}] {self.show(nxt.term)}"

    def show(self, term: Term) -> str:
        return pretty(term)

    def evaluate(self, term: Term, fuel: Fuel) -> str:
        return pretty(normalize(term, fuel))

    def step(self, term: Term) -> Step[Term] | None:
        return semantics.step(term)

    def type_of(self, term: Term) -> str:
        raise UsageError("the untyped λ-calculus has no types (try :whnf, :nf or :debruijn)")

    def load(self, source: Source) -> Iterator[str]:
        """Each term of the file (one per line; a ``let`` may span lines), in normal form."""
        for lineno, chunk in split_terms(source.text):
            yield self.input(Source(chunk, source.filename, first_line=lineno))

    def settings(self) -> Mapping[str, Callable[[str], str]]:
        return {"open": self._set_open}

    def commands(self) -> Mapping[str, registry.Command]:
        return {
            c.name: c
            for c in [
                registry.Command("nf", ":nf TERM", "the β-normal form (normal order)", self._nf),
                registry.Command("whnf", ":whnf TERM", "the weak-head normal form", self._whnf),
                registry.Command("nbe", ":nbe TERM", "the β-normal form by evaluation (shares arguments)",
                                 self._nbe),
                registry.Command("alpha", ":alpha A B", "are A and B α-equivalent? (parenthesise λs)",
                                 self._alpha),
                registry.Command("subst", ":subst TERM [x := A, y := B]",
                                 "capture-avoiding simultaneous substitution, applied once", self._subst),
                registry.Command("debruijn", ":debruijn TERM", "the term with de Bruijn indices",
                                 self._debruijn),
            ]
        }

    # -- commands --------------------------------------------------------------------------------

    def _term(self, args: str, usage: str) -> Term:
        if not args.strip():
            raise UsageError(f"usage: {usage}")
        return self.parse(Source(args, "<input>"))

    def _nf(self, args: str) -> str:
        return self.evaluate(self._term(args, ":nf TERM"), Fuel(self.fuel_limit))

    def _nbe(self, args: str) -> str:
        return pretty(normalize_by_evaluation(self._term(args, ":nbe TERM"), Fuel(self.fuel_limit)))

    def _whnf(self, args: str) -> str:
        return pretty(weak_head(self._term(args, ":whnf TERM"), Fuel(self.fuel_limit)))

    def _alpha(self, args: str) -> str:
        both = self._term(args, ":alpha A B")
        if not isinstance(both, App):
            raise UsageError("usage: :alpha A B, two terms side by side; parenthesise λs: "
                             ":alpha (\\x. x) (\\y. y)", both.span)
        if isinstance(both.fun, App) and not _bracketed(both.fun):
            raise UsageError("usage: :alpha A B takes two terms; parenthesise an application: "
                             ":alpha (f x) y", both.span)
        same = alpha_equiv(both.fun, both.arg)
        return "α-equivalent" if same else "not α-equivalent"

    def _subst(self, args: str) -> str:
        match = _SUBST.match(args)
        if match is None:
            raise UsageError("usage: :subst TERM [x := A, y := B]")
        term = self._term(match["term"], ":subst TERM [x := A]")
        mapping: dict[str, Any] = {}
        for part in match["bindings"].split(","):
            binding = _BINDING.match(part.rstrip())
            if binding is None:
                raise UsageError(f"usage: :subst TERM [x := A, ...]; cannot read {part.strip()!r}")
            if binding["name"] in mapping:
                raise UsageError(f"usage: :subst TERM [x := A, ...]; {binding['name']} is given twice "
                                 "(the substitution is simultaneous)")
            mapping[binding["name"]] = self._term(binding["value"], ":subst TERM [x := A]")
        return pretty(subst(term, mapping))

    def _debruijn(self, args: str) -> str:
        term = self._term(args, ":debruijn TERM")
        context = sorted(free_names(term))
        return show_debruijn(to_debruijn(term, context), [spell(x) for x in context])

    def _set_open(self, value: str) -> str:
        if value not in ("on", "off"):
            raise UsageError("usage: :set open on|off (may terms have free names?)")
        self.open = value == "on"
        return f"open = {value}"


def _bracketed(term: Term) -> bool:
    """Was ``term`` written in parentheses? (Its span is the inside of them.)"""
    span = term.span
    if span is None:
        return True
    text = span.source.text
    before = text[: span.start].rstrip()
    return before.endswith("(") and text[span.end:].lstrip().startswith(")")


def show_debruijn(term: DB, context: list[str]) -> str:
    """``λ λ 1 0``-style text; free indices are shown by the name they stand for."""
    out: list[str] = []
    stack: list[tuple[DB | str, int, bool]] = [(term, 0, False)]
    while stack:
        t, depth, argument = stack.pop()
        if isinstance(t, str):
            out.append(t)
        elif isinstance(t, DVar):
            free = t.index - depth
            out.append(str(t.index) if free < 0 else context[free] if free < len(context) else f"?{t.index}")
        elif isinstance(t, DLam):
            if argument:
                stack.append((")", depth, False))
            stack.append((t.body, depth + 1, False))
            out.append("(λ " if argument else "λ ")
        else:
            if argument:
                stack.append((")", depth, False))
            stack.append((t.arg, depth, True))
            stack.append((" ", depth, False))
            stack.append((t.fun, depth, isinstance(t.fun, DLam)))
            if argument:
                out.append("(")
    return "".join(out)
