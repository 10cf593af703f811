"""The fast parser's reader of types and binders: a definition's parameters and result type, and
the pattern of a ``let``. Expressions are ``parse_fast``'s.
"""

from __future__ import annotations

from calculi.linear_ad.names import AnyScope
from calculi.linear_ad.parse_fast_cursor import LIMIT, Cursor, Env, Refuse
from calculi.linear_ad.parse_tokens import DEEP, FORM
from calculi.linear_ad.syntax import Binder
from calculi.linear_ad.types import REAL, TYPE_CONSTRUCTORS, Mixed, TupleType, Type

Parameters = tuple[tuple[Binder, ...], tuple[Type, ...], tuple[Binder, ...], tuple[Type, ...]]
"""A definition's parameters and their types, before and after ``;``."""


_REAL = ("R", "Real")
"""The names of the type ``ℝ``."""
_REALS: tuple[Type, ...] = (REAL,)
_REAL_RESULT: tuple[tuple[Type, ...], tuple[Type, ...]] = (_REALS, ())
"""``(ℝ ; )``, the commonest result type, read directly (and a single parameter of type ``ℝ``)."""


class HeadReader(Cursor):
    """Types, parameter lists and patterns."""

    real_result: Mixed | None = None
    """``results[(ℝ,), ()]`` once read."""

    def parameters(self, env: Env, scope: AnyScope) -> tuple[Parameters, AnyScope]:
        """``x: τ, … ; y: σ, …`` up to ``)``, binding the names in ``env``."""
        kinds = self.kinds
        i = self.i
        if (kinds[i] == "NAME" and kinds[i + 1] == ":" and kinds[i + 2] == "NAME" and kinds[i + 3] == ")"
                and self.text[self.starts[i + 2]:self.ends[i + 2]] in _REAL):
            self.i = i + 3
            binder, scope = self.bind(i, False, env, scope)
            return ((binder,), _REALS, (), ()), scope
        groups: list[tuple[list[Binder], list[Type]]] = [([], []), ([], [])]
        for which in (0, 1):
            i = self.i
            if which == 1:
                if kinds[i] != ";":
                    break
                i += 1
            binders, types = groups[which]
            while kinds[i] == "NAME":
                if kinds[i + 1] != ":":
                    raise Refuse
                self.i = i + 2
                binder, scope = self.bind(i, which == 1, env, scope)
                binders.append(binder)
                types.append(self.type(0))
                i = self.i
                if kinds[i] != ",":
                    break
                i += 1
                if kinds[i] != "NAME":
                    raise Refuse
            self.i = i
        (ps, ts), (lps, lts) = groups
        return (tuple(ps), tuple(ts), tuple(lps), tuple(lts)), scope

    def result(self) -> Mixed:
        """``τ`` or ``(τ̄ ; σ̄)``: a parenthesised type is a result of one type unless it has ``;``."""
        i = self.i
        kinds = self.kinds
        if kinds[i] != "(":
            return Mixed((self.type(0),), ())
        if (kinds[i + 1] == "NAME" and kinds[i + 2] == ";" and kinds[i + 3] == ")"
                and self.text[self.starts[i + 1]:self.ends[i + 1]] in _REAL):
            self.i = i + 4
            mixed = self.real_result
            if mixed is None:
                mixed = self.results.get(_REAL_RESULT)
                if mixed is None:
                    mixed = self.results[_REAL_RESULT] = Mixed(*_REAL_RESULT)
                self.real_result = mixed
            return mixed
        self.i = i + 1
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
            name = self.text[self.starts[i]:self.ends[i]]
            if self.kinds[i + 1] == "[":
                raise Refuse(FORM)
            if name in _REAL:
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
