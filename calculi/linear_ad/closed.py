"""Closed terms of Linear A's small-step semantics: values in variable positions, and substitutions
still to be applied.

Substitution is the foil's: ``e[x ↦ v]`` extends a ``Substitution`` (``add_subst``), and is applied
where the next rule needs it, so a term is an expression together with the substitution still to be
applied to it (``Closed``). A trace prints the substituted term: ``substitute`` applies the pending
substitutions with the rapier's ``under_binder`` at every binder, and ``show_term`` prints the result,
values in place of variables (a linear value in angle brackets, ``⟨1.5⟩``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, TypeVar

from calculi.core.errors import StuckError
from calculi.core.pretty import render
from calculi.foil.core import (
    NameBinder,
    Scope,
    Substitution,
    empty_scope,
    identity_subst,
    is_identity,
    lookup_subst_or,
    raw,
    under_binder,
    unsafe_binder,
    unsafe_name,
)
from calculi.linear_ad.check import Typing
from calculi.linear_ad.pretty import Printer
from calculi.linear_ad.primitives import FLOAT, Value
from calculi.linear_ad.syntax import (
    Binder,
    Binding,
    Block,
    Call,
    Drop,
    Dup,
    Expr,
    LetB,
    Lit,
    LVar,
    Prim,
    Ret,
    Tup,
    TupL,
    UnpackB,
    UnpackLB,
    Var,
    Zero,
)
from calculi.linear_ad.types import Mixed

O2 = TypeVar("O2")

MixedValue = tuple[tuple[Value, ...], tuple[Value, ...]]


@dataclass(frozen=True, slots=True)
class NVal(Var):
    """A non-linear value standing where a variable stood (the result of ``e[x ↦ v]``)."""

    value: Value = field(default=None, kw_only=True)


@dataclass(frozen=True, slots=True)
class LVal(LVar):
    """A linear value ``⟨v⟩`` standing where a linear variable stood."""

    value: Value = field(default=None, kw_only=True)


def nval(v: Value) -> NVal:
    return NVal(-1, "", value=v)


def lval(v: Value) -> LVal:
    return LVal(-1, "", value=v)


Atom = Var | LVar
Subst = Substitution[Atom, Any, Any]


@dataclass(frozen=True, slots=True)
class Closed(Expr):
    """``e[σ]``: an expression and the substitution still to be applied to it; closed as a whole."""

    expr: Expr
    subst: Subst


def close(e: Expr, subst: Subst) -> Expr:
    if is_identity(subst) or isinstance(e, NVal | LVal | Closed):
        return e
    return Closed(e, subst)


@dataclass(frozen=True, slots=True)
class State:
    """A closed term of a checked program, evaluated in a scalar domain; ``result`` is its type."""

    typing: Typing
    term: Expr
    result: Mixed
    domain: Any = FLOAT


# -- applying the pending substitutions with the rapier -----------------------------------------


def substitute(scope: Scope[Any], subst: Subst, e: Expr) -> Expr:
    """S(Θ, σ, e) on Linear A terms: atoms looked up in σ, binders through ``under_binder``;
    a ``Closed`` sub-term e'[τ] becomes S(Θ, τ, e'). Blocks are walked with a loop."""
    if isinstance(e, NVal | LVal | Lit | Zero):
        return e
    if isinstance(e, Var | LVar):
        return _atom(subst, e)
    if isinstance(e, Closed):
        return substitute(scope, e.subst, e.expr)
    if isinstance(e, Ret):
        return Ret(tuple(_var(subst, v) for v in e.vars), tuple(_lvar(subst, v) for v in e.lvars),
                   span=e.span)
    if isinstance(e, Tup):
        return Tup(tuple(_var(subst, v) for v in e.vars), span=e.span)
    if isinstance(e, TupL):
        return TupL(tuple(_lvar(subst, v) for v in e.lvars), span=e.span)
    if isinstance(e, Call):
        return Call(e.func, tuple(_var(subst, v) for v in e.args), tuple(_lvar(subst, v) for v in e.largs),
                    span=e.span)
    if isinstance(e, Prim):
        return Prim(e.prim, tuple(substitute(scope, subst, a) for a in e.args),
                    tuple(substitute(scope, subst, a) for a in e.largs), e.params, span=e.span)
    if isinstance(e, Dup):
        return Dup(substitute(scope, subst, e.arg), span=e.span)
    if isinstance(e, Drop):
        return Drop(substitute(scope, subst, e.arg), span=e.span)
    if isinstance(e, Block):
        out: list[Binding] = []
        for b in e.bindings:
            if isinstance(b, LetB):
                rhs = substitute(scope, subst, b.rhs)
                xs, scope, subst = _enter_all(scope, subst, b.binders, Var)
                ys, scope, subst = _enter_all(scope, subst, b.lbinders, LVar)
                out.append(LetB(xs, ys, rhs, span=b.span))
            elif isinstance(b, UnpackB):
                src = _var(subst, b.var)
                xs, scope, subst = _enter_all(scope, subst, b.binders, Var)
                out.append(UnpackB(xs, src, span=b.span))
            elif isinstance(b, UnpackLB):
                lsrc = _lvar(subst, b.var)
                ys, scope, subst = _enter_all(scope, subst, b.lbinders, LVar)
                out.append(UnpackLB(ys, lsrc, span=b.span))
        return Block(tuple(out), substitute(scope, subst, e.result), span=e.span)
    raise StuckError(f"cannot substitute in {type(e).__name__}", e.span)


def _atom(subst: Subst, v: Var | LVar) -> Atom:
    if isinstance(v, NVal | LVal):
        return v
    atom: Atom = lookup_subst_or(subst, unsafe_name(v.name), v)
    return atom


def _var(subst: Subst, v: Var) -> Var:
    atom = _atom(subst, v)
    if not isinstance(atom, Var):
        raise StuckError(f"non-linear variable {v.hint} bound to a linear value", v.span)
    return atom


def _lvar(subst: Subst, v: LVar) -> LVar:
    atom = _atom(subst, v)
    if not isinstance(atom, LVar):
        raise StuckError(f"linear variable {v.hint} bound to a non-linear value", v.span)
    return atom


def _enter_all(scope: Scope[Any], subst: Subst, binders: tuple[Binder, ...],
               inject: Callable[[Any], Atom]) -> tuple[tuple[Binder, ...], Scope[Any], Subst]:
    """Go under each binder: the rapier's step (renamed only on a clash with Θ; σ's entry deleted)."""

    def k(fresh: NameBinder[Any, O2], inner: Scope[O2], sigma: Substitution[Atom, Any, O2]
          ) -> tuple[int, Scope[Any], Subst]:
        return raw(fresh), inner, sigma

    out: list[Binder] = []
    for b in binders:
        name, scope, subst = under_binder(scope, subst, unsafe_binder(b.name), inject, k)
        out.append(Binder(name, b.hint, span=b.span))
    return tuple(out), scope, subst


# -- printing ------------------------------------------------------------------------------------


def show_value(v: Value, linear: bool = False, unicode: bool = True) -> str:
    """A value as the trace prints it: ``1.5``, ``1/3``, ``(1.0, 2.0)``; linear ones as ``⟨1.5⟩``."""
    if isinstance(v, tuple):
        inner = ", ".join(show_value(x) for x in v)
        text = f"({inner},)" if len(v) == 1 else f"({inner})"
    elif isinstance(v, float):
        text = repr(v)
    elif isinstance(v, Fraction):
        text = str(v)
    else:
        text = str(v)
    if not linear:
        return text
    return f"⟨{text}⟩" if unicode else f"<{text}>"


class _TermPrinter(Printer):
    """Linear A's printer, with values in variable positions."""

    def atom(self, e: Expr) -> str:
        if isinstance(e, NVal):
            return show_value(e.value, False, self.unicode)
        if isinstance(e, LVal):
            return show_value(e.value, True, self.unicode)
        return Printer.atom(self, e)


def show_term(e: Expr, unicode: bool = True, width: int = 100) -> str:
    """A closed term, its pending substitutions applied."""
    return render(_TermPrinter(unicode).expr(substitute(empty_scope(), identity_subst(), e)), width)


def show_state(state: State, unicode: bool = True, width: int = 100) -> str:
    return show_term(state.term, unicode, width)


def show_mixed(v: MixedValue, unicode: bool = True) -> str:
    """A final value ``(v̄ ; ⟨v̇⟩̄)``."""
    left = ", ".join(show_value(x, False, unicode) for x in v[0])
    right = ", ".join(show_value(x, True, unicode) for x in v[1])
    return f"({left} ; {right})" if right else f"({left})"


__all__ = ["Atom", "Closed", "LVal", "MixedValue", "NVal", "State", "Subst", "close", "lval", "nval",
           "show_mixed", "show_state", "show_term", "show_value", "substitute"]
