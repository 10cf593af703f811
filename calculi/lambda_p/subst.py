"""Capture-avoiding substitution for λp, through the foil (the rapier's in-scope set Θ).

``substitute(e, {x: v})`` is e[x := v]; going under a binder uses ``with_refreshed`` (keep the
binder's name unless it clashes with Θ) and ``add_rename`` (rename, or delete the shadowed entry).
``canonical(e)`` renames every binder to its de Bruijn level with ``with_fresh``, which is what
the parser produces: two terms are α-equivalent iff their canonical forms are equal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from calculi.foil import core as foil
from calculi.foil.core import DExt, Name, NameBinder, Scope, Substitution
from calculi.lambda_p.syntax import (
    App,
    Arr,
    Branch,
    Case,
    Con,
    For,
    Global,
    Handle,
    Handler,
    Index,
    Lam,
    Lit,
    Perform,
    Prim,
    Term,
    Var,
    children,
)

L = TypeVar("L")
Sub = Substitution[Term, Any, Any]
Sc = Scope[Any]


def _inject(hint: str) -> Callable[[Name[Any]], Term]:
    return lambda name: Var(foil.raw(name), hint)


def _under(scope: Sc, sub: Sub, binder: int, hint: str, fresh: bool) -> tuple[int, Sc, Sub]:
    """Go under one binder: its (possibly refreshed) name, the extended Θ and the extended σ."""

    def k(b: NameBinder[Any, L], ev: DExt[Any, L]) -> tuple[int, Sc, Sub]:
        old: NameBinder[Any, Any] = foil.unsafe_binder(binder)
        new_sub: Sub = foil.add_rename(sub, old, ev, b, _inject(hint))
        return foil.raw(b), foil.extend_scope(b, scope), new_sub

    if fresh:
        return foil.with_fresh(scope, k)
    return foil.with_refreshed(scope, foil.unsafe_name(binder), k)


_FV: dict[int, tuple[Term, frozenset[int]]] = {}
_FV_LIMIT = 500_000
_NO_NAMES: frozenset[int] = frozenset()


def free_vars(t: Term) -> frozenset[int]:
    """The free names of a term (memoized per node; nodes are immutable and shared between steps)."""
    hit = _FV.get(id(t))
    if hit is not None and hit[0] is t:
        return hit[1]
    if isinstance(t, Var):
        out = frozenset((t.name,))
    elif isinstance(t, Lit | Perform | Global):
        return _NO_NAMES
    else:
        out = _NO_NAMES
        for child, bound in children(t):
            names = free_vars(child)
            if bound and names:
                names = names.difference(bound)
            if names:
                out = out | names if out else names
    if len(_FV) > _FV_LIMIT:
        _FV.clear()
    _FV[id(t)] = (t, out)
    return out


def _go(t: Term, scope: Sc, sub: Sub, fresh: bool) -> Term:
    if not fresh and free_vars(t).isdisjoint(sub):  # type: ignore[arg-type]
        return t
    if isinstance(t, Var):
        return foil.lookup_subst(
            sub, foil.unsafe_name(t.name), lambda n: Var(foil.raw(n), t.hint, span=t.span)
        )
    if isinstance(t, Lit | Perform | Global):
        return t
    if isinstance(t, Lam):
        b, sc, sb = _under(scope, sub, t.binder, t.hint, fresh)
        return Lam(b, _go(t.body, sc, sb, fresh), t.hint, span=t.span)
    if isinstance(t, App):
        return App(_go(t.fn, scope, sub, fresh), _go(t.arg, scope, sub, fresh), span=t.span)
    if isinstance(t, Index):
        return Index(_go(t.array, scope, sub, fresh), _go(t.index, scope, sub, fresh), span=t.span)
    if isinstance(t, Arr):
        return Arr(tuple(_go(i, scope, sub, fresh) for i in t.items), span=t.span)
    if isinstance(t, Con):
        return Con(t.tag, tuple(_go(a, scope, sub, fresh) for a in t.args), span=t.span) if t.args else t
    if isinstance(t, Prim):
        return Prim(t.op, tuple(_go(a, scope, sub, fresh) for a in t.args), span=t.span)
    if isinstance(t, For):
        bound = _go(t.bound, scope, sub, fresh)
        b, sc, sb = _under(scope, sub, t.binder, t.hint, fresh)
        return For(b, bound, _go(t.body, sc, sb, fresh), t.hint, span=t.span)
    if isinstance(t, Handle):
        clauses = tuple((k, _go(v, scope, sub, fresh)) for k, v in t.handler.clauses)
        return Handle(
            Handler(clauses, span=t.handler.span),
            _go(t.param, scope, sub, fresh),
            _go(t.body, scope, sub, fresh),
            span=t.span,
        )
    if isinstance(t, Case):
        branches = []
        for br in t.branches:
            sc, sb, names = scope, sub, []
            for binder, hint in zip(br.binders, br.hints or ("x",) * len(br.binders), strict=True):
                b, sc, sb = _under(sc, sb, binder, hint, fresh)
                names.append(b)
            branches.append(Branch(br.tag, tuple(names), _go(br.body, sc, sb, fresh), br.hints, span=br.span))
        return Case(_go(t.scrutinee, scope, sub, fresh), tuple(branches), span=t.span)
    raise TypeError(f"not a λp term: {t!r}")


def substitute(term: Term, values: Mapping[int, Term], scope: int = 0) -> Term:
    """e[x1 := v1, …]: ``scope`` is Θ, the names free in the values (0 for closed values)."""
    sub: Sub = foil.identity_subst()
    for name, value in values.items():
        sub = foil.add_subst(sub, foil.unsafe_binder(name), value)
    return _go(term, foil.unsafe_scope(scope), sub, False)


def canonical(term: Term, free: int = 0) -> Term:
    """Rename every binder to its de Bruijn level (``free`` names are in scope already)."""
    return _Canonical(free).go(term)


class _Canonical:
    """The renaming to de Bruijn levels. Each binder takes the name ``with_fresh`` gives it (the
    scope is always the levels 0 … depth-1); the renaming of the binders in scope is one map,
    extended and restored around each scope, where foil's persistent substitution would copy it
    at every binder (time quadratic in the depth of a term)."""

    def __init__(self, free: int) -> None:
        self.scope: Sc = foil.unsafe_scope((1 << free) - 1)
        self.renamed: dict[int, int] = {}

    def enter(self, binder: int) -> tuple[int, tuple[int, int | None, Sc]]:
        """Bring ``binder`` into scope: its new name, and what ``leave`` needs to undo it."""
        old, scope = self.renamed.get(binder), self.scope
        new: int = foil.with_fresh(scope, lambda b, ev: foil.raw(b))
        self.scope = foil.extend_scope(foil.unsafe_binder(new), scope)
        self.renamed[binder] = new
        return new, (binder, old, scope)

    def leave(self, saved: tuple[int, int | None, Sc]) -> None:
        binder, old, self.scope = saved
        if old is None:
            del self.renamed[binder]
        else:
            self.renamed[binder] = old

    def go(self, t: Term) -> Term:
        if isinstance(t, Var):
            return Var(self.renamed.get(t.name, t.name), t.hint, span=t.span)
        if isinstance(t, Lit | Perform | Global):
            return t
        if isinstance(t, Lam):
            b, saved = self.enter(t.binder)
            body = self.go(t.body)
            self.leave(saved)
            return Lam(b, body, t.hint, span=t.span)
        if isinstance(t, App):
            return App(self.go(t.fn), self.go(t.arg), span=t.span)
        if isinstance(t, Index):
            return Index(self.go(t.array), self.go(t.index), span=t.span)
        if isinstance(t, Arr):
            return Arr(tuple([self.go(i) for i in t.items]), span=t.span)
        if isinstance(t, Con):
            return Con(t.tag, tuple([self.go(a) for a in t.args]), span=t.span) if t.args else t
        if isinstance(t, Prim):
            return Prim(t.op, tuple([self.go(a) for a in t.args]), span=t.span)
        if isinstance(t, For):
            bound = self.go(t.bound)
            b, saved = self.enter(t.binder)
            body = self.go(t.body)
            self.leave(saved)
            return For(b, bound, body, t.hint, span=t.span)
        if isinstance(t, Handle):
            clauses = tuple([(k, self.go(v)) for k, v in t.handler.clauses])
            param, body = self.go(t.param), self.go(t.body)
            return Handle(Handler(clauses, span=t.handler.span), param, body, span=t.span)
        if isinstance(t, Case):
            scrutinee = self.go(t.scrutinee)
            branches = []
            for br in t.branches:
                entered = [self.enter(binder) for binder in br.binders]
                body = self.go(br.body)
                for _, saved in reversed(entered):
                    self.leave(saved)
                names = tuple(b for b, _ in entered)
                branches.append(Branch(br.tag, names, body, br.hints, span=br.span))
            return Case(scrutinee, tuple(branches), span=t.span)
        raise TypeError(f"not a λp term: {t!r}")
