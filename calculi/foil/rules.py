"""The foil's named rules, for rule coverage (``python -m proofs --coverage``), and ``operation``:
the decorator of every public operation (room for deep terms, and counting while a coverage
recording is open).

Substitution, the rapier's ``S(Θ, σ, e)`` (reference note §1; free-foil's ``substitute``):

    S-id        σ = id                     e                (Dex's identity coercion)
    S-var       x ∈ dom σ                  σ(x)
    S-var-kept  x ∉ dom σ                  x
    S-app                                  S(e₁) S(e₂)
    S-λ-keep    x ∉ Θ, x ∉ dom σ           λx. S(Θ ∪ {x}, σ, e)
    S-λ-shadow  x ∉ Θ, x ∈ dom σ           λx. S(Θ ∪ {x}, σ \\ {x}, e)     (the delete)
    S-λ-rename  x ∈ Θ                      λx'. S(Θ ∪ {x'}, σ[x ↦ x'], e)

Normal order (``semantics.py``): β at the head, ξ under a λ, μ in an argument of a neutral term.
α-equivalence (``alpha.py``), with free-foil's names for how two binders are unified.

Substitution is the hot path, so its cases are counted by wrapping the entries of its rule table
while a recording is open (one test per public operation otherwise); the others call
``coverage.fired`` where they fire.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from calculi.core import coverage
from calculi.foil import substitution
from calculi.foil.core import subst_row
from calculi.foil.deep import deep
from calculi.foil.syntax import App, Lam, Var

CALCULUS = "foil"

SUBST = ("S-id", "S-var", "S-var-kept", "S-app", "S-λ-keep", "S-λ-shadow", "S-λ-rename")
NORMAL_ORDER = ("β", "ξ", "μ")
ALPHA = ("α-var", "α-app", "α-mismatch", "SameNameBinders", "RenameLeftNameBinder",
         "RenameRightNameBinder", "RenameBothBinders")
RULES = coverage.declare(CALCULUS, (*SUBST, *NORMAL_ORDER, *ALPHA))

P = ParamSpec("P")
R = TypeVar("R")

_counting = False


def recording() -> bool:
    """Is a coverage recording open?"""
    return coverage.active()


def fired(rule: str, times: int = 1) -> None:
    coverage.fired(CALCULUS, rule, times)


def _count_var(rule: Callable[..., Any]) -> Callable[..., Any]:
    def counted(scope: Any, subst: Any, term: Any) -> Any:
        fired("S-var" if term.name in subst else "S-var-kept")
        return rule(scope, subst, term)

    return counted


def _count_app(rule: Callable[..., Any]) -> Callable[..., Any]:
    def counted(scope: Any, subst: Any, term: Any) -> Any:
        fired("S-app")
        return rule(scope, subst, term)

    return counted


def _count_lam(rule: Callable[..., Any]) -> Callable[..., Any]:
    def counted(scope: Any, subst: Any, term: Any) -> Any:
        binder = term.binder
        fired("S-λ-rename" if scope >> binder & 1 else "S-λ-shadow" if binder in subst else "S-λ-keep")
        return rule(scope, subst, term)

    return counted


def _count_substitute(run: Callable[..., Any]) -> Callable[..., Any]:
    def counted(scope: Any, subst: Any, term: Any) -> Any:
        if not subst:
            fired("S-id")
        return run(scope, subst, term)

    return counted


@contextmanager
def counting() -> Iterator[None]:
    """Count the substitution cases: wrap each entry of ``SUBST_RULES`` (and ``substitute``, for
    S-id) as it is now (a mutant's entry included), and put them back afterwards. The λ row holds
    its recursion into the body, so the row itself is remade around the counted ``substitute``."""
    global _counting
    if _counting:
        yield
        return
    table = substitution.SUBST_RULES
    saved, run = dict(table), substitution.substitute
    counted = _count_substitute(run)
    lam = saved[Lam]
    if lam is substitution.subst_lam:
        lam = subst_row(Lam, Var, counted)
    table.update({Var: _count_var(saved[Var]), App: _count_app(saved[App]), Lam: _count_lam(lam)})
    substitution.substitute = counted
    _counting = True
    try:
        yield
    finally:
        _counting = False
        table.update(saved)
        substitution.substitute = run


def operation(function: Callable[P, R]) -> Callable[P, R]:
    """A public operation: run with room for deep terms (``deep``) and, while a coverage recording
    is open, with the substitution cases counted."""

    @wraps(function)
    def counted(*args: P.args, **kwargs: P.kwargs) -> R:
        if not recording():
            return function(*args, **kwargs)
        with counting():
            return function(*args, **kwargs)

    return deep(counted)
