"""AST → text that parses back to the same AST, in ASCII or in the paper's Unicode notation.

    def f(x : ℝ ; ẋ : ℝ) → (ℝ ; ℝ) =
      let (v ; v̇) = (x ; ẋ) in
      (sin(v) ; cos(v) ⊙ v̇)

Display names come from the hints, made distinct within each function, so printing never
captures. Operators are a table keyed by primitive name (``INFIX``, and ``neg`` printed ``-x``),
with the grammar's precedences, so that parentheses appear only where they are needed; every
other primitive prints as ``name[k=v](args ; largs)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from calculi.core.pretty import Doc, concat, group, join, line, nest, render, text
from calculi.linear_ad.names import unicode_name
from calculi.linear_ad.renumber import binds
from calculi.linear_ad.syntax import (
    Binder,
    Binding,
    Block,
    Call,
    Drop,
    Dup,
    Expr,
    FuncDef,
    LetB,
    Lit,
    LVar,
    Prim,
    Program,
    Ret,
    Tup,
    TupL,
    UnpackB,
    UnpackLB,
    Var,
    Zero,
)
from calculi.linear_ad.types import REAL


@dataclass(frozen=True, slots=True)
class Infix:
    ascii: str
    unicode: str
    precedence: int
    right: bool = False
    """Right-associative (``**``): the left operand is printed one level tighter instead of the right."""


SUM, PRODUCT, UNARY, POWER, ATOM = 1, 2, 3, 4, 5
INFIX: dict[str, Infix] = {
    "add": Infix("+", "+", SUM),
    "sub": Infix("-", "-", SUM),
    "ladd": Infix("(+)", "⊕", SUM),
    "mul": Infix("*", "×", PRODUCT),
    "div": Infix("/", "/", PRODUCT),
    "scale": Infix("*.", "⊙", PRODUCT),
    "pow": Infix("**", "**", POWER, right=True),
}
"""The operators, by the name of the primitive each applies (as ``parse_forms.OPERATORS``)."""


class _Namer:
    """Distinct display names within one function, from hints."""

    def __init__(self, unicode: bool) -> None:
        self.unicode = unicode
        self.used: set[str] = set()
        self.counters: dict[str, int] = {}
        self.current: dict[int, str] = {}

    def bind(self, b: Binder, linear: bool) -> str:
        base = unicode_name(b.hint, linear) if self.unicode else b.hint
        shown = base
        while shown in self.used:
            k = self.counters.get(base, 0) + 1
            self.counters[base] = k
            shown = f"{base}{k}"
        self.used.add(shown)
        self.current[b.name] = shown
        return shown

    def ref(self, name: int, hint: str) -> str:
        return self.current.get(name, f"{hint}?{name}")


class Printer:
    def __init__(self, unicode: bool = True) -> None:
        self.unicode = unicode
        self.names = _Namer(unicode)

    def funcdef(self, d: FuncDef) -> Doc:
        self.names = _Namer(self.unicode)
        return group(text(self.head(d)) + nest(2, line() + self.expr(d.body)))

    def funcdef_text(self, d: FuncDef, width: int) -> str:
        """``render(self.funcdef(d), width)``, laid out without the document of a long body.

        When a body ``let b1 in … e`` does not fit on the head's line, each binding goes on its own
        line at indent 2, and its group breaks only when its flat text is wider than ``width - 2``
        (the line break after it ends the room it needs): that flat text is written directly, and
        only a binding too wide for its line is laid out by ``render``, on its own. A body with a
        block nested in it is rendered whole. The theorem ``linear_ad.printer_fast_is_render``
        checks the two agree."""
        body = d.body
        if not isinstance(body, Block) or binds(body.result) or any(
                isinstance(b, LetB) and binds(b.rhs) for b in body.bindings):
            return render(self.funcdef(d), width)
        self.names = _Namer(self.unicode)
        head = self.head(d)
        flats: list[str] = []
        docs: list[Callable[[], Doc] | None] = []
        for b in body.bindings:
            if isinstance(b, LetB):
                flat, doc = self.let_text(b)
            else:
                flat, doc = render(self.binding(b), width), None
            flats.append(flat)
            docs.append(doc)
        result = body.result
        flats.append(self.flat(result))
        docs.append(lambda: self.expr(result))
        if len(head) + sum(len(f) + 1 for f in flats) <= width:
            return " ".join([head, *flats])
        out = [head]
        for flat, doc in zip(flats, docs, strict=True):
            if doc is None or len(flat) + 2 <= width:
                out.append("\n  " + flat)
            else:
                out.append(render(nest(2, line() + doc()), width))
        return "".join(out)

    def head(self, d: FuncDef) -> str:
        u = self.unicode
        params = [f"{self.names.bind(b, False)}: {t.show(u)}" for b, t in zip(d.params, d.param_types,
                                                                             strict=True)]
        lparams = [f"{self.names.bind(b, True)}: {t.show(u)}" for b, t in zip(d.lparams, d.lparam_types,
                                                                            strict=True)]
        return f"def {d.name}({self.mixed(params, lparams)}) {'→' if u else '->'} {d.result.show(u)} ="

    def let_text(self, b: LetB) -> tuple[str, Callable[[], Doc]]:
        """The flat text of a binding whose right-hand side binds nothing, and its document."""
        rhs = self.flat(b.rhs, 1)
        pattern = self.pattern(b)
        return f"let {pattern} = {rhs} in", lambda: self.let_doc(pattern, self.expr(b.rhs, 1))

    def flat(self, e: Expr, prec: int = 0) -> str:
        """``self.expr(e, prec)`` laid out on one line, for an ``e`` that binds nothing."""
        if isinstance(e, Prim):
            operands = [*e.args, *e.largs]
            name = e.prim.name
            infix = INFIX.get(name)
            if infix is not None and not e.params and len(operands) == 2 and _shaped(e):
                op = infix.unicode if self.unicode else infix.ascii
                left, right = (ATOM, UNARY) if infix.right else (infix.precedence, infix.precedence + 1)
                shown = f"{self.flat(operands[0], left)} {op} {self.flat(operands[1], right)}"
                return f"({shown})" if prec > infix.precedence else shown
            if name == "neg" and not e.params and len(e.args) == 1 and not e.largs and not e.prim.linear:
                operand = e.args[0]
                gap = " " if _starts_with_sign_or_digit(operand) else ""
                shown = f"-{gap}{self.flat(operand, UNARY)}"
                return f"({shown})" if prec > UNARY else shown
            args = ", ".join([self.flat(a) for a in e.args])
            if e.largs or e.prim.linear:
                args += (" ; " if e.args else "; ") + ", ".join([self.flat(a) for a in e.largs])
            return f"{name}{_params(e)}({args})"
        if isinstance(e, Lit) and e.text.startswith("-") and prec >= ATOM:
            return f"({e.text})"
        return self.atom(e)

    @staticmethod
    def mixed(left: list[str], right: list[str]) -> str:
        if not right:
            return ", ".join(left)
        return (", ".join(left) + " ; " if left else "; ") + ", ".join(right)

    def expr(self, e: Expr, prec: int = 0) -> Doc:
        if isinstance(e, Block):
            docs = [self.binding(b) for b in e.bindings]
            body = join(line(), [*docs, self.expr(e.result)])
            return text("(") + nest(1, body) + text(")") if prec > 0 else body
        if isinstance(e, Prim):
            return self.prim(e, prec)
        if isinstance(e, Lit) and e.text.startswith("-") and prec >= ATOM:
            return text(f"({e.text})")
        return text(self.atom(e))

    def binding(self, b: Binding) -> Doc:
        if isinstance(b, LetB):
            rhs = self.expr(b.rhs, 1)
            return self.let_doc(self.pattern(b), rhs)
        if isinstance(b, UnpackB):
            src = self.atom(b.var)
            xs = [self.names.bind(x, False) for x in b.binders]
            return text(f"let ({', '.join(xs) or ';'}) = unpack {src} in")
        assert isinstance(b, UnpackLB)
        src = self.atom(b.var)
        ys = [self.names.bind(y, True) for y in b.lbinders]
        return text(f"let ({', '.join(ys) or ';'}) = unpackL {src} in")

    def pattern(self, b: LetB) -> str:
        """The pattern of ``let``, its names bound (after its right-hand side's)."""
        xs = [self.names.bind(x, False) for x in b.binders]
        ys = [self.names.bind(y, True) for y in b.lbinders]
        if len(xs) == 1 and not ys:
            return xs[0]
        if ys:
            return f"({self.mixed(xs, ys)})"
        return f"({', '.join(xs)} ;)" if xs else "(;)"

    @staticmethod
    def let_doc(pattern: str, rhs: Doc) -> Doc:
        return group(text(f"let {pattern} =") + nest(2, line() + rhs) + text(" in"))

    def prim(self, e: Prim, prec: int) -> Doc:
        operands = [*e.args, *e.largs]
        name = e.prim.name
        infix = INFIX.get(name)
        if infix is not None and not e.params and len(operands) == 2 and _shaped(e):
            op = infix.unicode if self.unicode else infix.ascii
            left, right = (ATOM, UNARY) if infix.right else (infix.precedence, infix.precedence + 1)
            doc = group(self.expr(operands[0], left) + text(f" {op}") + line()
                        + self.expr(operands[1], right))
            return text("(") + doc + text(")") if prec > infix.precedence else doc
        if name == "neg" and not e.params and len(e.args) == 1 and not e.largs and not e.prim.linear:
            operand = e.args[0]
            gap = " " if _starts_with_sign_or_digit(operand) else ""
            doc = text("-" + gap) + self.expr(operand, UNARY)
            return text("(") + doc + text(")") if prec > UNARY else doc
        args = [self.expr(a) for a in e.args]
        largs = [self.expr(a) for a in e.largs]
        return text(f"{e.prim.name}{_params(e)}(") + self.mixed_docs(args, largs, e.prim.linear) + text(")")

    def mixed_docs(self, left: list[Doc], right: list[Doc], force_semi: bool = False) -> Doc:
        if not right and not force_semi:
            return join(", ", left)
        return concat([join(", ", left), text(" ; " if left else "; "), join(", ", right)])

    def atom(self, e: Expr) -> str:
        if isinstance(e, Var | LVar):
            return self.names.ref(e.name, e.hint)
        if isinstance(e, Lit):
            return e.text
        if isinstance(e, Zero):
            return "0" if e.type == REAL else f"zero({e.type.show(self.unicode)})"
        if isinstance(e, Ret):
            return f"({self.mixed([self.atom(v) for v in e.vars], [self.atom(v) for v in e.lvars]) or ';'})" \
                if e.lvars or not e.vars else f"({', '.join(self.atom(v) for v in e.vars)} ;)"
        if isinstance(e, Tup):
            return f"tup({', '.join(self.atom(v) for v in e.vars)})"
        if isinstance(e, TupL):
            return f"tupL({'; ' if not e.lvars else ''}{', '.join(self.atom(v) for v in e.lvars)})"
        if isinstance(e, Call):
            args = self.mixed([self.atom(v) for v in e.args], [self.atom(v) for v in e.largs])
            return f"{e.func}({args})"
        if isinstance(e, Dup | Drop):
            name = "dup" if isinstance(e, Dup) else "drop"
            return f"{name}({render(self.expr(e.arg), 10_000)})"
        raise TypeError(f"cannot print {type(e).__name__}")


def _shaped(e: Prim) -> bool:
    """Whether the operands of ``e`` sit as its operator puts them: a linear primitive takes its
    first ``arity`` operands as constants (``a ⊙ ẋ``), a non-linear one takes them all."""
    if e.prim.linear:
        return len(e.args) == (e.prim.arity or 0)
    return not e.largs


def _starts_with_sign_or_digit(e: Expr) -> bool:
    """Whether ``e`` printed after a unary ``-`` would start with ``-``, a digit or ``.``: ``- -x``
    and ``- 1.5`` need a space (``--`` opens a comment, ``-1.5`` is a literal)."""
    while isinstance(e, Prim) and e.prim.name == "pow" and e.args:
        e = e.args[0]
    if isinstance(e, Prim) and e.prim.name == "neg":
        return True
    return isinstance(e, Lit) or (isinstance(e, Zero) and e.type == REAL)


def _params(e: Prim) -> str:
    return "[" + ", ".join(f"{k}={_pvalue(v)}" for k, v in e.params) + "]" if e.params else ""


def _pvalue(v: object) -> str:
    if isinstance(v, tuple):
        inner = ", ".join(_pvalue(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, str):
        return v if v.isidentifier() else f'"{v}"'
    return repr(v)


def show_program(p: Program, unicode: bool = True, width: int = 100) -> str:
    printer = Printer(unicode)
    return "\n\n".join(printer.funcdef_text(d, width) for d in p.defs)


def show_def(d: FuncDef, unicode: bool = True, width: int = 100) -> str:
    return Printer(unicode).funcdef_text(d, width)


def show_expr(e: Expr, unicode: bool = True, width: int = 100) -> str:
    return render(Printer(unicode).expr(e), width)
