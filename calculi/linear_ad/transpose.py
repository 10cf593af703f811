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
from calculi.linear_ad.built import draw, draws, new_funcdef, new_mixed
from calculi.linear_ad.check import Typing
from calculi.linear_ad.freevars import free_vars
from calculi.linear_ad.names import Supply
from calculi.linear_ad.parse_tokens import new_binder, new_letb, new_lvar, new_prim
from calculi.linear_ad.primitives import LADD, TransposeRule, transpose_rules
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
from calculi.linear_ad.types import Type


def transpose_name(name: str) -> str:
    return f"{name}.T"


def is_linear_function(d: FuncDef) -> bool:
    return bool(d.lparams or d.result.lin)


class _Transpose:
    """T of one function. Names are drawn in the order they are written (the parameters, the
    forward replay, then the backward pass), one past the names in scope, so the output is canonical
    as it is built; a block left nested gives its names back when it is done."""

    def __init__(self, typing: Typing) -> None:
        self.typing = typing
        self.expr_types = typing.expr_types
        self.supply = Supply()
        self.sub: dict[int, Var] = {}
        self.forward: list[Binding] = []
        self.back: list[Binding] = []
        self.ct: dict[int, LVar] = {}
        self.rules: dict[int, TransposeRule] = {}
        self.counting = coverage.active()

    # -- non-linear code is replayed forward ----------------------------------------------------

    def copy(self, e: Expr) -> Expr:
        """A non-linear expression with its names moved to the output."""
        kind = type(e)
        if kind is Var:
            return self.sub[e.name]  # type: ignore[attr-defined]
        if kind is Prim:
            assert isinstance(e, Prim)
            return new_prim(e.prim, tuple([self.copy(a) for a in e.args]), (), e.params, e.span)
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
            return new_prim(e.prim, tuple([self.copy(a) for a in e.args]), (), e.params, e.span)
        if isinstance(e, Drop):
            return Drop(self.copy(e.arg))
        if isinstance(e, Block):
            start = self.supply.next
            out: list[Binding] = []
            for b in e.bindings:
                if isinstance(b, LetB):
                    rhs = self.copy(b.rhs)
                    out.append(new_letb(self.rebind(b.binders), (), rhs, None))
                elif isinstance(b, UnpackB):
                    src = self.sub[b.var.name]
                    out.append(UnpackB(self.rebind(b.binders), src))
            copied = Block(tuple(out), self.copy(e.result))
            self.supply.next = start  # its names are its own: the binders after it are named from start
            return copied
        raise TypeCheckError(f"a linear {type(e).__name__} in non-linear code", e.span, rule="Transpose")

    def rebind(self, binders: tuple[Binder, ...]) -> tuple[Binder, ...]:
        out = draws(self.supply, tuple(b.hint for b in binders))
        for b, nb in zip(binders, out, strict=True):
            self.sub[b.name] = var_of(nb)
        return out

    def hoist(self, e: Expr) -> None:
        """Pre-pass, forward: copy every non-linear binding of the linear code to ``forward`` (the
        backward pass skips them: a let of non-linear names, an unpack). Only blocks, applications
        and dups can hold bindings: variables, results and the rest are not entered."""
        while True:
            kind = type(e)
            if kind is Block:
                assert isinstance(e, Block)
                self.replay(e.bindings)
                e = e.result
            elif kind is Prim:
                assert isinstance(e, Prim)
                for a in e.largs:
                    if type(a) in _NESTING:
                        self.hoist(a)
                return
            elif kind is Dup:
                assert isinstance(e, Dup)
                e = e.arg
            else:
                return

    def replay(self, bindings: tuple[Binding, ...]) -> None:
        """``hoist`` of a block's bindings, in order."""
        forward = self.forward
        for b in bindings:
            if type(b) is LetB:
                assert isinstance(b, LetB)
                if b.binders:
                    if b.lbinders:
                        raise TypeCheckError("transpose applies to linear code; this let binds both "
                                             "non-linear and linear names", b.span, rule="Transpose")
                    if self.counting:
                        fire("T(replay)")
                    rhs = self.copy(b.rhs)
                    forward.append(new_letb(self.rebind(b.binders), (), rhs, None))
                else:
                    rhs = b.rhs
                    if type(rhs) is Prim:  # (inline: an application ``s ⊙ ẏ`` of variables is not entered)
                        assert isinstance(rhs, Prim)
                        for a in rhs.largs:
                            if type(a) in _NESTING:
                                self.hoist(a)
                    elif type(rhs) in _NESTING:
                        self.hoist(rhs)
            elif type(b) is UnpackB:
                assert isinstance(b, UnpackB)
                if self.counting:
                    fire("T(unpack)")
                src = self.sub[b.var.name]
                forward.append(UnpackB(self.rebind(b.binders), src))

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
        parts = draws(self.supply, ("c",) * len(e.lvars))
        self.emit(UnpackLB(parts, cts[0]))
        for v, p in zip(e.lvars, parts, strict=True):
            self.ct[v.name] = lvar_of(p)

    def zero(self, e: Expr, cts: list[LVar]) -> None:
        """T(0, c) = drop(c)."""
        if self.counting:
            fire("T(0)")
        self.emit(new_letb((), (), Drop(cts[0]), None))

    def dup(self, e: Expr, cts: list[LVar]) -> None:
        """T(dup ė, (c1, c2)) = let c = c1 ⊕ c2 then T(ė, c)."""
        assert isinstance(e, Dup)
        if self.counting:
            fire("T(dup)")
        summed = draw(self.supply, "c")
        self.emit(new_letb((), (summed,), new_prim(LADD, (), tuple(cts), (), None), None))
        self.t(e.arg, [lvar_of(summed)])

    def drop(self, e: Expr, cts: list[LVar]) -> None:
        """T(drop e, ()) = drop (x̄ ;) and ċi = 0 for each ẏi ∈ FV(e): e itself is not transposed."""
        assert isinstance(e, Drop)
        if self.counting:
            fire("T(drop)")
        nl, ln = free_vars(e.arg)
        if nl:
            self.emit(LetB((), (), Drop(Ret(tuple(self.sub[n] for n in sorted(nl)), ()))))
        types = self.typing.drop_types[id(e)]  # (the checker's: each free variable's type)
        for n in sorted(ln):
            z = draw(self.supply, "c")
            self.emit(new_letb((), (z,), Zero(types[n]), None))
            self.ct[n] = lvar_of(z)

    def call(self, e: Expr, cts: list[LVar]) -> None:
        """T(g(x̄ ; ẏ̄), c̄) = let (; c̄') = g.T(x̄ ; c̄)."""
        assert isinstance(e, Call)
        if self.counting:
            fire("T(f)")
        d = self.typing.signatures[e.func]
        outs = draws(self.supply, ("c",) * len(d.lparams))
        sub = self.sub
        self.emit(new_letb((), outs, Call(transpose_name(e.func), tuple([sub[v.name] for v in e.args]),
                                          tuple(cts)), None))
        for v, o in zip(e.largs, outs, strict=True):
            self.ct[v.name] = lvar_of(o)

    def prim(self, e: Expr, cts: list[LVar]) -> None:
        """T(p(s̄ ; ė̄), c) = let (; c̄') = transpose_rules[p](s̄, c) then T(ėi, c'i)."""
        assert isinstance(e, Prim)
        p = e.prim
        rule = self.rules.get(id(p))  # (read once per primitive: a primitive's hash is its fields')
        if rule is None:
            rule = self.rule_of(e)
        if self.counting:
            fire_prim("T", p)
        sub = self.sub
        consts = tuple([sub[a.name] if type(a) is Var else self.copy(a) for a in e.args])
        types = self.expr_types
        largs = e.largs
        supply = self.supply
        first = supply.next
        ct = self.ct
        params = e.params
        ps = dict(params) if params else {}
        n = len(largs)
        supply.next = first + n
        if n == 1:  # (``s ⊙ ė``: no comprehension)
            ltypes: tuple[Type, ...] = (types[id(largs[0])].lin[0],)
            outs: tuple[Binder, ...] = (new_binder(first, "c", None),)
        else:
            ltypes = tuple([types[id(a)].lin[0] for a in largs])
            outs = tuple([new_binder(first + i, "c", None) for i in range(n)])
        self.back.append(new_letb((), outs, rule(consts, cts[0], ltypes, ps), None))
        for i, a in enumerate(largs):
            if type(a) is LVar:  # T(ẏ, c) = {ẏ ↦ c}
                if self.counting:
                    fire("T(ẏ)")
                ct[a.name] = new_lvar(first + i, "c", None)
            else:
                self.t(a, [new_lvar(first + i, "c", None)])

    def rule_of(self, e: Prim) -> TransposeRule:
        """The transpose rule of ``e``'s primitive (remembered for the pass), or why there is none."""
        p = e.prim
        if not p.linear:
            raise TypeCheckError(f"cannot transpose the non-linear primitive {p.name}", e.span,
                                 rule="Transpose")
        rule = transpose_rules.get(p)
        if rule is None:
            raise TypeCheckError(f"no transpose rule for the linear primitive {p.name}", e.span,
                                 rule="Transpose")
        self.rules[id(p)] = rule
        return rule

    def block(self, e: Expr, cts: list[LVar]) -> None:
        """T(let (; ẏ̄) = e1 in e2, c̄) = T(e2, c̄) then T(e1, M(ẏ̄)); unpackL ↦ tupL."""
        assert isinstance(e, Block)
        self.t(e.result, cts)
        ct = self.ct
        for b in reversed(e.bindings):
            kind = type(b)
            if kind is LetB:
                assert isinstance(b, LetB)
                if b.binders:  # (non-linear: replayed forward by ``hoist``)
                    continue
                if self.counting:
                    fire("T(let)")
                rhs = b.rhs
                rule = RULES.get(type(rhs))
                if rule is None:
                    self.t(rhs, [])  # (raises)
                else:
                    rule(self, rhs, [ct.pop(y.name) for y in b.lbinders])
            elif kind is UnpackLB:
                assert isinstance(b, UnpackLB)
                if self.counting:
                    fire("T(unpackL)")
                c = draw(self.supply, "c")
                self.emit(new_letb((), (c,), TupL(tuple([ct.pop(x.name) for x in b.lbinders])), None))
                ct[b.var.name] = lvar_of(c)

    def funcdef(self, d: FuncDef) -> FuncDef:
        if d.result.nonlin:
            raise TypeCheckError(f"cannot transpose {d.name}: it has non-linear results "
                                 f"({', '.join(map(str, d.result.nonlin))}); transpose applies to linear "
                                 "functions (unzip first)", d.span, rule="Transpose")
        supply = self.supply
        supply.next = supply.start  # (each function's names start afresh)
        self.sub, self.forward, self.back, self.ct = {}, [], [], {}
        params = self.rebind(d.params)
        first = supply.next
        m = len(d.result.lin)
        supply.next = first + m
        cts = tuple([new_binder(first + i, "c", None) for i in range(m)])
        body = d.body
        self.hoist(body)
        if type(body) is Block:
            self.block(body, [new_lvar(first + i, "c", None) for i in range(m)])
        else:
            self.t(body, [new_lvar(first + i, "c", None) for i in range(m)])
        ct = self.ct
        forward = self.forward
        forward.extend(self.back)
        result = Ret((), tuple([ct[b.name] for b in d.lparams]))
        return new_funcdef(transpose_name(d.name), params, d.param_types, cts, d.result.lin,
                           new_mixed((), d.lparam_types), block(forward, result), d.span)


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

_NESTING = (Block, Prim, Dup)
"""The linear constructs that may hold non-linear bindings for ``hoist`` to replay."""


def transpose_program(typing: Typing, name: str) -> Program:
    """T of ``name`` and of every linear function it calls (non-linear callees are kept as they are)."""
    from calculi.linear_ad.jvp import callees

    program = typing.program
    t = _Transpose(typing)
    defs = []
    for g in callees(typing, name):
        d = program.get(g)
        assert d is not None
        defs.append(t.funcdef(d) if is_linear_function(d) or g == name else d)
    return Program(tuple(defs))
