"""Core λp → surface text that parses back to the same (canonical) term.

With ``sugar=True`` (the default) the printer re-sugars what the desugarer produced:
``(λx. e2) e1`` prints as ``x <- e1; e2`` (``e1; e2`` when x is unused), a boolean ``case`` as
``if``, a one-branch tuple ``case`` as a pattern binding; each of these parses back to the same
core term. ``sugar=False`` (``:desugar``) prints the core forms as they are.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from calculi.core.pretty import Doc, concat, group, join, line, nest, render, text
from calculi.lambda_p.deep import deep
from calculi.lambda_p.flat import flat_data, literal_text
from calculi.lambda_p.syntax import (
    TUPLE,
    App,
    Arr,
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
    stack: list[Term] = [term]
    while stack:
        t = stack.pop()
        if isinstance(t, Global):
            found.add(t.name)
        else:
            stack.extend(child for child, _ in children(t))
    return found


Site = tuple[int, int, int]
"""Where a name is bound: (id of the binding node, which of its children, the binder)."""


class _Survey:
    """One walk over a term, without recursion: the binding sites whose name occurs in their scope,
    and the nodes that are data (literals, arrays and constructors of data), which print flat."""

    def __init__(self, term: Term) -> None:
        self.used: set[Site] = set()
        self.data: set[int] = set()
        env: dict[int, Site] = {}
        undo: list[tuple[int, Site | None]] = []
        stack: list[tuple[Term, tuple[tuple[int, Site], ...] | int]] = [(term, ())]
        while stack:
            t, binds = stack.pop()
            if isinstance(binds, int):  # leaving t: its scope ends
                while len(undo) > binds:
                    name, old = undo.pop()
                    if old is None:
                        del env[name]
                    else:
                        env[name] = old
                if isinstance(t, Lit) or (
                    isinstance(t, Arr | Con) and all(id(c) in self.data for c, _ in children(t))
                ):
                    self.data.add(id(t))
                continue
            stack.append((t, len(undo)))
            for name, site in binds:
                undo.append((name, env.get(name)))
                env[name] = site
            if isinstance(t, Var):
                binding = env.get(t.name)
                if binding is not None:
                    self.used.add(binding)
                continue
            for k, (child, bound) in reversed(list(enumerate(children(t)))):
                stack.append((child, tuple((name, (id(t), k, name)) for name in bound)))


class Printer:
    """Terms to documents. The names in scope (binder → name shown) are one mutable map, bound and
    unbound around each scope, with a count of each name shown, so that choosing a name costs
    the same at any depth."""

    def __init__(self, term: Term, reserved: set[str], sugar: bool, flat: bool = True) -> None:
        self.reserved = reserved
        self.sugar = sugar
        self.flat = flat
        survey = _Survey(term)
        self.used, self.data = survey.used, survey.data
        self.names: dict[int, str] = {}
        self.shown: Counter[str] = Counter()
        self._undo: list[tuple[int, str | None]] = []

    def choose(self, binder: int, hint: str, site: Site | None) -> str:
        if site is not None and site not in self.used:
            return "_"
        base = hint.rstrip("0123456789'") if _NAME.match(hint) and hint != "_" else "x"
        base = base or "x"
        candidate, i = base, 0
        while self.shown[candidate] or candidate in self.reserved:
            i += 1
            candidate = f"{base}{i}"
        return candidate

    def bind(self, binder: int, hint: str, site: Site | None) -> str:
        """Bring ``binder`` into scope (``site`` None: always named, never ``_``); ``unbind``
        takes it out again."""
        shown = self.choose(binder, hint, site)
        old = self.names.pop(binder, None)
        if old is not None:
            self.shown[old] -= 1
        if shown != "_":
            self.names[binder] = shown
            self.shown[shown] += 1
        self._undo.append((binder, old))
        return shown

    def unbind(self, count: int = 1) -> None:
        for _ in range(count):
            binder, old = self._undo.pop()
            now = self.names.pop(binder, None)
            if now is not None:
                self.shown[now] -= 1
            if old is not None:
                self.names[binder] = old
                self.shown[old] += 1

    def doc(self, t: Term, prec: int) -> Doc:
        d, level = self.form(t)
        return concat(["(", d, ")"]) if level < prec else d

    def form(self, t: Term) -> tuple[Doc, int]:
        if isinstance(t, Lit):
            return text(literal_text(t.value)), 9
        if isinstance(t, Var):
            return text(t.hint if t.name < 0 else self.names.get(t.name, f"?{t.name}")), 9
        if isinstance(t, Global):
            return text(t.name), 9
        if isinstance(t, Perform):
            return text(f"perform {t.op}"), 9
        if self.flat and isinstance(t, Arr | Con) and id(t) in self.data and (
                t.items if isinstance(t, Arr) else t.args):
            return text(flat_data(t)), 7 if isinstance(t, Con) and t.tag != TUPLE else 9
        if isinstance(t, Arr):
            return concat(["<", join(", ", (self.doc(i, 0) for i in t.items)), ">"]), 9
        if isinstance(t, Con):
            if t.tag == TUPLE:
                return concat(["(", join(", ", (self.doc(a, 0) for a in t.args)), ")"]), 9
            if not t.args:
                return text(t.tag), 9
            return concat([t.tag, " ", join(" ", (self.doc(a, 8) for a in t.args))]), 7
        if isinstance(t, Lam):
            params: list[str] = []
            body: Term = t
            while isinstance(body, Lam):
                params.append(self.bind(body.binder, body.hint, (id(body), 0, body.binder)))
                body = body.body
            inside = self.doc(body, 0)
            self.unbind(len(params))
            return group(concat(["\\", " ".join(params), ".", nest(2, concat([line(), inside]))])), 0
        if isinstance(t, App):
            if self.sugar and isinstance(t.fn, Lam) and not isinstance(t.fn.body, Lam):
                value = self.doc(t.arg, 1)
                shown = self.bind(t.fn.binder, t.fn.hint, (id(t.fn), 0, t.fn.binder))
                rest = self.doc(t.fn.body, 0)
                self.unbind()
                head: list[Doc | str] = [value, ";"] if shown == "_" else [shown, " <- ", value, ";"]
                return concat([*head, line(), rest]), 0
            spine: list[Term] = []
            fn: Term = t
            while isinstance(fn, App) and not (
                self.sugar and isinstance(fn.fn, Lam) and not isinstance(fn.fn.body, Lam)
            ):
                spine.append(fn.arg)
                fn = fn.fn
            args = [concat([line(), self.doc(a, 8)]) for a in reversed(spine)]
            return group(concat([self.doc(fn, 7), nest(2, concat(args))])), 7
        if isinstance(t, Index):
            return concat([self.doc(t.array, 8), ".", self.doc(t.index, 9)]), 8
        if isinstance(t, For):
            bound = self.doc(t.bound, 9)
            shown = self.bind(t.binder, t.hint, None)
            inside = self.doc(t.body, 0)
            self.unbind()
            return group(concat([f"for {shown}:", bound, ".", nest(2, concat([line(), inside]))])), 0
        if isinstance(t, Handle):
            clauses = [
                group(concat([k, " ->", nest(4, concat([line(), self.doc(v, 0)]))]))
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
                            concat([line(), self.doc(t.param, 9), line(), self.doc(t.body, 9)]),
                        ),
                    ]
                )
            ), 7
        if isinstance(t, Prim):
            if t.op in LEVEL and len(t.args) == 2:
                level = LEVEL[t.op]
                if t.op in NON_ASSOC:
                    parts: list[Doc | str] = [
                        self.doc(t.args[0], level + 1),
                        f" {t.op}",
                        line(),
                        self.doc(t.args[1], level + 1),
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
                        docs += [self.doc(operand, level + 1), f" {op}", line()]
                    return group(concat([*docs, self.doc(node, level)])), level
                while (
                    isinstance(node, Prim)
                    and node.op in LEVEL
                    and len(node.args) == 2
                    and (LEVEL[node.op] == level and node.op not in RIGHT_ASSOC | NON_ASSOC)
                ):
                    chain.append((node.op, node.args[1]))
                    node = node.args[0]
                docs = [self.doc(node, level)]
                for op, operand in reversed(chain):
                    docs += [f" {op}", line(), self.doc(operand, level + 1)]
                return group(concat(docs)), level
            return concat([t.op, " ", join(" ", (self.doc(a, 8) for a in t.args))]), 7
        if isinstance(t, Case):
            return self.case(t)
        raise TypeError(f"not a λp term: {t!r}")

    def case(self, t: Case) -> tuple[Doc, int]:
        tags = [b.tag for b in t.branches]
        if self.sugar and tags == ["True", "False"]:
            return group(
                concat(
                    [
                        "if ",
                        self.doc(t.scrutinee, 0),
                        " then",
                        nest(2, concat([line(), self.doc(t.branches[0].body, 0)])),
                        line(),
                        "else",
                        nest(2, concat([line(), self.doc(t.branches[1].body, 0)])),
                    ]
                )
            ), 0
        if self.sugar and tags == [TUPLE] and len(t.branches[0].binders) >= 2:
            value = self.doc(t.scrutinee, 1)
            pat = self.pattern(t, 0)
            rest = self.doc(t.branches[0].body, 0)
            self.unbind(len(t.branches[0].binders))
            return concat([pat, " <- ", value, ";", line(), rest]), 0
        scrutinee = self.doc(t.scrutinee, 0)
        branches = []
        for k, b in enumerate(t.branches):
            pat = self.pattern(t, k)
            inside = self.doc(b.body, 0)
            self.unbind(len(b.binders))
            branches.append(group(concat([pat, " ->", nest(2, concat([line(), inside]))])))
        return group(
            concat(
                [
                    "case ",
                    scrutinee,
                    " of {",
                    nest(2, concat([softline_(), join(concat([line(), "| "]), branches)])),
                    "}",
                ]
            )
        ), 9

    def pattern(self, t: Case, k: int) -> Doc:
        """Branch k's pattern, its names brought into scope (the caller unbinds them)."""
        b = t.branches[k]
        hints = b.hints or ("x",) * len(b.binders)
        # pattern variables are never printed as '_' unless unused in the body
        shown = [self.bind(x, hint, (id(t), k + 1, x)) for x, hint in zip(b.binders, hints, strict=True)]
        if b.tag is None:
            return text(shown[0])
        if b.tag == TUPLE:
            return text("(" + ", ".join(shown) + ")")
        return text(" ".join([b.tag, *shown]))


def softline_() -> Doc:
    return line("")


def to_doc(term: Term, sugar: bool = True, flat: bool = True) -> Doc:
    """``flat``: data as one text (``flat_data``), rather than a document of its parts."""
    reserved = KEYWORDS | PRIM_FUNCTIONS | _globals(term)
    return Printer(term, reserved, sugar, flat).doc(term, 0)


def show(term: Term, width: int = 100, sugar: bool = True) -> str:
    """The term in the surface syntax (re-parses to the same canonical term)."""
    if isinstance(term, Lit | Arr | Con):
        try:
            return flat_data(term)
        except TypeError:  # not data: a λ inside
            pass
    return deep(lambda: render(to_doc(term, sugar), width))


def show_lines(term: Term) -> Iterator[str]:
    yield from show(term).splitlines()
