"""The type checker's errors about variables and primitive arguments, each naming its rule."""

from __future__ import annotations

from typing import Any, NoReturn

from calculi.core.errors import TypeCheckError
from calculi.linear_ad.syntax import Call, Expr, FuncDef, LVar, Prim, Var, Zero
from calculi.linear_ad.types import Mixed, Type


def misuse(v: Var | LVar, slot: list[Any] | None, linear: bool) -> NoReturn:
    """``v`` is out of scope, of the other kind, or a linear variable used a second time (``slot``:
    its record in scope, ``[type, linear, uses, binder]``)."""
    if slot is None:
        raise TypeCheckError(f"{v.hint} is not in scope", v.span, rule="Var")
    if slot[1] != linear:
        raise TypeCheckError(f"{v.hint} is bound as a {'linear' if slot[1] else 'non-linear'} "
                             "variable", v.span, rule="Var")
    raise TypeCheckError(f"linear variable {v.hint} used twice (use dup)", v.span, rule="Dup")


def unused(slot: list[Any]) -> NoReturn:
    """The variable of ``slot`` (its record in scope) is never used when its scope ends."""
    kind = "linear" if slot[1] else "non-linear"
    b = slot[3]
    raise TypeCheckError(f"{kind} variable {b.hint} never used (use drop)", b.span, rule="Drop")


def misplaced(v: Var | LVar, linear: bool) -> NoReturn:
    """``v`` is of the other kind than the position it is in (``linear``: a linear position)."""
    kind, other = ("linear", "non-linear") if linear else ("non-linear", "linear")
    raise TypeCheckError(f"{v.hint} is a {other} variable where a {kind} one is expected", v.span,
                         rule="Var")


def misdeclared(d: FuncDef, body: Mixed) -> NoReturn:
    """The body of ``d`` has the type ``body``, which is not its declared result."""
    raise TypeCheckError(f"the body of {d.name} has type {body}, but its result is declared {d.result}",
                         d.body.span or d.span, rule="Def")


def misfit(e: Call, v: Var | LVar, got: Type, expected: Type) -> NoReturn:
    """The argument ``v`` of the call ``e`` has type ``got`` where its parameter's is ``expected``."""
    raise TypeCheckError(f"argument {v.hint} of {e.func} has type {got}, expected {expected}", v.span,
                         rule="App")


def misapplied(e: Prim, a: Expr, t: Mixed, linear: bool) -> NoReturn:
    """The argument ``a`` of ``e``, of type ``t``, is of the wrong kind (``linear``: where a linear
    one is expected)."""
    name = shown(e.prim.name)
    if linear:
        what = "a non-linear value" if t.nonlin else f"a value of type {t}"
        raise TypeCheckError(f"{name} applied to {what} where a linear one is expected",
                             a.span or e.span, rule=e.prim.name)
    what = "a linear value" if t.lin else f"a value of type {t}"
    role = "as its constant argument" if e.prim.linear else ""
    hint = " (0 is the linear zero; write 0.0 for the number)" if isinstance(a, Zero) else ""
    raise TypeCheckError(f"{name} applied to {what}{' ' + role if role else ''}{hint}",
                         a.span or e.span, rule=e.prim.name)


def shown(name: str) -> str:
    """A primitive as the error messages write it."""
    return {"ladd": "⊕", "scale": "⊙", "add": "+", "mul": "×"}.get(name, name)
