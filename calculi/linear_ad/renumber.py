"""Canonical names for the passes' output, by counting: the fast form of ``rename.canonical``.

``canonical`` rebinds every binder to the foil's fresh name for its lexical scope. Starting from
the empty scope and adding one fresh name at a time, a scope always holds exactly the names
``0 … k-1``, so the fresh name of a binder is ``k``, the number of binders in scope. ``renumber``
counts instead of asking the foil, and keeps every sub-tree whose names do not change (the same
object, not a copy): the passes draw names in the order they write them, so most of their output is
already canonical and is walked, not rebuilt. While every binder so far has its canonical name
(J's and T's output, whole), a binding whose right-hand side binds nothing is kept without walking
its right-hand side, and names are recorded only once one changes. It answers to ``canonical`` in the theorem
``linear_ad.renumber_is_canonical``.
The nodes it does rebuild are made by setting their slots (``parse_tokens``' makers, as the parser
makes its own), not through the frozen dataclasses' ``__init__``. Unzip writes its halves canonical
as it builds them (``unzip_names``) and calls this only on a half checkpointing removed bindings from.
"""

from __future__ import annotations

from calculi.linear_ad.built import new_binder, new_letb, new_lvar, new_prim, new_var
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
    LVar,
    Prim,
    Ret,
    Tup,
    TupL,
    UnpackB,
    UnpackLB,
    Var,
)


def binds(e: Expr) -> bool:
    """Does ``e`` contain a binder (a block)?"""
    kind = type(e)
    if kind is Prim:
        assert isinstance(e, Prim)
        for a in e.args:
            if type(a) is not Var and binds(a):
                return True
        for a in e.largs:  # noqa: SIM110 (a loop: any() over a generator is slower on this hot path)
            if type(a) is not LVar and binds(a):
                return True
        return False
    if kind is Block:
        return True
    if kind is Dup or kind is Drop:
        assert isinstance(e, Dup | Drop)
        return binds(e.arg)
    return False


class _Renumber:
    __slots__ = ("identity", "sub")

    def __init__(self) -> None:
        self.sub: dict[int, int] = {}
        self.identity = True
        """Every binder so far has its canonical name: ``sub`` is the identity and left empty (the
        passes' names are distinct, so a name missing from ``sub`` is one kept as it was)."""

    def binders(self, bs: tuple[Binder, ...], k: int) -> tuple[Binder, ...]:
        """Give ``bs`` the names ``k, k+1, …``; the same tuple when they have them already."""
        if self.identity:
            for i, b in enumerate(bs):
                if b.name != k + i:
                    self.identity = False
                    break
            else:
                return bs
        sub = self.sub
        same = True
        for i, b in enumerate(bs):
            sub[b.name] = k + i
            if b.name != k + i:
                same = False
        if same:
            return bs
        return tuple(new_binder(k + i, b.hint, b.span) for i, b in enumerate(bs))

    def vars(self, vs: tuple[Var, ...]) -> tuple[Var, ...]:
        sub = self.sub
        for v in vs:
            if sub.get(v.name, v.name) != v.name:
                return tuple(v if sub.get(v.name, v.name) == v.name
                             else new_var(sub[v.name], v.hint, v.span) for v in vs)
        return vs

    def lvars(self, vs: tuple[LVar, ...]) -> tuple[LVar, ...]:
        sub = self.sub
        for v in vs:
            if sub.get(v.name, v.name) != v.name:
                return tuple(v if sub.get(v.name, v.name) == v.name
                             else new_lvar(sub[v.name], v.hint, v.span) for v in vs)
        return vs

    def exprs(self, es: tuple[Expr, ...], k: int) -> tuple[Expr, ...]:
        sub = self.sub
        out: list[Expr] | None = None
        for i, a in enumerate(es):
            b: Expr
            if type(a) is Var:
                n = sub.get(a.name, a.name)
                b = a if n == a.name else new_var(n, a.hint, a.span)
            else:
                b = self.expr(a, k)
            if b is not a and out is None:
                out = list(es[:i])
            if out is not None:
                out.append(b)
        return es if out is None else tuple(out)

    def expr(self, e: Expr, k: int) -> Expr:
        kind = type(e)
        if kind is Var:
            assert isinstance(e, Var)
            n = self.sub.get(e.name, e.name)
            return e if n == e.name else new_var(n, e.hint, e.span)
        if kind is LVar:
            assert isinstance(e, LVar)
            n = self.sub.get(e.name, e.name)
            return e if n == e.name else new_lvar(n, e.hint, e.span)
        if kind is Block:
            assert isinstance(e, Block)
            return self.block(e, k)
        if kind is Prim:
            assert isinstance(e, Prim)
            args, largs = self.exprs(e.args, k), self.exprs(e.largs, k)
            if args is e.args and largs is e.largs:
                return e
            return new_prim(e.prim, args, largs, e.params, e.span)
        if kind is Ret:
            assert isinstance(e, Ret)
            xs, ys = self.vars(e.vars), self.lvars(e.lvars)
            return e if xs is e.vars and ys is e.lvars else Ret(xs, ys, span=e.span)
        if kind is Tup:
            assert isinstance(e, Tup)
            xs = self.vars(e.vars)
            return e if xs is e.vars else Tup(xs, span=e.span)
        if kind is TupL:
            assert isinstance(e, TupL)
            ys = self.lvars(e.lvars)
            return e if ys is e.lvars else TupL(ys, span=e.span)
        if kind is Call:
            assert isinstance(e, Call)
            xs, ys = self.vars(e.args), self.lvars(e.largs)
            return e if xs is e.args and ys is e.largs else Call(e.func, xs, ys, span=e.span)
        if kind is Dup or kind is Drop:
            assert isinstance(e, Dup | Drop)
            arg = self.expr(e.arg, k)
            return e if arg is e.arg else type(e)(arg, span=e.span)
        return e

    def canonical_prefix(self, bindings: tuple[Binding, ...], k: int) -> tuple[int, int]:
        """While every binder so far is canonical: how many of ``bindings`` bind the next names in
        order with right-hand sides that bind nothing (kept as they are), and the count after them."""
        for i, b in enumerate(bindings):
            kind = type(b)
            if kind is LetB:
                assert isinstance(b, LetB)
                if binds(b.rhs):
                    return i, k
                groups = (b.binders, b.lbinders)
            elif kind is UnpackB:
                assert isinstance(b, UnpackB)
                groups = (b.binders, ())
            else:
                assert isinstance(b, UnpackLB)
                groups = (b.lbinders, ())
            j = k
            for group in groups:
                for x in group:
                    if x.name != j:
                        return i, k
                    j += 1
            k = j
        return len(bindings), k

    def block(self, e: Block, k: int) -> Block:
        start = 0
        if self.identity:
            start, k = self.canonical_prefix(e.bindings, k)
        out: list[Binding] = []
        changed = False
        for b in e.bindings[start:] if start else e.bindings:
            kind = type(b)
            nb: Binding
            if kind is LetB:
                assert isinstance(b, LetB)
                rhs = b.rhs if self.identity and not binds(b.rhs) else self.expr(b.rhs, k)
                xs = self.binders(b.binders, k)
                k += len(xs)
                ys = self.binders(b.lbinders, k)
                k += len(ys)
                same = rhs is b.rhs and xs is b.binders and ys is b.lbinders
                nb = b if same else new_letb(xs, ys, rhs, b.span)
            elif kind is UnpackB:
                assert isinstance(b, UnpackB)
                n = self.sub.get(b.var.name, b.var.name)
                src = b.var if n == b.var.name else new_var(n, b.var.hint, b.var.span)
                xs = self.binders(b.binders, k)
                k += len(xs)
                nb = b if src is b.var and xs is b.binders else UnpackB(xs, src, span=b.span)
            elif kind is UnpackLB:
                assert isinstance(b, UnpackLB)
                n = self.sub.get(b.var.name, b.var.name)
                lsrc = b.var if n == b.var.name else new_lvar(n, b.var.hint, b.var.span)
                ys = self.binders(b.lbinders, k)
                k += len(ys)
                nb = b if lsrc is b.var and ys is b.lbinders else UnpackLB(ys, lsrc, span=b.span)
            else:
                nb = b
            changed = changed or nb is not b
            out.append(nb)
        result = e.result if self.identity and not binds(e.result) else self.expr(e.result, k)
        if not changed and result is e.result:
            return e
        return Block((*e.bindings[:start], *out), result, span=e.span)


def renumber(d: FuncDef) -> FuncDef:
    """``d`` with every binder named as the parser would name it (equal to ``canonical(d)``)."""
    r = _Renumber()
    params = r.binders(d.params, 0)
    lparams = r.binders(d.lparams, len(params))
    body = r.expr(d.body, len(params) + len(lparams))
    if params is d.params and lparams is d.lparams and body is d.body:
        return d
    return FuncDef(d.name, params, d.param_types, lparams, d.lparam_types, d.result, body, span=d.span)
