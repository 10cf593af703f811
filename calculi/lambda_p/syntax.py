"""The λp AST (ICFP'24 Fig. 1), plus the data forms the surface language desugars to.

    e ::= v | e1 e2 | for x:n. e | e1.e2 | handle h e1 e2
    v ::= i | x | λx. e | ⟨v0, …, vn⟩ | perform op

Toolkit extensions, each a value form or an eliminator with its own δ-rule: string literals,
constructors ``Con`` (``True``, ``False``, ``Left v``, ``Right v``, tuples, ``()``), primitive
operations ``Prim`` (``+``, ``++``, ``==``, ``length``, ...), ``Case`` on constructors, and
``Global`` references to top-level definitions (the prelude's and the user's), which print as
their name.

Names are foil names (``int``; de Bruijn levels after parsing) with a ``hint`` for printing that
equality ignores, so equality of canonical terms is α-equivalence.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeAlias

from calculi.core.syntax import Node, Span
from calculi.foil import core as foil

TUPLE = "Tuple"
CONSTRUCTORS: dict[str, int] = {"True": 0, "False": 0, "Left": 1, "Right": 1}
RETURN, TRAVERSE = "return", "traverse"


@dataclass(frozen=True, slots=True)
class Lit(Node):
    """An integer or string literal."""

    value: int | str


@dataclass(frozen=True, slots=True)
class Var(Node):
    name: int
    hint: str = field(default="x", compare=False)


@dataclass(frozen=True, slots=True)
class Lam(Node):
    binder: int
    body: Term
    hint: str = field(default="x", compare=False)


@dataclass(frozen=True, slots=True)
class Arr(Node):
    """An array ⟨v0, …, v(n-1)⟩ (its items are values after desugaring)."""

    items: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class Con(Node):
    """A constructor applied to values: ``True``, ``Left v``, tuples ``(a, b)``, unit ``()``."""

    tag: str
    args: tuple[Term, ...] = ()


@dataclass(frozen=True, slots=True)
class Perform(Node):
    op: str


@dataclass(frozen=True, slots=True)
class Global(Node):
    """A reference to a top-level definition: its surface ``name`` and its foil name ``key`` in the
    table of globals that binds it. Equality is by ``(name, key)``, so a user definition that
    shadows a prelude one is a different global, whatever their names."""

    name: str
    key: int
    table: Globals = field(compare=False, repr=False, hash=False)

    def definition(self) -> Term | None:
        """The definition's value, or None while a definition that is not a value is pending."""
        return self.table.terms.get(self.key)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (to and from worker processes) with its table (see ``Globals.__reduce__``)."""
        return _global, (self.name, self.key, self.table, self.span)


class Globals:
    """A top-level scope: each definition is its own foil name (``key``, drawn fresh from the
    scope, a bit set shared with the parent table so that keys never clash), and ``names`` maps a
    surface name to the global it denotes now. A later definition of a name rebinds the name;
    references made before keep the definition they were resolved to.

    ``terms`` holds this table's own definitions (a pending one, whose body is not a value, is
    absent until its value is known); ``sites`` their positions; ``values`` is the fast
    evaluator's cache of their run-time values, by key.

    A table travels to worker processes by value, under its ``home`` (the process that made it,
    and its number there): in its home, or in a forked child of it, the unpickled table is the
    original (with its cache of compiled values); elsewhere, one copy per worker process."""

    _REGISTRY: ClassVar[weakref.WeakValueDictionary[int, Globals]] = weakref.WeakValueDictionary()
    _COPIES: ClassVar[dict[tuple[int, int], Globals]] = {}
    _COUNT: ClassVar[list[int]] = [0]

    def __init__(self, parent: Globals | None = None) -> None:
        self.scope: foil.Scope[Any] = parent.scope if parent is not None else foil.empty_scope()
        self.names: dict[str, Global] = dict(parent.names) if parent is not None else {}
        self.terms: dict[int, Term] = {}
        self.sites: dict[int, Span | None] = {}
        self.values: dict[int, Any] = {}
        self.ident = Globals._COUNT[0]
        self.home = (os.getpid(), self.ident)
        Globals._COUNT[0] += 1
        Globals._REGISTRY[self.ident] = self

    def fresh(self, name: str, site: Span | None) -> Global:
        """A new global for ``name``: a fresh foil name, not yet what ``name`` denotes."""
        key = foil.fresh_id(self.scope)
        self.scope = foil.extend_scope(foil.unsafe_binder(key), self.scope)
        self.sites[key] = site
        return Global(name, key, self)

    def bind(self, g: Global) -> None:
        """From now on ``g.name`` denotes ``g`` (a pending global until ``define``)."""
        self.names[g.name] = g

    def define(self, g: Global, term: Term) -> None:
        """``g``'s definition is the value ``term``."""
        self.terms[g.key] = term
        self.values.pop(g.key, None)

    def __reduce__(self) -> tuple[Any, ...]:
        return _table, (self.home,), (self.scope, self.names, self.terms, self.sites)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        """A copy takes the original's definitions as they are now (definitions are only ever
        added, so the values it has compiled stay right); the original keeps its own."""
        if self.home[0] != os.getpid():
            self.scope, self.names, self.terms, self.sites = state


def _table(home: tuple[int, int]) -> Globals:
    """The table made in process ``home[0]`` as number ``home[1]``: itself where it is known (its
    home, a forked child of its home), else this process's copy of it (filled by ``__setstate__``)."""
    pid, ident = home
    if pid in (os.getpid(), os.getppid()):
        table = Globals._REGISTRY.get(ident)
        if table is not None and table.home == home:
            return table
    copy = Globals._COPIES.get(home)
    if copy is None:
        copy = Globals._COPIES[home] = Globals()
        copy.home = home
    return copy


def _global(name: str, key: int, table: Globals, span: Span | None) -> Global:
    return Global(name, key, table, span=span)


@dataclass(frozen=True, slots=True)
class App(Node):
    fn: Term
    arg: Term


@dataclass(frozen=True, slots=True)
class Index(Node):
    """Projection e1.e2."""

    array: Term
    index: Term


@dataclass(frozen=True, slots=True)
class For(Node):
    """for x:n. e (the bound is a value after desugaring)."""

    binder: int
    bound: Term
    body: Term
    hint: str = field(default="i", compare=False)


@dataclass(frozen=True, slots=True)
class Handler(Node):
    """{return ↦ f_r, op ↦ f_p, …, traverse ↦ f_t}: clause values keyed by clause name."""

    clauses: tuple[tuple[str, Term], ...]

    def clause(self, name: str) -> Term | None:
        for key, value in self.clauses:
            if key == name:
                return value
        return None

    def ops(self) -> list[str]:
        return [key for key, _ in self.clauses if key not in (RETURN, TRAVERSE)]


@dataclass(frozen=True, slots=True)
class Handle(Node):
    """handle h e1 e2: e1 is the parameter, e2 the computation."""

    handler: Handler
    param: Term
    body: Term


@dataclass(frozen=True, slots=True)
class Prim(Node):
    """A primitive operation applied to its arguments (evaluated left to right)."""

    op: str
    args: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class Branch(Node):
    """``tag x1 … xk -> body``; ``tag`` None is a catch-all binding one name."""

    tag: str | None
    binders: tuple[int, ...]
    body: Term
    hints: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class Case(Node):
    scrutinee: Term
    branches: tuple[Branch, ...]


Term: TypeAlias = Lit | Var | Lam | Arr | Con | Perform | Global | App | Index | For | Handle | Prim | Case

UNIT = Con(TUPLE, ())
TRUE, FALSE = Con("True"), Con("False")


def boolean(b: bool) -> Con:
    return TRUE if b else FALSE


def is_value(term: Term) -> bool:
    """Values: literals, variables, λ, arrays and constructors, ``perform op``, globals.

    Arrays and constructors hold values only: the desugarer binds non-value components first, and
    every rule builds them from values, so the test is O(1).
    """
    return isinstance(term, Lit | Var | Lam | Arr | Con | Perform | Global)


Scoped: TypeAlias = tuple[Term, tuple[int, ...]]
"""A sub-term with the names bound over it by its parent."""


def children(term: Term) -> tuple[Scoped, ...]:
    """The immediate sub-terms of ``term``, each with the names its parent binds over it:
    ``λx. e`` ↦ (e, (x,));  ``for x:n. e`` ↦ (n, ()), (e, (x,));  ``case e of C x̄ -> b`` ↦ (e, ()), (b, x̄);
    the clauses, parameter and body of ``handle h e1 e2``; the parts of the other forms, unbound.

    One table keyed by constructor, shared by the walks over terms (free variables, the printer's
    occurrence check), so that each names the binders of λp once."""
    walk = _CHILDREN.get(type(term))
    if walk is None:
        raise TypeError(f"not a λp term: {term!r}")
    return walk(term)


def _leaf(term: Any) -> tuple[Scoped, ...]:
    return ()


_CHILDREN: dict[type, Callable[[Any], tuple[Scoped, ...]]] = {
    Lit: _leaf,
    Var: _leaf,
    Perform: _leaf,
    Global: _leaf,
    Lam: lambda t: ((t.body, (t.binder,)),),
    For: lambda t: ((t.bound, ()), (t.body, (t.binder,))),
    App: lambda t: ((t.fn, ()), (t.arg, ())),
    Index: lambda t: ((t.array, ()), (t.index, ())),
    Arr: lambda t: tuple((item, ()) for item in t.items),
    Con: lambda t: tuple((arg, ()) for arg in t.args),
    Prim: lambda t: tuple((arg, ()) for arg in t.args),
    Handle: lambda t: (*((f, ()) for _, f in t.handler.clauses), (t.param, ()), (t.body, ())),
    Case: lambda t: ((t.scrutinee, ()), *((b.body, b.binders) for b in t.branches)),
}
