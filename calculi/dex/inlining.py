"""Inlining before differentiation: every function that is let-bound or applied is replaced by
its body, and every binder (``let``, ``\\x``, ``for``, a handler's reference) is renamed apart, so
that later passes may hoist and substitute without capture. A run of ``let``s is walked as a
loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, TypeVar, cast

from calculi.dex.semantics import children
from calculi.dex.syntax import PRIMITIVES, App, At, Case, Enum, Expr, For, Handle, Lam, Let, Var
from calculi.dex.tangents import Names

V = TypeVar("V")


def names_in(e: Expr) -> set[str]:
    out: set[str] = set()
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, Var):
            out.add(node.name)
        for value in _fields(node):
            if isinstance(value, Expr):
                stack.append(value)
            elif isinstance(value, tuple):
                stack += [alt for _, alt in value if isinstance(alt, Expr)]
        if isinstance(node, Lam | For):
            out.add(node.param if isinstance(node, Lam) else node.index)
        elif isinstance(node, Let):
            out.add(node.name)
        elif isinstance(node, Handle):
            out.add(node.ref)
    return out


def _fields(node: Expr) -> Iterator[object]:
    for name in type(node).__slots__:
        yield getattr(node, name)


def inline(e: Expr, names: Names, funs: dict[str, Lam] | None = None,
           rename: dict[str, str] | None = None) -> Expr:
    """``e`` with every function that is let-bound or applied inlined, every binder renamed apart."""

    def go(e: Expr, funs: dict[str, Lam], rename: dict[str, str]) -> Expr:
        spine: list[tuple[str, Expr, Let]] = []
        if isinstance(e, Let):  # the run's scope grows in place: nothing keeps the old one
            funs, rename = dict(funs), dict(rename)
        while isinstance(e, Let):
            if isinstance(e.bound, Lam):
                lam = go(e.bound, funs, rename)
                assert isinstance(lam, Lam)
                funs[e.name] = lam
                rename.pop(e.name, None)
            else:
                y = names.fresh(e.name)
                spine.append((y, go(e.bound, funs, rename), e))
                funs.pop(e.name, None)
                rename[e.name] = y
            e = e.body
        body = step(e, funs, rename)
        for y, bound, let in reversed(spine):
            body = Let(y, bound, body, span=let.span)
        return body

    def step(e: Expr, funs: dict[str, Lam], rename: dict[str, str]) -> Expr:
        match e:
            case Var(name=x):
                if x in funs:
                    return go(funs[x], {}, {})
                return Var(rename.get(x, x), span=e.span)
            case Lam(param=x, type=t, body=body):
                y = names.fresh(x)
                return Lam(y, t, go(body, _drop(funs, x), {**rename, x: y}), span=e.span)
            case For(index=i, type=n, body=body):
                j = names.fresh(i)
                return For(j, n, go(body, _drop(funs, i), {**rename, i: j}), span=e.span)
            case Handle(init=init, ref=r, body=body):
                s = names.fresh(r)
                return replace(e, init=None if init is None else go(init, funs, rename), ref=s,
                               body=go(body, _drop(funs, r), {**rename, r: s}))
            case App(fun=Var(name=p), arg=arg) if p in PRIMITIVES and p not in funs and p not in rename:
                return App(e.fun, go(arg, funs, rename), span=e.span)
            case App(fun=f, arg=arg):
                fun, value = go(f, funs, rename), go(arg, funs, rename)
                if isinstance(fun, Lam):
                    return go(Let(fun.param, value, fun.body, span=e.span), {}, {})
                return App(fun, value, span=e.span)
            case At(value=v, index=n):
                return e if isinstance(n, Enum) else At(go(v, funs, rename), n, span=e.span)
            case Case(scrutinee=s, alts=alts):
                return Case(go(s, funs, rename), tuple((lab, go(b, funs, rename)) for lab, b in alts),
                            span=e.span)
        return _map(e, lambda c: go(c, funs, rename))

    return go(e, funs or {}, rename or {})


def _drop(d: dict[str, V], key: str) -> dict[str, V]:
    return {k: v for k, v in d.items() if k != key} if key in d else d


def _map(e: Expr, f: Callable[[Expr], Expr]) -> Expr:
    """``e`` with ``f`` applied to each direct subexpression (a constructor binding nothing)."""
    if not children(e):
        return e
    changed = {name: f(value) for name in type(e).__slots__
               if isinstance(value := getattr(e, name), Expr)}
    return replace(e, **cast(dict[str, Any], changed))


__all__ = ["inline", "names_in"]
