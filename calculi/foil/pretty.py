"""Foil terms → text that parses back to the same term (same raw names, not only up to α).

Layout follows the grammar: a λ's body reaches to the right, so a λ in function or argument
position is parenthesised; application is left-associative, so an application in argument
position is parenthesised. Chains ``\\x. \\y. e`` and spines ``f a b c`` are collected so that
a broken line indents once per group, not once per constructor. Both the document builder and
the renderer (calculi.core.pretty) are iterative.
"""

from __future__ import annotations

from typing import Any

from calculi.core.pretty import DEFAULT_WIDTH, Doc, concat, group, line, nest, parens, render, text
from calculi.foil.names import spell
from calculi.foil.syntax import App, Expr, Lam, Var, fold

# A partial result of the fold: ("atom", doc) | ("app", [head, arg, ...]) | ("lam", [x_n, ..., x_1], body)
_Part = tuple[Any, ...]


def pretty(term: Expr[Any], width: int | None = DEFAULT_WIDTH) -> str:
    """The term as text; ``width=None`` prints on one line (fast, for big terms)."""
    if width is None:
        return flat(term)
    return render(to_doc(term), width)


def to_doc(term: Expr[Any]) -> Doc:
    return _finish(fold(term, _var, _app, _lam))


def _var(term: Var[Any]) -> _Part:
    return ("atom", text(spell(term.name)))  # type: ignore[arg-type]


def _app(term: App[Any], fun: _Part, arg: _Part) -> _Part:
    argument = _finish(arg) if arg[0] == "atom" else parens(_finish(arg))
    if fun[0] == "app":
        fun[1].append(argument)
        return fun
    head = _finish(fun) if fun[0] == "atom" else parens(_finish(fun))
    return ("app", [head, argument])


def _lam(term: Lam[Any, Any], body: _Part) -> _Part:
    name = spell(term.binder)  # type: ignore[arg-type]
    if body[0] == "lam":
        body[1].append(name)
        return body
    return ("lam", [name], _finish(body))


def _finish(part: _Part) -> Doc:
    if part[0] == "atom":
        doc: Doc = part[1]
        return doc
    if part[0] == "app":
        head, *args = part[1]
        return group(concat([head, nest(2, concat(concat([line(), a]) for a in args))]))
    header = " ".join(f"\\{name}." for name in reversed(part[1]))
    return group(concat([text(header), nest(2, concat([line(), part[2]]))]))


def flat(term: Expr[Any]) -> str:
    """One-line printing with an explicit stack (no document, linear time)."""
    out: list[str] = []
    stack: list[Expr[Any] | str] = [term]
    while stack:
        t = stack.pop()
        if isinstance(t, str):
            out.append(t)
        elif isinstance(t, Var):
            out.append(spell(t.name))  # type: ignore[arg-type]
        elif isinstance(t, Lam):
            out.append(f"\\{spell(t.binder)}. ")  # type: ignore[arg-type]
            stack.append(t.body)
        elif isinstance(t, App):
            arg, fun = t.arg, t.fun
            if isinstance(arg, Var):
                stack.append(arg)
            else:
                stack.extend((")", arg, "("))
            stack.append(" ")
            if isinstance(fun, Lam):
                stack.extend((")", fun, "("))
            else:
                stack.append(fun)
    return "".join(out)
