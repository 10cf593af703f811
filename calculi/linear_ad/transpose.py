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

The replay is a pre-pass over the top block only, as long as no block nested in the linear code
binds non-linear names: the backward pass meets every such block (``_Transpose.block``), and at the
first one the function is transposed again with ``hoist``, which enters them (so does an error:
the pre-pass's errors come first). Coverage counting takes ``hoist`` throughout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from calculi.core.errors import TypeCheckError
from calculi.linear_ad.built import (
    draw,
    draws,
    new_binder,
    new_block,
    new_call,
    new_funcdef,
    new_letb,
    new_lvar,
    new_mixed,
    new_prim,
)
from calculi.linear_ad.callees import callees
from calculi.linear_ad.check import Tables, Typing, type_in
from calculi.linear_ad.freevars import free_vars
from calculi.linear_ad.primitives import (
    LADD,
    SCALE,
    TransposeRule,
    ladd_transpose,
    scale_transpose,
    transpose_rules,
)
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
    LVar,
    Prim,
    Program,
    Ret,
    TupL,
    UnpackB,
    UnpackLB,
    Var,
    Zero,
    lvar_of,
)
from calculi.linear_ad.transpose_replay import Replay


def transpose_name(name: str) -> str:
    return f"{name}.T"


def is_linear_function(d: FuncDef) -> bool:
    return bool(d.lparams or d.result.lin)


class _Hoist(Exception):
    """The backward pass of the shortcut met a nested block that binds non-linear names."""




class _Cotangents(dict[int, Binder]):
    """The binders ``c`` of the cotangents by name, built once: a binder is a value (no pass keys a
    table by a binder's identity), so every function shares them."""

    def __missing__(self, name: int) -> Binder:
        b = self[name] = new_binder(name, "c", None)
        return b


_C = _Cotangents()


class _Transpose(Replay):
    """T of one function. Names are drawn in the order they are written (the parameters, the
    forward replay, then the backward pass), one past the names in scope, so the output is canonical
    as it is built; a block left nested gives its names back when it is done."""

    def __init__(self, typing: Typing) -> None:
        super().__init__()
        self.typing = typing
        self.table = Tables()
        """The types of the function being transposed (``transposed`` sets them)."""
        self.back: list[Binding] = []
        self.ct: dict[int, LVar] = {}
        self.rules: dict[int, TransposeRule] = {}
        self.deep = False  # (whether ``hoist`` has replayed the nested blocks)

    # -- linear code is transposed backwards --------------------------------------------------

    def emit(self, binding: Binding) -> None:
        self.back.append(binding)

    def t(self, e: Expr, cts: list[LVar]) -> None:
        rule = RULES.get(type(e))
        if rule is None:
            raise TypeCheckError(f"transpose applies to linear code, not to {type(e).__name__}", e.span,
                                 rule="Transpose")
        rule(self, e, cts)

    def lvar(self, e: LVar, cts: list[LVar]) -> None:
        """T(ẏ, c) = {ẏ ↦ c}."""
        if self.counting:
            fire("T(ẏ)")
        self.ct[e.name] = cts[0]

    def ret(self, e: Ret, cts: list[LVar]) -> None:
        """T((; ẏ̄), c̄) = {ẏi ↦ ci}."""
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

    def dup(self, e: Dup, cts: list[LVar]) -> None:
        """T(dup ė, (c1, c2)) = let c = c1 ⊕ c2 then T(ė, c)."""
        if self.counting:
            fire("T(dup)")
        supply = self.supply
        summed = supply.next
        supply.next = summed + 1
        self.back.append(new_letb((), (_C[summed],), new_prim(LADD, (), tuple(cts), (), None), None))
        a = e.arg
        if type(a) is LVar:  # T(ẏ, c) = {ẏ ↦ c}
            if self.counting:
                fire("T(ẏ)")
            self.ct[a.name] = new_lvar(summed, "c", None)
        else:
            self.t(a, [new_lvar(summed, "c", None)])

    def drop(self, e: Expr, cts: list[LVar]) -> None:
        """T(drop e, ()) = drop (x̄ ;) and ċi = 0 for each ẏi ∈ FV(e): e itself is not transposed."""
        assert isinstance(e, Drop)
        if self.counting:
            fire("T(drop)")
        nl, ln = free_vars(e.arg)
        if nl:
            self.emit(LetB((), (), Drop(Ret(tuple(self.sub[n] for n in sorted(nl)), ()))))
        types = self.table.drops[id(e)]  # (the checker's: each free variable's type)
        for n in sorted(ln):
            z = draw(self.supply, "c")
            self.emit(new_letb((), (z,), Zero(types[n]), None))
            self.ct[n] = lvar_of(z)

    def call(self, e: Call, cts: list[LVar]) -> None:
        """T(g(x̄ ; ẏ̄), c̄) = let (; c̄') = g.T(x̄ ; c̄)."""
        if self.counting:
            fire("T(f)")
        m = len(self.typing.signatures[e.func].lparams)
        supply = self.supply
        first = supply.next
        supply.next = first + m
        outs = (_C[first],) if m == 1 else tuple([_C[first + i] for i in range(m)])
        sub = self.sub
        rhs = new_call(transpose_name(e.func), tuple([sub[v.name] for v in e.args]), tuple(cts), None)
        self.back.append(new_letb((), outs, rhs, None))
        ct = self.ct
        for i, v in enumerate(e.largs):
            ct[v.name] = new_lvar(first + i, "c", None)

    def prim(self, e: Prim, cts: list[LVar]) -> None:
        """T(p(s̄ ; ė̄), c) = let (; c̄') = transpose_rules[p](s̄, c) then T(ėi, c'i)."""
        p = e.prim
        rule = self.rules.get(id(p))  # (read once per primitive: a primitive's hash is its fields')
        if rule is None:
            rule = self.rule_of(e)
        if self.counting:
            fire_prim("T", p)
        args = e.args
        if len(args) == 1:  # (``s ⊙ ė``: no comprehension)
            a = args[0]
            consts: tuple[Expr, ...] = (self.sub[a.name] if type(a) is Var else self.copy(a),)
        elif args:
            sub = self.sub
            consts = tuple([sub[a.name] if type(a) is Var else self.copy(a) for a in args])
        else:
            consts = ()
        # the ⊙ and ⊕ rules' nodes built here; a rule put in their place (or wrapped, as the
        # backend's coverage wraps rows) is called
        if rule is scale_transpose:
            rhs: Expr = new_prim(SCALE, consts, (cts[0],), (), None)
        elif rule is ladd_transpose:
            rhs = Dup(cts[0])
        else:
            types = self.table.exprs
            params = e.params
            rhs = rule(consts, cts[0], tuple([type_in(types, a).lin[0] for a in e.largs]),
                       dict(params) if params else {})
        largs = e.largs
        supply = self.supply
        first = supply.next
        n = len(largs)
        supply.next = first + n
        outs = (_C[first],) if n == 1 else tuple([_C[first + i] for i in range(n)])
        self.back.append(new_letb((), outs, rhs, None))
        for a in largs:
            if type(a) is LVar:  # T(ẏ, c) = {ẏ ↦ c}
                if self.counting:
                    fire("T(ẏ)")
                self.ct[a.name] = new_lvar(first, "c", None)
            else:
                self.t(a, [new_lvar(first, "c", None)])
            first += 1

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

    def block(self, e: Block, cts: list[LVar]) -> None:
        """A block nested in linear code: its non-linear names are ``hoist``'s (the shortcut has
        not replayed them: it starts again with ``hoist``)."""
        if self.deep:
            self.sub.update(self.scopes[id(e)])
        else:
            for b in e.bindings:
                if type(b) is UnpackB or (type(b) is LetB and b.binders):
                    raise _Hoist
        self.walk(e, cts)

    def walk(self, e: Block, cts: list[LVar]) -> None:
        """T(let (; ẏ̄) = e1 in e2, c̄) = T(e2, c̄) then T(e1, M(ẏ̄)); unpackL ↦ tupL."""
        self.t(e.result, cts)
        ct = self.ct
        counting = self.counting
        for b in reversed(e.bindings):
            if type(b) is LetB:
                if b.binders:  # (non-linear: replayed forward)
                    continue
                if counting:
                    fire("T(let)")
                rhs = b.rhs
                rule = RULES.get(type(rhs))
                if rule is None:
                    self.t(rhs, [])  # (raises)
                else:
                    lb = b.lbinders
                    n = len(lb)
                    rule(self, rhs, [ct.pop(lb[0].name)] if n == 1 else
                         [ct.pop(lb[0].name), ct.pop(lb[1].name)] if n == 2 else [ct.pop(y.name) for y in lb])
            elif type(b) is UnpackLB:
                if counting:
                    fire("T(unpackL)")
                c = draw(self.supply, "c")
                self.emit(new_letb((), (c,), TupL(tuple([ct.pop(x.name) for x in b.lbinders])), None))
                ct[b.var.name] = lvar_of(c)

    def funcdef(self, d: FuncDef) -> FuncDef:
        if d.result.nonlin:
            raise TypeCheckError(f"cannot transpose {d.name}: it has non-linear results "
                                 f"({', '.join(map(str, d.result.nonlin))}); transpose applies to linear "
                                 "functions (unzip first)", d.span, rule="Transpose")
        if not self.counting:
            try:
                return self.transposed(d, False)
            except (_Hoist, TypeCheckError):
                pass  # (again with ``hoist``, whose errors come first)
        return self.transposed(d, True)

    def transposed(self, d: FuncDef, deep: bool) -> FuncDef:
        """T of ``d``, its non-linear bindings replayed by ``hoist`` (``deep``) or ``replay_top``."""
        supply = self.supply
        supply.next = supply.start  # (each function's names start afresh)
        self.table = self.typing.of(d.name)
        self.deep = deep
        self.sub, self.ct, self.scopes = {}, {}, {}
        out: list[Binding] = []
        self.forward = self.back = out  # (the backward pass writes after the replay)
        params = self.rebind(d.params)
        first = supply.next
        m = len(d.result.lin)
        supply.next = first + m
        cts = (_C[first],) if m == 1 else tuple([_C[first + i] for i in range(m)])
        body = d.body
        if type(body) is Block:
            if deep:
                self.hoist(body)
            else:
                self.replay_top(body.bindings)
            self.walk(body, [new_lvar(first + i, "c", None) for i in range(m)])
        else:
            if deep:
                self.hoist(body)
            self.t(body, [new_lvar(first + i, "c", None) for i in range(m)])
        ct = self.ct
        result = Ret((), tuple([ct[b.name] for b in d.lparams]))
        body = new_block(tuple(out), result, None) if out else result
        return new_funcdef(transpose_name(d.name), params, d.param_types, cts, d.result.lin,
                           new_mixed((), d.lparam_types), body, d.span)


Rule = Callable[[_Transpose, Expr, list[LVar]], None]
RULES: dict[type, Rule] = {
    LVar: cast(Rule, _Transpose.lvar),
    Ret: cast(Rule, _Transpose.ret),
    TupL: _Transpose.tupl,
    Zero: _Transpose.zero,
    Dup: cast(Rule, _Transpose.dup),
    Drop: _Transpose.drop,
    Call: cast(Rule, _Transpose.call),
    Prim: cast(Rule, _Transpose.prim),
    Block: cast(Rule, _Transpose.block),
}
"""The structural transpose rules, keyed by constructor (primitives go through ``transpose_rules``)."""


def transpose_program(typing: Typing, name: str) -> Program:
    """T of ``name`` and of every linear function it calls (non-linear callees are kept as they are)."""
    program = typing.program
    t = _Transpose(typing)
    defs = []
    for g in callees(typing, name):
        d = program.get(g)
        assert d is not None
        defs.append(t.funcdef(d) if is_linear_function(d) or g == name else d)
    return Program(tuple(defs))
