"""Terms of the untyped λ-calculus on the foil, indexed by the scope of their free names.

    e ::= x | e₁ e₂ | λx. e

``Expr[N]`` is a term whose free names are in scope ``N``; a ``Lam[N, L]`` carries a
``NameBinder[N, L]`` and a body in the extended scope ``L``. Python has no existential types, so
``L`` is a class parameter; code that opens a binder does it in a function generic in ``L`` (see
``substitution.py``), where ``L`` is rigid.

Terms are frozen slotted dataclasses carrying a span (``calculi.core.syntax.Node``). Terms can be
nested tens of thousands of levels deep, so equality, hashing, ``repr`` and the traversals here are
iterative; comparison ignores spans and compares raw names (not α-equivalence: see ``alpha.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from calculi.core.syntax import Node
from calculi.foil.core import Name, NameBinder, Scope
from calculi.foil.names import spell, stem
from calculi.foil.scopes import from_names
from calculi.foil.scopes import names as scope_names

N = TypeVar("N")
L = TypeVar("L")
R = TypeVar("R")


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Expr(Node, Generic[N]):
    """A λ-term with free names in ``N`` (abstract: one of ``Var``, ``App``, ``Lam``)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expr) and equal(self, other)

    def __hash__(self) -> int:
        return hash(tuple(tokens(self)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}<{flat(self)}>"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Var(Expr[N]):
    """A name ``x`` of scope ``N``."""

    name: Name[N]


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class App(Expr[N]):
    """An application ``e₁ e₂``."""

    fun: Expr[N]
    arg: Expr[N]


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Lam(Expr[N], Generic[N, L]):
    """An abstraction ``λx. e``: ``x`` extends ``N`` to ``L``, where the body lives."""

    binder: NameBinder[N, L]
    body: Expr[L]
    hint: int | None = None
    """The spelled name this binder was renamed from (substitution and read-back rename a binder
    that clashes with Θ to a fresh, unspelled identifier); the printer shows such a binder from
    its hint, ``y`` renamed as ``y1`` (``display_names``). Equality and hashing ignore it."""


def tokens(term: Expr[Any]) -> Iterator[int]:
    """The term in prefix order as integers (−1 = application, −2 − x = binder x, x ≥ 0 = name)."""
    stack: list[Expr[Any]] = [term]
    while stack:
        t = stack.pop()
        if isinstance(t, Var):
            yield t.name  # type: ignore[misc]
        elif isinstance(t, App):
            yield -1
            stack.append(t.arg)
            stack.append(t.fun)
        elif isinstance(t, Lam):
            yield -2 - t.binder  # type: ignore[operator]
            stack.append(t.body)


def equal(left: Expr[Any], right: Expr[Any]) -> bool:
    """Syntactic equality: same constructors and the same raw names (spans ignored)."""
    stack: list[tuple[Expr[Any], Expr[Any]]] = [(left, right)]
    while stack:
        a, b = stack.pop()
        if a is b:
            continue
        if isinstance(a, Var) and isinstance(b, Var):
            if a.name != b.name:
                return False
        elif isinstance(a, App) and isinstance(b, App):
            stack.append((a.arg, b.arg))
            stack.append((a.fun, b.fun))
        elif isinstance(a, Lam) and isinstance(b, Lam):
            if a.binder != b.binder:
                return False
            stack.append((a.body, b.body))
        else:
            return False
    return True


def fold(
    term: Expr[Any],
    var: Callable[[Var[Any]], R],
    app: Callable[[App[Any], R, R], R],
    lam: Callable[[Lam[Any, Any], R], R],
) -> R:
    """The bottom-up fold of a term, with an explicit stack (no recursion)."""
    results: list[R] = []
    stack: list[tuple[Expr[Any], bool]] = [(term, False)]
    while stack:
        t, done = stack.pop()
        if isinstance(t, Var):
            results.append(var(t))
        elif isinstance(t, App):
            if done:
                arg = results.pop()
                results.append(app(t, results.pop(), arg))
            else:
                stack.append((t, True))
                stack.append((t.arg, False))
                stack.append((t.fun, False))
        elif isinstance(t, Lam):
            if done:
                results.append(lam(t, results.pop()))
            else:
                stack.append((t, True))
                stack.append((t.body, False))
    return results[0]


def free_occurrences(term: Expr[Any]) -> Iterator[Var[Any]]:
    """Each occurrence of a free name, leftmost first (iterative: safe on deep terms)."""
    bound: dict[int, int] = {}
    stack: list[Expr[Any] | int] = [term]
    while stack:
        t = stack.pop()
        if isinstance(t, int):
            bound[t] -= 1
        elif isinstance(t, Var):
            if not bound.get(t.name):  # type: ignore[call-overload]
                yield t
        elif isinstance(t, App):
            stack.append(t.arg)
            stack.append(t.fun)
        elif isinstance(t, Lam):
            binder: int = t.binder  # type: ignore[assignment]
            bound[binder] = bound.get(binder, 0) + 1
            stack.append(binder)
            stack.append(t.body)


def free_names(term: Expr[Any]) -> set[int]:
    """FV(e): the raw names occurring free in the term. Both normalisers and the rapier baseline
    start from it (Θ = FV(e)), so it is ``free_occurrences``'s walk without the generator and the
    ``isinstance`` chain: a binder's count leaves ``bound`` when its scope ends, so a name is free
    exactly when it is not a key."""
    free: set[int] = set()
    bound: dict[int, int] = {}
    stack: list[Any] = [term]
    pop = stack.pop
    push = stack.append
    while stack:
        t = pop()
        kind = t.__class__
        if kind is App:
            push(t.arg)
            push(t.fun)
        elif kind is Var:
            if t.name not in bound:
                free.add(t.name)
        elif kind is int:
            count = bound[t] - 1
            if count:
                bound[t] = count
            else:
                del bound[t]
        else:
            binder = t.binder
            bound[binder] = bound.get(binder, 0) + 1
            push(binder)
            push(t.body)
    return free


def scope_of(term: Expr[N]) -> Scope[N]:
    """The smallest run-time scope for a term: exactly its free names."""
    return from_names(free_names(term))  # type: ignore[return-value]


def names_of_scope(scope: Scope[N]) -> list[int]:
    """The raw names of a scope, in increasing order."""
    return scope_names(scope)  # type: ignore[arg-type]


def size(term: Expr[Any]) -> int:
    """The number of constructors."""
    return sum(1 for _ in tokens(term))


def depth(term: Expr[Any]) -> int:
    """The nesting depth (a name has depth 1)."""
    deepest = 0
    stack: list[tuple[Expr[Any], int]] = [(term, 1)]
    while stack:
        t, d = stack.pop()
        deepest = max(deepest, d)
        if isinstance(t, App):
            stack.append((t.fun, d + 1))
            stack.append((t.arg, d + 1))
        elif isinstance(t, Lam):
            stack.append((t.body, d + 1))
    return deepest


def display_names(term: Expr[Any]) -> Callable[[int], str]:
    """How the printer spells the names of ``term``: by their spelling (``names.spell``), except
    that a binder renamed by substitution or read-back (its ``hint`` is the name it was renamed
    from, not itself) is shown, with every occurrence of its name, as its
    hint's stem and the first number that no other name of the term is shown as: ``y`` renamed is
    ``y1``. The choice depends only on the term, not on the process's history, so a result prints
    the same in every run; the map is injective on the term's names, so the text parses back to an
    α-equivalent term (the same one exactly when nothing was renamed)."""
    hinted: dict[int, int] = {}
    names: set[int] = set()
    stack: list[Expr[Any]] = [term]
    while stack:
        t = stack.pop()
        if isinstance(t, Var):
            names.add(t.name)  # type: ignore[arg-type]
        elif isinstance(t, App):
            stack.append(t.arg)
            stack.append(t.fun)
        elif isinstance(t, Lam):
            binder: int = t.binder  # type: ignore[assignment]
            if t.hint is not None and t.hint != binder and binder not in hinted:
                hinted[binder] = t.hint
            names.add(binder)
            stack.append(t.body)
    if not hinted:
        return spell
    taken = {spell(x) for x in names if x not in hinted}
    shown: dict[int, str] = {}
    counters: dict[str, int] = {}
    for binder, hint in sorted(hinted.items(), key=_first_seen(term)):
        base = stem(spell(hint))
        k = counters.get(base, 1)
        while f"{base}{k}" in taken:
            k += 1
        counters[base] = k + 1
        shown[binder] = f"{base}{k}"
        taken.add(shown[binder])

    def name(x: int) -> str:
        found = shown.get(x)
        return spell(x) if found is None else found

    return name


def _first_seen(term: Expr[Any]) -> Callable[[tuple[int, int]], int]:
    """Order renamed binders by where they first occur in the term (so numbering follows the
    text from left to right)."""
    order: dict[int, int] = {}
    for position, token in enumerate(tokens(term)):
        if token <= -2:
            order.setdefault(-2 - token, position)
    return lambda item: order[item[0]]


def flat(term: Expr[Any], name: Callable[[int], str] | None = None) -> str:
    """One-line printing with an explicit stack (no document, linear time); ``name`` spells the
    names (by default ``display_names(term)``)."""
    spell = display_names(term) if name is None else name
    out: list[str] = []
    stack: list[Expr[Any] | str] = [term]
    while stack:
        t = stack.pop()
        if isinstance(t, str):
            out.append(t)
        elif isinstance(t, Var):
            out.append(spell(t.name))  # type: ignore[arg-type]
        elif isinstance(t, Lam):
            out.append(f"\\{spell(t.binder)}. ")  # type: ignore[arg-type]
            stack.append(t.body)
        elif isinstance(t, App):
            arg, fun = t.arg, t.fun
            if isinstance(arg, Var):
                stack.append(arg)
            else:
                stack.extend((")", arg, "("))
            stack.append(" ")
            if isinstance(fun, Lam):
                stack.extend((")", fun, "("))
            else:
                stack.append(fun)
    return "".join(out)
