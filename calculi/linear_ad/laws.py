"""Exact oracles for the theorems: sympy linearity, use counts, separation, exact comparison.

These are the measuring instruments of ``proofs/linear_ad/``; each is independent of the pass
it judges (the use-count walker does not call the type checker, the sympy checks do not call
the passes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy

from calculi.linear_ad.freevars import free_vars
from calculi.linear_ad.syntax import (
    Binder,
    Block,
    Call,
    Drop,
    Dup,
    Expr,
    FuncDef,
    LetB,
    LVar,
    Prim,
    Ret,
    TupL,
    UnpackB,
    UnpackLB,
    Zero,
    children,
)


def linear_uses(d: FuncDef) -> dict[tuple[int, int], int]:
    """For every linear binder (keyed by its position in a walk and its name): how often its
    variable occurs within its scope. Structural linearity means every count is exactly 1."""
    counts: dict[tuple[int, int], int] = {}
    scope: dict[int, tuple[int, int]] = {}
    serial = 0

    def bind(b: Binder) -> None:
        nonlocal serial
        serial += 1
        key = (serial, b.name)
        counts[key] = 0
        scope[b.name] = key

    def walk(e: Expr) -> None:
        if isinstance(e, LVar):
            counts[scope[e.name]] += 1
        elif isinstance(e, Block):
            for b in e.bindings:
                if isinstance(b, LetB):
                    walk(b.rhs)
                    for y in b.lbinders:
                        bind(y)
                elif isinstance(b, UnpackLB):
                    walk(b.var)
                    for y in b.lbinders:
                        bind(y)
            walk(e.result)
        else:
            for c in children(e):
                walk(c)

    for b in d.lparams:
        bind(b)
    walk(d.body)
    return counts


def is_nonlinear_code(e: Expr) -> bool:
    """No linear variable, binder or operation anywhere in ``e``."""
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, LVar | Zero | Dup | TupL):
            return False
        if isinstance(node, Prim) and (node.prim.linear or node.largs):
            return False
        if isinstance(node, Call) and node.largs:
            return False
        if isinstance(node, Block):
            for b in node.bindings:
                if isinstance(b, UnpackLB) or (isinstance(b, LetB) and b.lbinders):
                    return False
        if isinstance(node, Ret) and node.lvars:
            return False
        stack.extend(children(node))
    return True


def residuals_only(lin: FuncDef) -> bool:
    """The linear half mentions non-linearly only the residuals it unpacks from its tape (and
    values it recomputes from them)."""
    body = lin.body
    if not isinstance(body, Block) or not isinstance(body.bindings[0], UnpackB):
        return False
    tape = body.bindings[0]
    if tape.var.name != lin.params[0].name:
        return False
    rest = Block(body.bindings[1:], body.result) if len(body.bindings) > 1 else body.result
    return free_vars(rest)[0] <= {b.name for b in tape.binders}


def homogeneous_linear(values: Sequence[Any], symbols: Sequence[sympy.Symbol]) -> bool:
    """Every output (leaves of tuples too) is a homogeneous polynomial of degree 1 in ``symbols``."""
    for v in _leaves(values):
        expr = sympy.expand(sympy.sympify(v))
        if expr == 0:
            continue
        poly = sympy.Poly(expr, *symbols)
        if any(sum(m) != 1 for m in poly.monoms()):
            return False
    return True


def _leaves(values: Any) -> list[Any]:
    if isinstance(values, tuple | list):
        return [x for v in values for x in _leaves(v)]
    return [values]


def exactly_equal(a: Any, b: Any) -> bool:
    """Sympy values equal: the difference expands to 0, or simplifies to 0."""
    la, lb = _leaves(a), _leaves(b)
    if len(la) != len(lb):
        return False
    for x, y in zip(la, lb, strict=True):
        diff = sympy.expand(sympy.sympify(x) - sympy.sympify(y))
        if diff != 0 and sympy.simplify(diff) != 0:
            return False
    return True


def close(a: Any, b: Any, rel: float = 1e-9) -> bool:
    la, lb = _leaves(a), _leaves(b)
    return len(la) == len(lb) and all(abs(x - y) <= rel * max(1.0, abs(x), abs(y))
                                      for x, y in zip(la, lb, strict=True))


def dot(a: Any, b: Any) -> Any:
    la, lb = _leaves(a), _leaves(b)
    total: Any = 0
    for x, y in zip(la, lb, strict=True):
        total += x * y
    return total


def count_drops(e: Expr) -> int:
    stack, n = [e], 0
    while stack:
        node = stack.pop()
        n += isinstance(node, Drop)
        stack.extend(children(node))
    return n
