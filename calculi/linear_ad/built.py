"""What J and T build most, built by setting slots: binders drawn from a ``Supply`` and the
functions' definitions (a frozen dataclass's ``__init__`` takes about twice as long)."""

from __future__ import annotations

from calculi.core.syntax import Span
from calculi.linear_ad.names import Supply
from calculi.linear_ad.parse_tokens import new_binder
from calculi.linear_ad.syntax import Binder, Expr, FuncDef
from calculi.linear_ad.types import Mixed, Type


def draw(supply: Supply, hint: str) -> Binder:
    """``supply.binder(hint)``: the next name of ``supply``."""
    name = supply.next
    supply.next = name + 1
    return new_binder(name, hint, None)


def draws(supply: Supply, hints: tuple[str, ...]) -> tuple[Binder, ...]:
    """``supply.binders(hints)``: the next names of ``supply``, one a hint, in order."""
    name = supply.next
    supply.next = name + len(hints)
    return tuple([new_binder(name + i, h, None) for i, h in enumerate(hints)])


_SET = tuple(getattr(FuncDef, f).__set__ for f in (
    "name", "params", "param_types", "lparams", "lparam_types", "result", "body", "span"))


def new_funcdef(name: str, params: tuple[Binder, ...], param_types: tuple[Type, ...],
                lparams: tuple[Binder, ...], lparam_types: tuple[Type, ...], result: Mixed, body: Expr,
                span: Span | None) -> FuncDef:
    """``FuncDef(name, params, param_types, lparams, lparam_types, result, body, span=span)``."""
    d = object.__new__(FuncDef)
    for put, value in zip(_SET, (name, params, param_types, lparams, lparam_types, result, body, span),
                          strict=True):
        put(d, value)
    return d


_SET_MIXED = tuple(getattr(Mixed, f).__set__ for f in ("nonlin", "lin"))


def new_mixed(nonlin: tuple[Type, ...], lin: tuple[Type, ...]) -> Mixed:
    """``Mixed(nonlin, lin)``, built as ``new_funcdef`` builds a definition."""
    m = object.__new__(Mixed)
    _SET_MIXED[0](m, nonlin)
    _SET_MIXED[1](m, lin)
    return m
