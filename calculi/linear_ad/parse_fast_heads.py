"""The fast parser's reader of types and binders: a definition's parameters and result type, and
the pattern of a ``let``. Expressions are ``parse_fast``'s.
"""

from __future__ import annotations

from calculi.linear_ad.names import AnyScope
from calculi.linear_ad.parse_fast_cursor import LIMIT, Cursor, Env, Refuse
from calculi.linear_ad.parse_tokens import DEEP, FORM
from calculi.linear_ad.syntax import Binder
from calculi.linear_ad.types import REAL, TYPE_CONSTRUCTORS, Mixed, TupleType, Type

Parameters = list[list[tuple[Binder, Type]]]
"""A definition's parameters, before and after ``;``, each a binder and its type."""


class HeadReader(Cursor):
    """Types, parameter lists and patterns."""

    def parameters(self, env: Env, scope: AnyScope) -> tuple[Parameters, AnyScope]:
        """``x: τ, … ; y: σ, …`` up to ``)``, binding the names in ``env``."""
        groups: Parameters = [[], []]
        for which in (0, 1):
            if which == 1:
                if self.kinds[self.i] != ";":
                    break
                self.i += 1
            if self.kinds[self.i] == "NAME":
                while True:
                    binder, scope = self.bind(self.expect("NAME"), which == 1, env, scope)
                    self.expect(":")
                    groups[which].append((binder, self.type(0)))
                    if self.kinds[self.i] != ",":
                        break
                    self.i += 1
        return groups, scope

    def result(self) -> Mixed:
        """``τ`` or ``(τ̄ ; σ̄)``: a parenthesised type is a result of one type unless it has ``;``."""
        if self.kinds[self.i] != "(":
            return Mixed((self.type(0),), ())
        self.i += 1
        kinds = self.kinds
        items: list[Type] = []
        if kinds[self.i] == ")":
            self.i += 1
            return Mixed((TupleType(()),), ())
        if kinds[self.i] != ";":
            items.append(self.type(1))
            while kinds[self.i] == ",":
                self.i += 1
                if kinds[self.i] == ")" and len(items) == 1:
                    self.i += 1
                    return Mixed((TupleType((items[0],)),), ())
                items.append(self.type(1))
            if kinds[self.i] == ")":
                self.i += 1
                return Mixed((items[0] if len(items) == 1 else TupleType(tuple(items)),), ())
        self.expect(";")
        after: list[Type] = []
        if kinds[self.i] != ")":
            after.append(self.type(1))
            while kinds[self.i] == ",":
                self.i += 1
                after.append(self.type(1))
        self.expect(")")
        key = (tuple(items), tuple(after))
        mixed = self.results.get(key)
        if mixed is None:
            mixed = self.results[key] = Mixed(*key)
        return mixed

    def type(self, depth: int) -> Type:
        if depth > LIMIT:
            raise Refuse(DEEP)
        i = self.i
        kind = self.kinds[i]
        self.i = i + 1
        if kind == "ℝ":
            return REAL
        if kind == "NAME":
            name = self.word(i)
            if self.kinds[i + 1] == "[":
                raise Refuse(FORM)
            if name in ("R", "Real"):
                return REAL
            if name in TYPE_CONSTRUCTORS:
                return TYPE_CONSTRUCTORS[name](())
            raise Refuse
        if kind != "(":
            raise Refuse
        if self.kinds[self.i] == ")":
            self.i += 1
            return TupleType(())
        items = [self.type(depth + 1)]
        if self.kinds[self.i] == ")":
            self.i += 1
            return items[0]
        self.expect(",")
        if self.kinds[self.i] == ")":
            self.i += 1
            return TupleType((items[0],))
        items.append(self.type(depth + 1))
        while self.kinds[self.i] == ",":
            self.i += 1
            items.append(self.type(depth + 1))
        self.expect(")")
        return TupleType(tuple(items))

    def pattern(self) -> tuple[list[int], list[int], bool]:
        """The name tokens of a pattern, before and after ``;`` (a pattern without ``;`` has them
        all before), and whether it has a ``;``."""
        if self.kinds[self.i] == "NAME":
            self.i += 1
            return [self.i - 1], [], False
        self.expect("(")
        groups: tuple[list[int], list[int]] = ([], [])
        semi = False
        for which in (0, 1):
            if which == 1:
                if self.kinds[self.i] != ";":
                    break
                semi = True
                self.i += 1
            if self.kinds[self.i] == "NAME":
                groups[which].append(self.expect("NAME"))
                while self.kinds[self.i] == ",":
                    self.i += 1
                    groups[which].append(self.expect("NAME"))
        if not semi and not groups[0]:
            raise Refuse
        self.expect(")")
        return groups[0], groups[1], semi
