"""The foil: scope-safe names and capture-avoiding substitution, and the untyped λ-calculus on it.

Public API (used by suites and notebooks)::

    from calculi.foil import parse, pretty, normalize, alpha_equiv, substitute
    e = parse(r"(\\x. \\y. x) y", free=True)
    pretty(normalize(e))                # '\\y1. y': the binder y was renamed y1, nothing captured

The strategies for other people's suites are in ``calculi.foil.strategies`` (imported lazily,
since they need Hypothesis): ``closed_terms()``, ``open_terms()``, ``terms_in(scope)``, ...

The parser (``parse``, ``parse_file``, ``Term``, ``Top``) is loaded on first use: it needs lark,
and the calculi built on the foil's names (λp, Linear A) import this package without parsing
its syntax.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, TypeVar

from calculi.core.trace import Fuel
from calculi.foil import core, substitution
from calculi.foil.alpha import alpha_equiv
from calculi.foil.checks import check_substitution, check_well_scoped
from calculi.foil.core import Scope, Substitution, empty_scope, identity_subst, unsafe_name
from calculi.foil.debruijn import from_debruijn, to_debruijn
from calculi.foil.names import intern, spell
from calculi.foil.nbe import normalize_by_evaluation
from calculi.foil.normalize import normalize, weak_head
from calculi.foil.pretty import pretty
from calculi.foil.rules import operation
from calculi.foil.semantics import step
from calculi.foil.substitution import beta, open_lam
from calculi.foil.syntax import App, Expr, Lam, Var, free_names, scope_of

if TYPE_CHECKING:
    from calculi.foil.parse import Term, Top, parse, parse_file

I = TypeVar("I")  # noqa: E741
O = TypeVar("O")  # noqa: E741

__all__ = [
    "App",
    "Expr",
    "Fuel",
    "Lam",
    "Scope",
    "Substitution",
    "Term",
    "Top",
    "Var",
    "alpha_equiv",
    "beta",
    "check_substitution",
    "check_well_scoped",
    "empty_scope",
    "free_names",
    "from_debruijn",
    "identity_subst",
    "intern",
    "normalize",
    "normalize_by_evaluation",
    "open_lam",
    "parse",
    "parse_file",
    "pretty",
    "scope_of",
    "spell",
    "step",
    "subst",
    "substitute",
    "to_debruijn",
    "weak_head",
]


@operation
def substitute(scope: Scope[O], subst: Substitution[Expr[O], I, O], term: Expr[I]) -> Expr[O]:
    """``S(Θ, σ, e)``: free-foil's canonical capture-avoiding substitution (see
    ``calculi.foil.substitution``), with room for deep terms; with ``FOIL_CHECKS=1`` the rapier's
    invariants SIa and SIb are checked first."""
    if core.CHECKS:
        check_substitution(scope, subst, term)
    return substitution.substitute(scope, subst, term)


def subst(term: Expr[Any], mapping: dict[str, Expr[Any]]) -> Expr[Any]:
    """``[x ↦ a, ...] e`` by spelling: simultaneous, capture-avoiding, applied once. The scope is
    the free names of ``e`` and of the ``a``s."""
    table: Any = {unsafe_name(intern(name)): value for name, value in mapping.items()}
    scope: Any = scope_of(term)
    for value in mapping.values():
        scope = scope | scope_of(value)
    return substitute(scope, table, term)


_PARSER = {"Term", "Top", "parse", "parse_file"}


def __getattr__(name: str) -> object:
    """The parser's names, imported on first use (a deliberately lazy start-up: lark)."""
    if name in _PARSER:
        value = getattr(importlib.import_module("calculi.foil.parse"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
