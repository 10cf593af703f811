"""Foil terms → text that parses back to the same term (same raw names, not only up to α).

Layout follows the grammar: a λ's body reaches to the right, so a λ in function or argument
position is parenthesised; application is left-associative, so an application in argument
position is parenthesised. Chains ``\\x. \\y. e`` and spines ``f a b c`` are collected so that
a broken line indents once per group, not once per constructor. A part nested more than
``width // 4`` groups deep is printed on one line (``flat``): indentation stops growing at half the
width, so the text of a deep term is as long as the term, not as its depth squared. Building the
document and rendering it (calculi.core.pretty) are both iterative.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from calculi.core.pretty import DEFAULT_WIDTH, Doc, concat, group, line, nest, parens, render, text
from calculi.foil.syntax import App, Expr, Lam, Var, display_names, flat, size

# A part of the document: (kind, doc), kind "atom" (a name), "app" or "lam" (what it prints as).
_Part = tuple[str, Doc]


def pretty(term: Expr[Any], width: int | None = DEFAULT_WIDTH) -> str:
    """The term as text; ``width=None`` prints on one line (fast, for big terms)."""
    name = display_names(term)
    if width is None:
        return flat(term, name)
    if size(term) <= width:
        line = flat(term, name)
        if len(line) <= width:  # it fits: the layout would put it on one line
            return line
    return render(to_doc(term, max(1, width // 4), name), width)


def to_doc(
    term: Expr[Any], levels: int = DEFAULT_WIDTH // 4, name: Callable[[int], str] | None = None
) -> Doc:
    """The document of ``term``; parts nested ``levels`` groups deep are single lines; ``name``
    spells names (by default ``display_names(term)``)."""
    spell = display_names(term) if name is None else name
    results: list[_Part] = []
    stack: list[tuple[Expr[Any], int] | tuple[str, Any]] = [(term, 0)]
    while stack:
        item = stack.pop()
        if isinstance(item[0], str):
            kind, extra = item
            _combine(results, kind, extra)
            continue
        t, level = item
        if isinstance(t, Var):
            results.append(("atom", text(spell(t.name))))  # type: ignore[arg-type]
        elif level >= levels:
            results.append(("app" if isinstance(t, App) else "lam", text(flat(t, spell))))
        elif isinstance(t, App):
            args: list[Expr[Any]] = []
            head: Expr[Any] = t
            while isinstance(head, App):
                args.append(head.arg)
                head = head.fun
            stack.append(("app", len(args)))
            stack.extend((a, level + 1) for a in args)
            stack.append((head, level))
        elif isinstance(t, Lam):
            names: list[str] = []
            body: Expr[Any] = t
            while isinstance(body, Lam):
                names.append(spell(body.binder))  # type: ignore[arg-type]
                body = body.body
            stack.append(("lam", names))
            stack.append((body, level + 1))
    return results[0][1]


def _combine(results: list[_Part], kind: str, extra: Any) -> None:
    """Replace the parts of a spine (head, then its arguments) or of a chain's body by one part."""
    if kind == "app":
        count: int = extra
        parts = results[-count - 1:]
        del results[-count - 1:]
        head_kind, head = parts[0]
        shown = [head if head_kind == "atom" else parens(head)]
        shown += [doc if k == "atom" else parens(doc) for k, doc in parts[1:]]
        args = concat(concat([line(), a]) for a in shown[1:])
        results.append(("app", group(concat([shown[0], nest(2, args)]))))
    else:
        header = " ".join(f"\\{name}." for name in extra)
        results.append(("lam", group(concat([text(header), nest(2, concat([line(), results.pop()[1]]))]))))
