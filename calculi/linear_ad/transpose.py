"""Transpose: run linear code backwards; cotangents flow from outputs to inputs.

    def g(x̄ : τ̄ ; ẏ̄ : σ̄) → (; ρ̄)   ↦   def g.T(x̄ : τ̄ ; c̄ : ρ̄) → (; σ̄)

    T((; ẏ̄), c̄)                = {ẏi ↦ ci}
    T(let (; ẏ̄) = e1 in e2, c̄)  = T(e2, c̄) then T(e1, M(ẏ̄))            order reversed
    T(let (ẋ̄) = unpackL ẏ in e) = T(e) then let c_y = tupL(M(ẋ̄))        unpackL ↔ tupL
    T(tupL ẏ̄, c)               = let (c̄') = unpackL c                    tupL ↔ unpackL
    T(p(s̄ ; ė̄), c)             = let (; c̄') = transpose_rules[p](s̄, c) then T(ėi, c'i)
                                  (⊕ ↦ dup, s ⊙ · ↦ s ⊙ ·)
    T(0, c)                    = drop(c)                                  0 ↔ drop
    T(dup ė, (c1, c2))         = let c = c1 ⊕ c2 then T(ė, c)            dup ↔ ⊕
    T(drop e, ())              = drop (x̄ ;) and ċi = 0 for each ẏi       x̄ ; ẏ̄ = FV(e): e is not transposed
    T(g(x̄ ; ẏ̄), c̄)             = let (; c̄') = g.T(x̄ ; c̄)

Non-linear bindings inside linear code (recomputed values, unpacking of the tape) are replayed
forward, first, in their original order. A function with non-linear results is rejected.
"""

from __future__ import annotations

from collections.abc import Callable

from calculi.core import coverage
from calculi.core.errors import TypeCheckError
from calculi.linear_ad.check import Typing
from calculi.linear_ad.freevars import free_vars
from calculi.linear_ad.names import Supply
from calculi.linear_ad.primitives import LADD, params_dict, transpose_rules
from calculi.linear_ad.renumber import renumber
from calculi.linear_ad.rules import fire, fire_prim
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
    block,
    lvar_of,
    var_of,
)
from calculi.linear_ad.types import Mixed, Type


def transpose_name(name: str) -> str:
    return f"{name}.T"


def is_linear_function(d: FuncDef) -> bool:
    return bool(d.lparams or d.result.lin)


class _Transpose:
    def __init__(self, typing: Typing) -> None:
        self.typing = typing
        self.supply = Supply()
        self.sub: dict[int, Var] = {}
        self.ltypes: dict[int, Type] = {}
        self.forward: list[Binding] = []
        self.hoisted: set[int] = set()
        self.back: list[Binding] = []
        self.ct: dict[int, LVar] = {}
        self.counting = coverage.active()

    def cot(self, hint: str = "c") -> LVar:
        return lvar_of(self.supply.binder(hint))

    # -- non-linear code is replayed forward ----------------------------------------------------

    def copy(self, e: Expr) -> Expr:
        """A non-linear expression with its names moved to the output."""
        if isinstance(e, Var):
            return self.sub[e.name]
        if isinstance(e, Lit):
            return e
        if isinstance(e, Ret):
            if e.lvars:
                raise TypeCheckError("a linear value in non-linear code", e.span, rule="Transpose")
            return Ret(tuple(self.sub[v.name] for v in e.vars), ())
        if isinstance(e, Tup):
            return Tup(tuple(self.sub[v.name] for v in e.vars))
        if isinstance(e, Call):
            return Call(e.func, tuple(self.sub[v.name] for v in e.args), ())
        if isinstance(e, Prim):
            return Prim(e.prim, tuple(self.copy(a) for a in e.args), (), e.params, span=e.span)
        if isinstance(e, Drop):
            return Drop(self.copy(e.arg))
        if isinstance(e, Block):
            out: list[Binding] = []
            for b in e.bindings:
                if isinstance(b, LetB):
                    rhs = self.copy(b.rhs)
                    out.append(LetB(self.rebind(b.binders), (), rhs))
                elif isinstance(b, UnpackB):
                    src = self.sub[b.var.name]
                    out.append(UnpackB(self.rebind(b.binders), src))
            return Block(tuple(out), self.copy(e.result))
        raise TypeCheckError(f"a linear {type(e).__name__} in non-linear code", e.span, rule="Transpose")

    def rebind(self, binders: tuple[Binder, ...]) -> tuple[Binder, ...]:
        out = self.supply.binders(tuple(b.hint for b in binders))
        for b, nb in zip(binders, out, strict=True):
            self.sub[b.name] = var_of(nb)
        return out

    def hoist(self, e: Expr) -> None:
        """Pre-pass, forward: move every non-linear binding of the linear code to ``forward``."""
        stack: list[Expr] = [e]
        while stack:
            node = stack.pop()
            if isinstance(node, Block):
                pending: list[Expr] = []
                for b in node.bindings:
                    if isinstance(b, LetB) and b.binders:
                        if b.lbinders:
                            raise TypeCheckError("transpose applies to linear code; this let binds both "
                                                 "non-linear and linear names", b.span, rule="Transpose")
                        if self.counting:
                            fire("T(replay)")
                        self.forward.append(LetB(self.rebind(b.binders), (), self.copy(b.rhs)))
                        self.hoisted.add(id(b))
                    elif isinstance(b, UnpackB):
                        if self.counting:
                            fire("T(unpack)")
                        self.forward.append(UnpackB(self.rebind(b.binders), self.sub[b.var.name]))
                        self.hoisted.add(id(b))
                    elif isinstance(b, LetB):
                        self.record(b)
                        self.hoist_now(b.rhs)
                    elif isinstance(b, UnpackLB):
                        self.record(b)
                pending.append(node.result)
                stack.extend(reversed(pending))
            elif isinstance(node, Prim):
                for a in node.largs:
                    self.hoist_now(a)
            elif isinstance(node, Dup):
                self.hoist_now(node.arg)

    def hoist_now(self, e: Expr) -> None:
        if isinstance(e, Block | Prim | Dup):
            self.hoist(e)

    def record(self, b: LetB | UnpackLB) -> None:
        types = self.typing.binding_types[id(b)][1]
        for y, ty in zip(b.lbinders, types, strict=True):
            self.ltypes[y.name] = ty

    # -- linear code is transposed backwards --------------------------------------------------

    def emit(self, binding: Binding) -> None:
        self.back.append(binding)

    def t(self, e: Expr, cts: list[LVar]) -> None:
        rule = RULES.get(type(e))
        if rule is None:
            raise TypeCheckError(f"transpose applies to linear code, not to {type(e).__name__}", e.span,
                                 rule="Transpose")
        rule(self, e, cts)

    def lvar(self, e: Expr, cts: list[LVar]) -> None:
        """T(ẏ, c) = {ẏ ↦ c}."""
        assert isinstance(e, LVar)
        if self.counting:
            fire("T(ẏ)")
        self.ct[e.name] = cts[0]

    def ret(self, e: Expr, cts: list[LVar]) -> None:
        """T((; ẏ̄), c̄) = {ẏi ↦ ci}."""
        assert isinstance(e, Ret)
        if e.vars:
            raise TypeCheckError("transpose applies to linear code; this returns non-linear values",
                                 e.span, rule="Transpose")
        if self.counting:
            fire("T((; ẏ̄))")
        for v, c in zip(e.lvars, cts, strict=True):
            self.ct[v.name] = c

    def tupl(self, e: Expr, cts: list[LVar]) -> None:
        """T(tupL ẏ̄, c) = let (c̄') = unpackL c."""
        assert isinstance(e, TupL)
        if self.counting:
            fire("T(tupL)")
        parts = self.supply.binders(tuple("c" for _ in e.lvars))
        self.emit(UnpackLB(parts, cts[0]))
        for v, p in zip(e.lvars, parts, strict=True):
            self.ct[v.name] = lvar_of(p)

    def zero(self, e: Expr, cts: list[LVar]) -> None:
        """T(0, c) = drop(c)."""
        if self.counting:
            fire("T(0)")
        self.emit(LetB((), (), Drop(cts[0])))

    def dup(self, e: Expr, cts: list[LVar]) -> None:
        """T(dup ė, (c1, c2)) = let c = c1 ⊕ c2 then T(ė, c)."""
        assert isinstance(e, Dup)
        if self.counting:
            fire("T(dup)")
        summed = self.supply.binder("c")
        self.emit(LetB((), (summed,), Prim(LADD, (), tuple(cts))))
        self.t(e.arg, [lvar_of(summed)])

    def drop(self, e: Expr, cts: list[LVar]) -> None:
        """T(drop e, ()) = drop (x̄ ;) and ċi = 0 for each ẏi ∈ FV(e): e itself is not transposed."""
        assert isinstance(e, Drop)
        if self.counting:
            fire("T(drop)")
        nl, ln = free_vars(e.arg)
        if nl:
            self.emit(LetB((), (), Drop(Ret(tuple(self.sub[n] for n in sorted(nl)), ()))))
        for n in sorted(ln):
            z = self.supply.binder("c")
            self.emit(LetB((), (z,), Zero(self.ltypes[n])))
            self.ct[n] = lvar_of(z)

    def call(self, e: Expr, cts: list[LVar]) -> None:
        """T(g(x̄ ; ẏ̄), c̄) = let (; c̄') = g.T(x̄ ; c̄)."""
        assert isinstance(e, Call)
        if self.counting:
            fire("T(f)")
        d = self.typing.signatures[e.func]
        outs = self.supply.binders(tuple("c" for _ in d.lparams))
        self.emit(LetB((), outs, Call(transpose_name(e.func), tuple(self.sub[v.name] for v in e.args),
                                      tuple(cts))))
        for v, o in zip(e.largs, outs, strict=True):
            self.ct[v.name] = lvar_of(o)

    def prim(self, e: Expr, cts: list[LVar]) -> None:
        """T(p(s̄ ; ė̄), c) = let (; c̄') = transpose_rules[p](s̄, c) then T(ėi, c'i)."""
        assert isinstance(e, Prim)
        if not e.prim.linear:
            raise TypeCheckError(f"cannot transpose the non-linear primitive {e.prim.name}", e.span,
                                 rule="Transpose")
        rule = transpose_rules.get(e.prim)
        if rule is None:
            raise TypeCheckError(f"no transpose rule for the linear primitive {e.prim.name}", e.span,
                                 rule="Transpose")
        if self.counting:
            fire_prim("T", e.prim)
        consts = tuple([self.copy(a) for a in e.args])
        types = self.typing.expr_types
        ltypes = tuple([types[id(a)].lin[0] for a in e.largs])
        binder = self.supply.binder
        outs = tuple([binder("c") for _ in e.largs])
        self.back.append(LetB((), outs, rule(consts, cts[0], ltypes, params_dict(e.params))))
        for a, o in zip(e.largs, outs, strict=True):
            self.t(a, [lvar_of(o)])

    def block(self, e: Expr, cts: list[LVar]) -> None:
        """T(let (; ẏ̄) = e1 in e2, c̄) = T(e2, c̄) then T(e1, M(ẏ̄)); unpackL ↦ tupL."""
        assert isinstance(e, Block)
        self.t(e.result, cts)
        for b in reversed(e.bindings):
            if id(b) in self.hoisted:
                continue
            if isinstance(b, LetB):
                if self.counting:
                    fire("T(let)")
                self.t(b.rhs, [self.ct.pop(y.name) for y in b.lbinders])
            elif isinstance(b, UnpackLB):
                if self.counting:
                    fire("T(unpackL)")
                c = self.supply.binder("c")
                self.emit(LetB((), (c,), TupL(tuple(self.ct.pop(x.name) for x in b.lbinders))))
                self.ct[b.var.name] = lvar_of(c)

    def funcdef(self, d: FuncDef) -> FuncDef:
        if d.result.nonlin:
            raise TypeCheckError(f"cannot transpose {d.name}: it has non-linear results "
                                 f"({', '.join(map(str, d.result.nonlin))}); transpose applies to linear "
                                 "functions (unzip first)", d.span, rule="Transpose")
        params = self.rebind(d.params)
        for b, ty in zip(d.lparams, d.lparam_types, strict=True):
            self.ltypes[b.name] = ty
        cts = self.supply.binders(tuple("c" for _ in d.result.lin))
        self.hoist(d.body)
        self.t(d.body, [lvar_of(c) for c in cts])
        result = Ret((), tuple(self.ct[b.name] for b in d.lparams))
        body = block([*self.forward, *self.back], result)
        return renumber(FuncDef(transpose_name(d.name), params, d.param_types, cts, d.result.lin,
                                 Mixed((), d.lparam_types), body, span=d.span))


Rule = Callable[[_Transpose, Expr, list[LVar]], None]
RULES: dict[type, Rule] = {
    LVar: _Transpose.lvar,
    Ret: _Transpose.ret,
    TupL: _Transpose.tupl,
    Zero: _Transpose.zero,
    Dup: _Transpose.dup,
    Drop: _Transpose.drop,
    Call: _Transpose.call,
    Prim: _Transpose.prim,
    Block: _Transpose.block,
}
"""The structural transpose rules, keyed by constructor (primitives go through ``transpose_rules``)."""


def transpose_program(typing: Typing, name: str) -> Program:
    """T of ``name`` and of every linear function it calls (non-linear callees are kept as they are)."""
    from calculi.linear_ad.jvp import callees

    program = typing.program
    defs = []
    for g in callees(typing, name):
        d = program.get(g)
        assert d is not None
        defs.append(_Transpose(typing).funcdef(d) if is_linear_function(d) or g == name else d)
    return Program(tuple(defs))
