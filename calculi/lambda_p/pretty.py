"""Core λp → surface text that parses back to the same (canonical) term.

With ``sugar=True`` (the default) the printer re-sugars what the desugarer produced:
``(λx. e2) e1`` prints as ``x <- e1; e2`` (``e1; e2`` when x is unused), a boolean ``case`` as
``if``, a one-branch tuple ``case`` as a pattern binding; each of these parses back to the same
core term. ``sugar=False`` (``:desugar``) prints the core forms as they are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from calculi.core.pretty import Doc, concat, group, join, line, nest, render, text
from calculi.lambda_p.deep import deep
from calculi.lambda_p.syntax import (
    TUPLE,
    App,
    Arr,
    Branch,
    Case,
    Con,
    For,
    Global,
    Handle,
    Index,
    Lam,
    Lit,
    Perform,
    Prim,
    Term,
    Var,
    children,
)

KEYWORDS = {
    "def",
    "let",
    "in",
    "if",
    "then",
    "else",
    "for",
    "case",
    "of",
    "handle",
    "handler",
    "perform",
    "return",
    "traverse",
}
PRIM_FUNCTIONS = {"length", "show", "not"}
_NAME = re.compile(r"[a-z_][A-Za-z0-9_']*\Z")

# precedence levels: 0 open forms, 1 ||, 2 &&, 3 comparisons, 4 ++, 5 + -, 6 * / %, 7 application,
# 8 projection, 9 atoms
LEVEL = {
    "||": 1,
    "&&": 2,
    "==": 3,
    "!=": 3,
    "<": 3,
    "<=": 3,
    ">": 3,
    ">=": 3,
    "++": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
}
RIGHT_ASSOC = {"||", "&&", "++"}
NON_ASSOC = {"==", "!=", "<", "<=", ">", ">="}


def _globals(term: Term) -> set[str]:
    found: set[str] = set()
    stack: list[object] = [term]
    while stack:
        t = stack.pop()
        if isinstance(t, Global):
            found.add(t.name)
        elif isinstance(t, Lam | For):
            stack.append(t.body)
            if isinstance(t, For):
                stack.append(t.bound)
        elif isinstance(t, App):
            stack += [t.fn, t.arg]
        elif isinstance(t, Index):
            stack += [t.array, t.index]
        elif isinstance(t, Arr):
            stack += t.items
        elif isinstance(t, Con | Prim):
            stack += t.args
        elif isinstance(t, Handle):
            stack += [v for _, v in t.handler.clauses] + [t.param, t.body]
        elif isinstance(t, Case):
            stack += [t.scrutinee, *(b.body for b in t.branches)]
    return found


def _occurs(name: int, term: Term) -> bool:
    """Does the variable ``name`` occur free in ``term``? (binders shadow; a loop, for deep terms)"""
    stack: list[Term] = [term]
    while stack:
        t = stack.pop()
        if isinstance(t, Var):
            if t.name == name:
                return True
        else:
            for child, bound in children(t):
                if name not in bound:
                    stack.append(child)
    return False


class Printer:
    def __init__(self, reserved: set[str], sugar: bool) -> None:
        self.reserved = reserved
        self.sugar = sugar

    def choose(self, names: dict[int, str], binder: int, hint: str, body: Term | None) -> str:
        if body is not None and not _occurs(binder, body):
            return "_"
        base = hint.rstrip("0123456789'") if _NAME.match(hint) and hint != "_" else "x"
        base = base or "x"
        taken = set(names.values()) | self.reserved
        candidate, i = base, 0
        while candidate in taken:
            i += 1
            candidate = f"{base}{i}"
        return candidate

    def bind(
        self, names: dict[int, str], binder: int, hint: str, body: Term | None
    ) -> tuple[str, dict[int, str]]:
        shown = self.choose(names, binder, hint, body)
        inner = {k: v for k, v in names.items() if k != binder}
        if shown != "_":
            inner[binder] = shown
        return shown, inner

    def doc(self, t: Term, names: dict[int, str], prec: int) -> Doc:
        d, level = self.form(t, names)
        return concat(["(", d, ")"]) if level < prec else d

    def form(self, t: Term, names: dict[int, str]) -> tuple[Doc, int]:
        if isinstance(t, Lit):
            if isinstance(t.value, str):
                return text(json.dumps(t.value, ensure_ascii=False)), 9
            return text(f"({t.value})" if t.value < 0 else str(t.value)), 9
        if isinstance(t, Var):
            return text(t.hint if t.name < 0 else names.get(t.name, f"?{t.name}")), 9
        if isinstance(t, Global):
            return text(t.name), 9
        if isinstance(t, Perform):
            return text(f"perform {t.op}"), 9
        if isinstance(t, Arr):
            return concat(["<", join(", ", (self.doc(i, names, 0) for i in t.items)), ">"]), 9
        if isinstance(t, Con):
            if t.tag == TUPLE:
                return concat(["(", join(", ", (self.doc(a, names, 0) for a in t.args)), ")"]), 9
            if not t.args:
                return text(t.tag), 9
            return concat([t.tag, " ", join(" ", (self.doc(a, names, 8) for a in t.args))]), 7
        if isinstance(t, Lam):
            params: list[str] = []
            body: Term = t
            while isinstance(body, Lam):
                shown, names = self.bind(names, body.binder, body.hint, body.body)
                params.append(shown)
                body = body.body
            return group(
                concat(["\\", " ".join(params), ".", nest(2, concat([line(), self.doc(body, names, 0)]))])
            ), 0
        if isinstance(t, App):
            if self.sugar and isinstance(t.fn, Lam) and not isinstance(t.fn.body, Lam):
                shown, inner = self.bind(names, t.fn.binder, t.fn.hint, t.fn.body)
                head: list[Doc | str] = (
                    [self.doc(t.arg, names, 1), ";"]
                    if shown == "_"
                    else [shown, " <- ", self.doc(t.arg, names, 1), ";"]
                )
                return concat([*head, line(), self.doc(t.fn.body, inner, 0)]), 0
            spine: list[Term] = []
            fn: Term = t
            while isinstance(fn, App) and not (
                self.sugar and isinstance(fn.fn, Lam) and not isinstance(fn.fn.body, Lam)
            ):
                spine.append(fn.arg)
                fn = fn.fn
            args = [concat([line(), self.doc(a, names, 8)]) for a in reversed(spine)]
            return group(concat([self.doc(fn, names, 7), nest(2, concat(args))])), 7
        if isinstance(t, Index):
            return concat([self.doc(t.array, names, 8), ".", self.doc(t.index, names, 9)]), 8
        if isinstance(t, For):
            shown, inner = self.bind(names, t.binder, t.hint, None)
            return group(
                concat(
                    [
                        f"for {shown}:",
                        self.doc(t.bound, names, 9),
                        ".",
                        nest(2, concat([line(), self.doc(t.body, inner, 0)])),
                    ]
                )
            ), 0
        if isinstance(t, Handle):
            clauses = [
                group(concat([k, " ->", nest(4, concat([line(), self.doc(v, names, 0)]))]))
                for k, v in t.handler.clauses
            ]
            hdoc = concat(["{", nest(2, join(concat([",", line()]), clauses)), "}"])
            return group(
                concat(
                    [
                        "handle ",
                        hdoc,
                        nest(
                            2,
                            concat([line(), self.doc(t.param, names, 9), line(), self.doc(t.body, names, 9)]),
                        ),
                    ]
                )
            ), 7
        if isinstance(t, Prim):
            if t.op in LEVEL and len(t.args) == 2:
                level = LEVEL[t.op]
                if t.op in NON_ASSOC:
                    parts: list[Doc | str] = [
                        self.doc(t.args[0], names, level + 1),
                        f" {t.op}",
                        line(),
                        self.doc(t.args[1], names, level + 1),
                    ]
                    return group(concat(parts)), level
                # a chain of one precedence level is one flat group (a shallow document)
                chain: list[tuple[str, Term]] = []
                node: Term = t
                if t.op in RIGHT_ASSOC:
                    while isinstance(node, Prim) and node.op in RIGHT_ASSOC and LEVEL.get(node.op) == level:
                        chain.append((node.op, node.args[0]))
                        node = node.args[1]
                    docs: list[Doc | str] = []
                    for op, operand in chain:
                        docs += [self.doc(operand, names, level + 1), f" {op}", line()]
                    return group(concat([*docs, self.doc(node, names, level)])), level
                while (
                    isinstance(node, Prim)
                    and node.op in LEVEL
                    and len(node.args) == 2
                    and (LEVEL[node.op] == level and node.op not in RIGHT_ASSOC | NON_ASSOC)
                ):
                    chain.append((node.op, node.args[1]))
                    node = node.args[0]
                docs = [self.doc(node, names, level)]
                for op, operand in reversed(chain):
                    docs += [f" {op}", line(), self.doc(operand, names, level + 1)]
                return group(concat(docs)), level
            return concat([t.op, " ", join(" ", (self.doc(a, names, 8) for a in t.args))]), 7
        if isinstance(t, Case):
            return self.case(t, names)
        raise TypeError(f"not a λp term: {t!r}")

    def case(self, t: Case, names: dict[int, str]) -> tuple[Doc, int]:
        tags = [b.tag for b in t.branches]
        if self.sugar and tags == ["True", "False"]:
            return group(
                concat(
                    [
                        "if ",
                        self.doc(t.scrutinee, names, 0),
                        " then",
                        nest(2, concat([line(), self.doc(t.branches[0].body, names, 0)])),
                        line(),
                        "else",
                        nest(2, concat([line(), self.doc(t.branches[1].body, names, 0)])),
                    ]
                )
            ), 0
        if self.sugar and tags == [TUPLE] and len(t.branches[0].binders) >= 2:
            pat, inner = self.pattern(t.branches[0], names)
            return concat(
                [
                    pat,
                    " <- ",
                    self.doc(t.scrutinee, names, 1),
                    ";",
                    line(),
                    self.doc(t.branches[0].body, inner, 0),
                ]
            ), 0
        branches = []
        for b in t.branches:
            pat, inner = self.pattern(b, names)
            branches.append(
                group(concat([pat, " ->", nest(2, concat([line(), self.doc(b.body, inner, 0)]))]))
            )
        return group(
            concat(
                [
                    "case ",
                    self.doc(t.scrutinee, names, 0),
                    " of {",
                    nest(2, concat([softline_(), join(concat([line(), "| "]), branches)])),
                    "}",
                ]
            )
        ), 9

    def pattern(self, b: Branch, names: dict[int, str]) -> tuple[Doc, dict[int, str]]:
        shown: list[str] = []
        hints = b.hints or ("x",) * len(b.binders)
        for binder, hint in zip(b.binders, hints, strict=True):
            # pattern variables are never printed as '_' unless unused in the body
            s, names = self.bind(names, binder, hint, b.body)
            shown.append(s)
        if b.tag is None:
            return text(shown[0]), names
        if b.tag == TUPLE:
            return text("(" + ", ".join(shown) + ")"), names
        return text(" ".join([b.tag, *shown])), names


def softline_() -> Doc:
    return line("")


def to_doc(term: Term, sugar: bool = True) -> Doc:
    reserved = KEYWORDS | PRIM_FUNCTIONS | _globals(term)
    return Printer(reserved, sugar).doc(term, {}, 0)


def show(term: Term, width: int = 100, sugar: bool = True) -> str:
    """The term in the surface syntax (re-parses to the same canonical term)."""
    return deep(lambda: render(to_doc(term, sugar), width))


def show_lines(term: Term) -> Iterator[str]:
    yield from show(term).splitlines()
