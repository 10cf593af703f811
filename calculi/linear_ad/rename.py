"""Renaming: rebind every binder of a function with names fresh for its lexical scope.

This is substitution of names for names (the foil's ``add_rename`` step at every binder): the
passes draw names from one growing supply, and ``canonical`` rebinds them exactly as the parser
would (each binder one past the largest name in scope), so that printing a pass's output and
parsing it back gives the same AST.
"""

from __future__ import annotations

from calculi.core.errors import UnboundError
from calculi.linear_ad.names import AnyScope, empty, fresh
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
    Program,
    Ret,
    Tup,
    TupL,
    UnpackB,
    UnpackLB,
    Var,
)


class _Renamer:
    def __init__(self) -> None:
        self.sub: dict[int, int] = {}

    def binder(self, b: Binder, scope: AnyScope) -> tuple[Binder, AnyScope]:
        name, scope = fresh(scope)
        self.sub[b.name] = name
        return Binder(name, b.hint, span=b.span), scope

    def renamed(self, v: Var | LVar) -> int:
        """The new name of ``v``; a variable bound nowhere in the function is an error at its use."""
        name = self.sub.get(v.name)
        if name is None:
            raise UnboundError(f"{v.hint} is not in scope", v.span, rule="Var")
        return name

    def var(self, v: Var) -> Var:
        return Var(self.renamed(v), v.hint, span=v.span)

    def lvar(self, v: LVar) -> LVar:
        return LVar(self.renamed(v), v.hint, span=v.span)

    def expr(self, e: Expr, scope: AnyScope) -> Expr:
        if isinstance(e, Var):
            return self.var(e)
        if isinstance(e, LVar):
            return self.lvar(e)
        if isinstance(e, Ret):
            return Ret(tuple(map(self.var, e.vars)), tuple(map(self.lvar, e.lvars)), span=e.span)
        if isinstance(e, Tup):
            return Tup(tuple(map(self.var, e.vars)), span=e.span)
        if isinstance(e, TupL):
            return TupL(tuple(map(self.lvar, e.lvars)), span=e.span)
        if isinstance(e, Call):
            return Call(e.func, tuple(map(self.var, e.args)), tuple(map(self.lvar, e.largs)), span=e.span)
        if isinstance(e, Prim):
            return Prim(e.prim, tuple(self.expr(a, scope) for a in e.args),
                        tuple(self.expr(a, scope) for a in e.largs), e.params, span=e.span)
        if isinstance(e, Dup):
            return Dup(self.expr(e.arg, scope), span=e.span)
        if isinstance(e, Drop):
            return Drop(self.expr(e.arg, scope), span=e.span)
        if isinstance(e, Block):
            out: list[Binding] = []
            for b in e.bindings:
                if isinstance(b, LetB):
                    rhs = self.expr(b.rhs, scope)
                    xs, ys = [], []
                    for x in b.binders:
                        nx, scope = self.binder(x, scope)
                        xs.append(nx)
                    for y in b.lbinders:
                        ny, scope = self.binder(y, scope)
                        ys.append(ny)
                    out.append(LetB(tuple(xs), tuple(ys), rhs, span=b.span))
                elif isinstance(b, UnpackB):
                    src = self.var(b.var)
                    xs = []
                    for x in b.binders:
                        nx, scope = self.binder(x, scope)
                        xs.append(nx)
                    out.append(UnpackB(tuple(xs), src, span=b.span))
                elif isinstance(b, UnpackLB):
                    lsrc = self.lvar(b.var)
                    ys = []
                    for y in b.lbinders:
                        ny, scope = self.binder(y, scope)
                        ys.append(ny)
                    out.append(UnpackLB(tuple(ys), lsrc, span=b.span))
            return Block(tuple(out), self.expr(e.result, scope), span=e.span)
        return e

    def funcdef(self, d: FuncDef) -> FuncDef:
        scope = empty()
        params, lparams = [], []
        for b in d.params:
            nb, scope = self.binder(b, scope)
            params.append(nb)
        for b in d.lparams:
            nb, scope = self.binder(b, scope)
            lparams.append(nb)
        body = self.expr(d.body, scope)
        return FuncDef(d.name, tuple(params), d.param_types, tuple(lparams), d.lparam_types, d.result,
                       body, span=d.span)


def canonical(d: FuncDef) -> FuncDef:
    """``d`` with every binder renamed as the parser would name it."""
    return _Renamer().funcdef(d)


def canonical_program(p: Program) -> Program:
    return Program(tuple(canonical(d) for d in p.defs), span=p.span)
