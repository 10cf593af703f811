"""The nodes the parser and the passes build most, built by setting their slots: a frozen
dataclass's ``__init__`` sets each field through ``object.__setattr__`` and takes about twice as
long. ``new_var(name, hint, span)`` is ``Var(name, hint, span=span)``, and so on; the agreement
theorems of the parser and of each pass compare what they build with the reference's nodes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TypeVar

from calculi.linear_ad.names import Supply
from calculi.linear_ad.syntax import (
    Binder,
    Block,
    Call,
    Dup,
    Expr,
    FuncDef,
    LetB,
    LVar,
    Prim,
    Ret,
    UnpackB,
    Var,
)
from calculi.linear_ad.types import Mixed, Type

N = TypeVar("N")
_new = object.__new__


def _setters(cls: type, *fields: str) -> list[Callable[[object, object], None]]:
    """The slot setters of a frozen, slotted node whose fields are ``fields`` then ``span``: a node
    built by setting them takes half the time of the dataclass's ``__init__``, which is most of
    the parser's time (the agreement theorem compares the nodes and their spans)."""
    assert [f.name for f in dataclasses.fields(cls)] == ["span", *fields]
    return [getattr(cls, f).__set__ for f in (*fields, "span")]


def _maker2(cls: type[N], *fields: str) -> Callable[[object, object], N]:
    s0, s1 = _setters(cls, *fields)

    def make(a: object, b: object) -> N:
        node = _new(cls)
        s0(node, a)
        s1(node, b)
        return node

    return make


def _maker3(cls: type[N], *fields: str) -> Callable[[object, object, object], N]:
    s0, s1, s2 = _setters(cls, *fields)

    def make(a: object, b: object, c: object) -> N:
        node = _new(cls)
        s0(node, a)
        s1(node, b)
        s2(node, c)
        return node

    return make


def _maker4(cls: type[N], *fields: str) -> Callable[[object, object, object, object], N]:
    s0, s1, s2, s3 = _setters(cls, *fields)

    def make(a: object, b: object, c: object, d: object) -> N:
        node = _new(cls)
        s0(node, a)
        s1(node, b)
        s2(node, c)
        s3(node, d)
        return node

    return make


def _maker5(cls: type[N], *fields: str) -> Callable[[object, object, object, object, object], N]:
    s0, s1, s2, s3, s4 = _setters(cls, *fields)

    def make(a: object, b: object, c: object, d: object, e: object) -> N:
        node = _new(cls)
        s0(node, a)
        s1(node, b)
        s2(node, c)
        s3(node, d)
        s4(node, e)
        return node

    return make


def _maker8(cls: type[N], *fields: str) -> Callable[..., N]:
    s0, s1, s2, s3, s4, s5, s6, s7 = _setters(cls, *fields)

    def make(a: object, b: object, c: object, d: object, e: object, f: object, g: object, h: object) -> N:
        node = _new(cls)
        s0(node, a)
        s1(node, b)
        s2(node, c)
        s3(node, d)
        s4(node, e)
        s5(node, f)
        s6(node, g)
        s7(node, h)
        return node

    return make


new_var = _maker3(Var, "name", "hint")
new_lvar = _maker3(LVar, "name", "hint")
new_binder = _maker3(Binder, "name", "hint")
new_letb = _maker4(LetB, "binders", "lbinders", "rhs")
new_prim = _maker5(Prim, "prim", "args", "largs", "params")
new_call = _maker4(Call, "func", "args", "largs")
new_block = _maker3(Block, "bindings", "result")
new_unpack = _maker3(UnpackB, "binders", "var")
new_funcdef = _maker8(FuncDef, "name", "params", "param_types", "lparams", "lparam_types", "result", "body")
_new_ret = _maker3(Ret, "vars", "lvars")
_new_dup = _maker2(Dup, "arg")


def new_ret(vars: tuple[Var, ...], lvars: tuple[LVar, ...]) -> Ret:
    """``Ret(vars, lvars)``."""
    return _new_ret(vars, lvars, None)


def new_dup(arg: Expr) -> Dup:
    """``Dup(arg)``."""
    return _new_dup(arg, None)


_SET_MIXED = tuple(getattr(Mixed, f).__set__ for f in ("nonlin", "lin"))


def new_mixed(nonlin: tuple[Type, ...], lin: tuple[Type, ...]) -> Mixed:
    """``Mixed(nonlin, lin)``."""
    m = _new(Mixed)
    _SET_MIXED[0](m, nonlin)
    _SET_MIXED[1](m, lin)
    return m


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
