"""The fast parser's direct readings: a call ``f(x)``, a constant, ``x op y``, and the commonest
bindings ``let x = f(y) in`` and ``let x = f(y) op z in``, each read in one step as
``parse_fast``'s productions read it.
"""

from __future__ import annotations

from calculi.core.parsing import literal
from calculi.core.syntax import Span
from calculi.linear_ad.built import new_call, new_letb, new_prim
from calculi.linear_ad.names import AnyScope
from calculi.linear_ad.parse_fast_cursor import LIMIT, Env, Parsed, Refuse, Undo
from calculi.linear_ad.parse_fast_heads import HeadReader
from calculi.linear_ad.parse_forms import STRUCTURAL
from calculi.linear_ad.primitives import PRIMITIVES
from calculi.linear_ad.syntax import Binding, Expr, Lit, Var, Zero
from calculi.linear_ad.types import REAL

BINARY = {"+", "-", "(+)", "⊕", "*", "×", "/", "*.", "⊙"}
"""The binary operators' tokens (``×`` also reads as a name, which these readings leave alone)."""


class DirectReader(HeadReader):
    """Calls, and bindings of a call read in one step."""

    def direct_binding(self, i: int, env: Env, scope: AnyScope,
                       undo: Undo) -> tuple[Binding, AnyScope, int] | None:
        """At ``let x =`` (token ``i``), ``let x = f(y) in`` or ``let x = f(y) op z in`` as
        ``binding`` reads it (its value by ``expr``), with its scope and height; else ``None``."""
        kinds = self.kinds
        start = self.starts[i]
        if (kinds[i + 3] == "NAME" and kinds[i + 4] == "(" and kinds[i + 5] == "NAME" and kinds[i + 6] == ")"
                and self.nest < LIMIT):
            op = kinds[i + 7]
            if op == "in":
                self.i = i + 8
                value: Expr = self.applied_to(i + 3, env)
                binder, scope = self.bind(i + 1, False, env, scope, undo)
                return new_letb((binder,), (), value, self.at(start, self.ends[i + 7])), scope, 2
            if op in BINARY and kinds[i + 8] == "NAME" and kinds[i + 9] == "in":
                self.i = i + 10
                operands = (self.applied_to(i + 3, env), self.variable(i + 8, env))
                value = self.apply(op, operands, self.at(self.starts[i + 3], self.ends[i + 8]))
                binder, scope = self.bind(i + 1, False, env, scope, undo)
                return new_letb((binder,), (), value, self.at(start, self.ends[i + 9])), scope, 3
        return None

    def operation(self, i: int, env: Env) -> tuple[Expr, int, int]:
        """``x op y`` at token ``i``, before a token that ends an expression, as ``sum`` reads it;
        where it ends, and its height."""
        self.i = i + 3
        operands = (self.variable(i, env), self.variable(i + 2, env))
        end = self.ends[i + 2]
        return self.apply(self.kinds[i + 1], operands, self.at(self.starts[i], end)), end, 2

    def constant(self, i: int) -> Parsed:
        """A number, or ``zero(τ)``, at token ``i``, as ``atom`` reads it."""
        start, end = self.starts[i], self.ends[i]
        self.i = i + 1
        if self.kinds[i] == "NUMBER":
            text = self.text[start:end]
            span = self.at(start, end)
            literal(text, span)
            return (Zero(REAL, span=span) if text == "0" else Lit(text, span=span)), start, end, 1
        self.expect("(")
        ty = self.type(0)
        end = self.ends[self.expect(")")]
        return Zero(ty, span=self.at(start, end)), start, end, 1

    def applied_to(self, i: int, env: Env) -> Expr:
        """``f(x)`` at token ``i``, as ``call`` reads it; a function's call is built directly."""
        arg = self.variable(i + 2, env)
        start = self.starts[i]
        name = self.text[start:self.ends[i]]
        span = self.at(start, self.ends[i + 3])
        if type(arg) is Var and name in self.functions and name not in STRUCTURAL and name not in PRIMITIVES:
            return new_call(name, (arg,), (), span)
        return self.applied(name, [arg], [], span)

    def applied(self, name: str, args: list[Expr], largs: list[Expr], span: Span) -> Expr:
        """The call of ``name`` (a structural form, a primitive or a function) on the arguments."""
        e: Expr
        if name in STRUCTURAL:
            e = self.forms.structural(name, args, largs, span)
        elif name in PRIMITIVES:
            p = PRIMITIVES[name]
            if p.arity is not None and (len(args) != p.arity or len(largs) != p.larity):
                raise Refuse
            e = new_prim(p, tuple(args), tuple(largs), (), span)
        elif name in self.functions:
            e = new_call(name, self.vars(args, "App"), self.lvars(largs, "App"), span)
        else:
            raise Refuse
        return e

