"""The suite's own quality for λp: every rule of the semantics fires on the generators' programs
(``lambda_p.coverage.every_rule_fires``), and what the generators produce, as fractions that
``python -m proofs --coverage`` prints: handlers, operations performed, the shapes users write.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from calculi.core import coverage
from calculi.core.errors import CalculusError
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.lambda_p.parse import Definition
from calculi.lambda_p.program import Program, prelude
from calculi.lambda_p.semantics import CALCULUS, Machine
from calculi.lambda_p.strategies import parse_program, program_texts
from calculi.lambda_p.strategies_files import user_files
from calculi.lambda_p.syntax import App, Case, For, Global, Handle, Lam, Term, children
from proofs.lambda_p.fixtures import ICFP24
from proofs.quality import distribution, every_rule_fires, sample

PRELUDE = frozenset(prelude().names)
HANDLERS = frozenset(name for name in PRELUDE if name.startswith("run"))
_DEF = re.compile(r"^def ([a-z_][A-Za-z0-9_']*)")
_WORD = re.compile(r"[a-z_][A-Za-z0-9_']*")


def performed(items: list[str], variant: str = "icfp24") -> Counter[tuple[str, str]]:
    """The rules fired by running REPL inputs on the small-step machine (until one is stuck)."""
    program = Program.with_prelude(variant)
    with coverage.recording() as counts:
        try:
            for text in items:
                item = program.add(Source(text, "<generated>")).item
                program.run(item, lambda term: Machine(variant).evaluate(term, Fuel(400_000)))
        except CalculusError:
            pass
    return counts


def _performs(times: int) -> Callable[[str | list[str]], bool]:
    def check(program: str | list[str]) -> bool:
        items = [program] if isinstance(program, str) else program
        return performed(items)[CALCULUS, "perform"] >= times

    return check


def _text(program: str | list[str]) -> str:
    return program if isinstance(program, str) else "\n".join(program)


def _handlers(program: str | list[str]) -> int:
    text = _text(program)
    return len(re.findall(r"\bhandler? \{", text)) + sum(1 for w in _WORD.findall(text) if w in HANDLERS)


def _shadows(program: str | list[str]) -> bool:
    """A binder named like a prelude definition, or like a generated name bound around it."""
    stack: list[tuple[Term, frozenset[str]]] = [(t, frozenset()) for t in _terms(program)]
    while stack:
        t, around = stack.pop()
        for child, bound in children(t):
            hints = _hints(t, bound)
            if any(h in PRELUDE or (_GENERATED.fullmatch(h) and h in around) for h in hints):
                return True
            stack.append((child, around | hints))
    return False


_GENERATED = re.compile(r"[xisw][0-9]+")


def _hints(t: Term, bound: tuple[int, ...]) -> frozenset[str]:
    """The names (as written) of the binders ``bound`` by ``t`` over one of its children."""
    if not bound:
        return frozenset()
    if isinstance(t, Lam | For):
        return frozenset((t.hint,))
    if isinstance(t, Case):
        return frozenset(h for b in t.branches if b.binders == bound for h in b.hints)
    return frozenset()


def _terms(program: str | list[str]) -> list[Term]:
    if isinstance(program, str):
        return [parse_program(program)]
    table = Program.with_prelude()
    out: list[Term] = []
    for text in program:
        item = table.add(Source(text, "<generated>")).item
        out.append(item.term if isinstance(item, Definition) else item)
    return out


def _handler_in_loop(program: str | list[str]) -> bool:
    """A handle, or a call of a prelude handler, inside the body of a for."""
    stack: list[tuple[Term, bool]] = [(t, False) for t in _terms(program)]
    while stack:
        t, in_loop = stack.pop()
        if in_loop and (isinstance(t, Handle) or (
                isinstance(t, App) and isinstance(t.fn, App | Global) and _head(t) in HANDLERS)):
            return True
        for k, (child, _) in enumerate(children(t)):
            stack.append((child, in_loop or (isinstance(t, For) and k == 1)))
    return False


def _head(t: Term) -> str | None:
    while isinstance(t, App):
        t = t.fn
    return t.name if isinstance(t, Global) else None


def _redefines_prelude(program: str | list[str]) -> bool:
    return any((m := _DEF.match(text)) is not None and m.group(1) in PRELUDE for text in program)


def _defines_twice(program: str | list[str]) -> bool:
    names = [m.group(1) for text in program if (m := _DEF.match(text)) is not None]
    return len(set(names)) < len(names)


PROGRAM_STATS: dict[str, Callable[[str | list[str]], bool]] = {
    "has a handler": lambda p: _handlers(p) > 0,
    "performs an operation (run)": _performs(1),
    "performs 10 operations or more (run)": _performs(10),
    "nested handlers (two or more)": lambda p: _handlers(p) >= 2,
    "a user-defined handler": lambda p: re.search(r"\bhandler? \{", _text(p)) is not None,
    "a state handler (runState)": lambda p: "runState" in _text(p),
    "a handler inside a loop": _handler_in_loop,
    "shadows a prelude or outer name": _shadows,
    "uses a prelude name": lambda p: any(w in PRELUDE for w in _WORD.findall(_text(p))),
}
FILE_STATS: dict[str, Callable[[str | list[str]], bool]] = {
    **PROGRAM_STATS,
    "redefines a prelude name (def)": _redefines_prelude,
    "defines a name twice": _defines_twice,
}


def _exercise() -> None:
    """Generated programs of both variants (with an operation nobody handles, now and then), and
    files, through the small-step machine."""
    for k, text in enumerate(sample(program_texts(unhandled=True), 40, seed=1)):
        performed([text], "pepm22" if k % 4 == 0 else "icfp24")
    for items in sample(user_files(), 6, seed=1):
        performed(items)


every_rule_fires(CALCULUS, ICFP24, "Fig. 1, PEPM'22 Fig. 1", _exercise)
distribution(CALCULUS, "programs (strategies.program_texts)", program_texts(), PROGRAM_STATS)
distribution(CALCULUS, "files (strategies_files.user_files)", user_files(), FILE_STATS)
