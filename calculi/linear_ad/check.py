"""The type checker: Γ ; Δ ⊢ e : (τ̄ ; σ̄) with Γ relevant and Δ linear, both exact.

The rules are in ``check_rules`` (the reference: every node through its rule, each counted while a
coverage recording is open), and ``check_fast`` inlines the common nodes into their parents, which
is the checker the passes run: it re-checks the output of every pass. Both fill the same
``Typing``, the type of every expression and unpack (a variable of type ℝ and a let left out, as
``Tables`` says), which the evaluator (cost weights) and the passes (zeros, tapes) consult, and both
reject the same programs with the same error at the same place (theorem
``linear_ad.types.fast_checker_agrees``).

The checker is written for speed: one dispatch per node (a table keyed by constructor), one scoped
environment (a binder's slot is removed when its scope ends), the result types of atoms shared.
"""

from __future__ import annotations

from calculi.core import coverage
from calculi.linear_ad.check_fast import FastChecker
from calculi.linear_ad.check_rules import Rule, RuleCache, _Checker
from calculi.linear_ad.freevars import free_vars
from calculi.linear_ad.syntax import Binder, Expr, Program, room_for_depth
from calculi.linear_ad.tables import OPEN, REAL_NL, Tables, Typing, UnpackTypes, type_in
from calculi.linear_ad.types import Type

__all__ = [
    "OPEN",
    "REAL_NL",
    "Rule",
    "RuleCache",
    "Tables",
    "Typing",
    "UnpackTypes",
    "_Checker",
    "check_open",
    "check_program",
    "checker_for",
    "type_in",
]


def checker_for(typing: Typing, reference: bool = False) -> _Checker:
    """The fast checker, or the reference one when asked or while a coverage recording is open."""
    return _Checker(typing) if reference or coverage.active() else FastChecker(typing)


def check_program(program: Program, reference: bool = False) -> Typing:
    """Check every function; raise a ``TypeCheckError`` naming the rule and pointing at the culprit."""
    room_for_depth()
    typing = Typing(program)
    checker_for(typing, reference).definitions(program.defs)
    return typing


def check_open(e: Expr, env: dict[int, Type], reference: bool = False) -> Typing:
    """Type an open non-linear expression whose free variables have the types ``env`` (they need not
    all be used): the types of ``e`` and its sub-expressions (its tables are ``OPEN``'s)."""
    typing = Typing(Program(()))
    checker = checker_for(typing, reference)
    checker.start(OPEN)
    for n in free_vars(e)[0]:
        checker.env[n] = [env[n], False, 1, Binder(n)]
    checker.expr(e)
    return typing
