"""Conversion between foil terms and de Bruijn terms (the oracle), both directions iterative.

``to_debruijn(e, Γ)`` reads the free names of ``e`` in the context Γ (a list of raw names; a
free ``Γ[k]`` under ``d`` binders is the index ``d + k``; by default Γ lists FV(e) in increasing
order). ``from_debruijn(t, Θ, Γ)`` names every binder with a name fresh for the scope so far
(``with_fresh``'s choice), so the result never shadows: it is the canonical representative of its
α-class in Θ.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from calculi.core.errors import ScopeError
from calculi.foil.baselines.debruijn import DB, DApp, DLam, DVar
from calculi.foil.core import Scope, extend_scope, fresh_id, unsafe_binder, unsafe_name
from calculi.foil.syntax import App, Expr, Lam, Var, free_names, names_of_scope

N = TypeVar("N")


def to_debruijn(term: Expr[Any], context: Sequence[int] | None = None) -> DB:
    """The de Bruijn form of ``term``; free names are looked up in ``context``."""
    gamma = sorted(free_names(term)) if context is None else list(context)
    position = {name: k for k, name in reversed(list(enumerate(gamma)))}
    levels: dict[int, list[int]] = {}
    results: list[DB] = []
    stack: list[tuple[Any, int, int]] = [(term, 0, 0)]  # (term, depth, phase)
    while stack:
        t, depth, phase = stack.pop()
        if isinstance(t, Var):
            name: int = t.name  # type: ignore[assignment]
            bound = levels.get(name)
            if bound:
                results.append(DVar(depth - 1 - bound[-1]))
            elif name in position:
                results.append(DVar(depth + position[name]))
            else:
                raise ScopeError(f"name {name} is free but not in the context", t.span)
        elif isinstance(t, App):
            if phase == 0:
                stack.append((t, depth, 1))
                stack.append((t.arg, depth, 0))
                stack.append((t.fun, depth, 0))
            else:
                arg = results.pop()
                results.append(DApp(results.pop(), arg))
        elif isinstance(t, Lam):
            binder: int = t.binder  # type: ignore[assignment]
            if phase == 0:
                levels.setdefault(binder, []).append(depth)
                stack.append((t, depth, 1))
                stack.append((t.body, depth + 1, 0))
            else:
                levels[binder].pop()
                results.append(DLam(results.pop()))
    return results[0]


def from_debruijn(term: DB, scope: Scope[N], context: Sequence[int] | None = None) -> Expr[N]:
    """A foil term of scope ``N`` for ``term``: free index ``d + k`` is ``context[k]`` (by default
    the names of ``scope`` in increasing order); binders are fresh for the scope so far."""
    gamma = names_of_scope(scope) if context is None else list(context)
    env: list[int] = []  # binder names, innermost last
    results: list[Expr[Any]] = []
    stack: list[tuple[DB, Any, int]] = [(term, scope, 0)]
    while stack:
        t, theta, phase = stack.pop()
        if isinstance(t, DVar):
            if t.index < len(env):
                results.append(Var(unsafe_name(env[-1 - t.index])))
            elif t.index - len(env) < len(gamma):
                results.append(Var(unsafe_name(gamma[t.index - len(env)])))
            else:
                raise ScopeError(f"de Bruijn index {t.index} is free but the context has {len(gamma)} names")
        elif isinstance(t, DApp):
            if phase == 0:
                stack.append((t, theta, 1))
                stack.append((t.arg, theta, 0))
                stack.append((t.fun, theta, 0))
            else:
                arg = results.pop()
                results.append(App(results.pop(), arg))
        elif phase == 0:
            binder: Any = unsafe_binder(fresh_id(theta))
            env.append(binder)
            stack.append((t, theta, 1))
            stack.append((t.body, extend_scope(binder, theta), 0))
        else:
            results.append(Lam(unsafe_binder(env.pop()), results.pop()))
    out: Expr[N] = results[0]
    return out
