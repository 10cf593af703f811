"""Symbolic zeros: the linear zero propagated through linear code, as JAX keeps its ``Zero``.

J gives every literal the tangent ``0``, which the rules then scale and add. This pass rewrites
a checked program so that a zero is never scaled, added, duplicated or taken apart:

    Z(s ⊙ 0)      s ⊙ 0 → 0                     (any linear primitive whose linear arguments are all 0)
    Z(0 ⊕ ė)      0 ⊕ ė → ė          Z(ė ⊕ 0)   ė ⊕ 0 → ė
    Z(dup 0)      dup(0) → (0, 0)
    Z(tupL 0̄)     tupL(0̄) → 0 : (σ̄)
    Z(unpackL 0)  let (ẋ̄) = unpackL 0 in e → e[0̄/ẋ̄]
    Z(let 0)      let (; ẏ) = 0 in e → e[0/ẏ]   (a let-bound linear variable known to be zero)
    Z(drop 0)     drop(… 0 …) → drop(…)
    Z(instantiate) a zero where a variable is required (a call's argument, tupL beside non-zeros, a
                  function's result) is bound there: let (; ż) = 0 : σ   (JAX's instantiate_zeros)
    Z(dead let)   a non-linear binding that only fed removed scale factors is removed

Calls are left alone: ``f(x̄ ; 0̄)`` has zero linear results (f is linear in them, by typing), but
its non-linear results are needed, so the call stays and its zero arguments are instantiated.

Linear A's contexts are exact, so the pass keeps the program well-typed: a zero dropped from a
consumer is simply not bound (linear variables are used once, so nothing else refers to it); a
non-linear variable whose last use was removed loses its binding when that binding computes
nothing else, or else is passed to ``drop``.

The pass never adds work: every instantiated zero stands for one zero of the input, consumed once.
It preserves meaning exactly in the exact domains; in floats it differs where the input computed
``s ⊙ 0`` with ``s`` infinite or NaN (IEEE gives NaN there; the symbolic zero gives 0, as in JAX).
"""

from __future__ import annotations

from collections.abc import Sequence

from calculi.core import coverage
from calculi.linear_ad.check import Typing
from calculi.linear_ad.freevars import free_vars
from calculi.linear_ad.names import Supply, scope_of
from calculi.linear_ad.primitives import LADD, SCALE, params_dict, work_of
from calculi.linear_ad.relevance import relevant
from calculi.linear_ad.renumber import renumber
from calculi.linear_ad.rules import CALCULUS, fire
from calculi.linear_ad.syntax import (
    EMPTY,
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
from calculi.linear_ad.types import TupleType, Type

RULES = coverage.declare(CALCULUS, (
    "Z(s ⊙ 0)", "Z(0 ⊕ ė)", "Z(ė ⊕ 0)", "Z(dup 0)", "Z(tupL 0̄)", "Z(unpackL 0)", "Z(let 0)", "Z(drop 0)",
    "Z(instantiate)", "Z(dead let)"))

Mask = tuple[Type | None, ...]
"""Per linear output of an expression: ``None`` if the rewritten expression still produces it, or
the type of the zero it is known to be (the rewritten expression then does not produce it)."""


class _Zeros:
    def __init__(self, typing: Typing, d: FuncDef) -> None:
        self.typing = typing
        self.d = d
        self.names: Supply | None = None
        self.changed = False

    @property
    def supply(self) -> Supply:
        """Names fresh for the whole function, drawn past its largest (found on first use)."""
        if self.names is None:
            self.names = Supply(scope_of([max(_binder_names(self.d), default=0)]))
        return self.names

    def rule(self, name: str) -> None:
        self.changed = True
        fire(name)

    def zero(self, ty: Type, out: list[Binding]) -> LVar:
        """Z(instantiate): bind ``0 : τ`` for a position that needs a variable."""
        self.rule("Z(instantiate)")
        b = self.supply.binder("dz")
        out.append(LetB((), (b,), Zero(ty)))
        return lvar_of(b)

    @staticmethod
    def effect(e: Expr, out: list[Binding]) -> None:
        """Keep an expression of type (;) that still consumes linear variables (a drop)."""
        if e != EMPTY:
            out.append(LetB((), (), e))

    def discard(self, e: Expr, out: list[Binding]) -> None:
        """A non-linear expression no longer evaluated: its linear variables are still dropped."""
        lin = free_vars(e)[1]
        if lin:
            out.append(LetB((), (), Drop(e)))

    def lvars(self, vs: tuple[LVar, ...], zeros: dict[int, Type]) -> tuple[tuple[LVar, ...], Mask]:
        return tuple(v for v in vs if v.name not in zeros), tuple(zeros.get(v.name) for v in vs)

    def instantiate(self, vs: tuple[LVar, ...], zeros: dict[int, Type],
                    out: list[Binding]) -> tuple[LVar, ...]:
        return tuple(self.zero(zeros[v.name], out) if v.name in zeros else v for v in vs)

    def expr(self, e: Expr, zeros: dict[int, Type], out: list[Binding]) -> tuple[Expr, Mask]:
        """``e`` rewritten (bindings it needs first are appended to ``out``) and its mask."""
        if isinstance(e, Var | Lit | Tup):
            return e, ()
        if isinstance(e, LVar):
            ty = zeros.get(e.name)
            return (e, (None,)) if ty is None else (EMPTY, (ty,))
        if isinstance(e, Zero):
            return EMPTY, (e.type,)
        if isinstance(e, Ret):
            lv, mask = self.lvars(e.lvars, zeros)
            return (e if len(lv) == len(e.lvars) else Ret(e.vars, lv)), mask
        if isinstance(e, TupL):
            if e.lvars and all(v.name in zeros for v in e.lvars):
                self.rule("Z(tupL 0̄)")
                return EMPTY, (TupleType(tuple(zeros[v.name] for v in e.lvars)),)
            return TupL(self.instantiate(e.lvars, zeros, out)), (None,)
        if isinstance(e, Call):
            largs = self.instantiate(e.largs, zeros, out)
            d = self.typing.signatures[e.func]
            return Call(e.func, e.args, largs, span=e.span), (None,) * len(d.result.lin)
        if isinstance(e, Prim):
            return self.prim(e, zeros, out)
        if isinstance(e, Dup):
            arg, (m,) = self.expr(e.arg, zeros, out)
            if m is None:
                return Dup(arg, span=e.span), (None, None)
            self.rule("Z(dup 0)")
            self.effect(arg, out)
            return EMPTY, (m, m)
        if isinstance(e, Drop):
            return self.drop(e, zeros), ()
        if isinstance(e, Block):
            return self.block(e, dict(zeros), out)
        raise AssertionError(f"no zero rule for {type(e).__name__}")

    def prim(self, e: Prim, zeros: dict[int, Type], out: list[Binding]) -> tuple[Expr, Mask]:
        args = tuple(self.expr(a, zeros, out)[0] for a in e.args)
        if not e.prim.linear:
            return (e if _same(args, e.args) else Prim(e.prim, args, (), e.params, span=e.span)), ()
        largs: list[Expr] = []
        mask: list[Type | None] = []
        for a in e.largs:
            la, (m,) = self.expr(a, zeros, out)
            largs.append(la)
            mask.append(m)
        if largs and all(m is not None for m in mask) and self.collapses(e, mask):
            if e.prim is SCALE:
                self.rule("Z(s ⊙ 0)")
            for a in args:
                self.discard(a, out)
            for la in largs:
                self.effect(la, out)
            return EMPTY, (self.typing.type_of(e).lin[0],)
        if e.prim is LADD and mask.count(None) == 1:
            keep = mask.index(None)
            self.rule("Z(0 ⊕ ė)" if keep == 1 else "Z(ė ⊕ 0)")
            self.effect(largs[1 - keep], out)
            return largs[keep], (None,)
        for i, m in enumerate(mask):
            if m is not None:
                self.rule("Z(instantiate)")
                self.effect(largs[i], out)
                largs[i] = Zero(m)
        if _same(args, e.args) and _same(largs, e.largs):
            return e, (None,)
        return Prim(e.prim, args, tuple(largs), e.params, span=e.span), (None,)

    def collapses(self, e: Prim, mask: list[Type | None]) -> bool:
        """p(s̄ ; 0̄) → 0 when the zero of the result costs no more than the zeros and p it replaces."""
        if e.prim is SCALE or e.prim is LADD:
            return True
        result = self.typing.type_of(e).lin[0]
        zeros = [m for m in mask if m is not None]
        cost = work_of(e.prim, [self.typing.type_of(a).nonlin[0] for a in e.args], zeros, result,
                       params_dict(e.params))
        return result.size() <= cost + sum(m.size() for m in zeros)

    def drop(self, e: Drop, zeros: dict[int, Type]) -> Expr:
        """Z(drop 0): drop is not evaluated and costs its free variables, so zeros leave it."""
        nl, ln = free_vars(e.arg)
        if not any(n in zeros for n in ln):
            return e
        self.rule("Z(drop 0)")
        names = _atoms(e.arg)
        xs = tuple(Var(n, names.get(n, "x")) for n in sorted(nl))
        ys = tuple(LVar(n, names.get(n, "dx")) for n in sorted(ln) if n not in zeros)
        return Drop(Ret(xs, ys), span=e.span) if xs or ys else EMPTY

    def block(self, e: Block, zeros: dict[int, Type], out: list[Binding]) -> tuple[Expr, Mask]:
        inner: list[Binding] = []
        for b in e.bindings:
            if isinstance(b, LetB):
                rhs, mask = self.expr(b.rhs, zeros, inner)
                kept = []
                for y, m in zip(b.lbinders, mask, strict=True):
                    if m is None:
                        zeros.pop(y.name, None)
                        kept.append(y)
                    else:
                        self.rule("Z(let 0)")
                        zeros[y.name] = m
                for x in b.binders:
                    zeros.pop(x.name, None)
                if b.binders or kept:
                    same = rhs is b.rhs and len(kept) == len(b.lbinders)
                    inner.append(b if same else LetB(b.binders, tuple(kept), rhs, span=b.span))
                else:
                    self.effect(rhs, inner)
            elif isinstance(b, UnpackB):
                for x in b.binders:
                    zeros.pop(x.name, None)
                inner.append(b)
            else:
                assert isinstance(b, UnpackLB)
                ty = zeros.get(b.var.name)
                if ty is None:
                    for y in b.lbinders:
                        zeros.pop(y.name, None)
                    inner.append(b)
                    continue
                self.rule("Z(unpackL 0)")
                assert isinstance(ty, TupleType)
                for y, item in zip(b.lbinders, ty.items, strict=True):
                    zeros[y.name] = item
        result, mask = self.expr(e.result, zeros, inner)
        return block(inner, result), mask

    def complete(self, e: Expr, mask: Mask, nonlin: int, out: list[Binding]) -> Expr:
        """``e`` with its known zeros instantiated: all of its outputs, as the input had them."""
        if all(m is None for m in mask):
            return e
        if isinstance(e, Block):
            out.extend(e.bindings)
            e = e.result
        if isinstance(e, Ret):
            xs, ys = e.vars, list(e.lvars)
        else:
            bx = self.supply.binders(("v",) * nonlin)
            by = self.supply.binders(("dv",) * sum(m is None for m in mask))
            out.append(LetB(bx, by, e))
            xs, ys = tuple(map(var_of, bx)), list(map(lvar_of, by))
        lv = [self.zero(m, out) if m is not None else ys.pop(0) for m in mask]
        return Ret(xs, tuple(lv))

    def funcdef(self, d: FuncDef) -> FuncDef:
        out: list[Binding] = []
        body, mask = self.expr(d.body, {}, out)
        if not self.changed:
            return d
        body = self.complete(body, mask, len(d.result.nonlin), out)
        body = relevant(block(out, body), tuple(map(var_of, d.params)))
        return renumber(FuncDef(d.name, d.params, d.param_types, d.lparams, d.lparam_types, d.result,
                                 body, span=d.span))


def _same(new: Sequence[Expr], old: tuple[Expr, ...]) -> bool:
    return all(a is b for a, b in zip(new, old, strict=True))


def _binder_names(d: FuncDef) -> list[int]:
    names = [b.name for b in (*d.params, *d.lparams)]
    stack: list[Expr] = [d.body]
    while stack:
        e = stack.pop()
        if isinstance(e, Block):
            for b in e.bindings:
                names.extend(x.name for x in _binders(b))
                if isinstance(b, LetB):
                    stack.append(b.rhs)
            stack.append(e.result)
        elif isinstance(e, Prim):
            stack.extend((*e.args, *e.largs))
        elif isinstance(e, Dup | Drop):
            stack.append(e.arg)
    return names


def _binders(b: Binding) -> tuple[Binder, ...]:
    if isinstance(b, LetB):
        return (*b.binders, *b.lbinders)
    if isinstance(b, UnpackB):
        return b.binders
    assert isinstance(b, UnpackLB)
    return b.lbinders


def _atoms(e: Expr) -> dict[int, str]:
    """The hint of every variable occurring in ``e``."""
    hints: dict[int, str] = {}
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, Var | LVar):
            hints[node.name] = node.hint
        elif isinstance(node, Ret | Tup | TupL | Call):
            for v in (*getattr(node, "vars", ()), *getattr(node, "args", ()), *getattr(node, "lvars", ()),
                      *getattr(node, "largs", ())):
                hints[v.name] = v.hint
        elif isinstance(node, Prim):
            stack.extend((*node.args, *node.largs))
        elif isinstance(node, Dup | Drop):
            stack.append(node.arg)
        elif isinstance(node, Block):
            stack.extend(b.rhs for b in node.bindings if isinstance(b, LetB))
            stack.extend(b.var for b in node.bindings if isinstance(b, UnpackB | UnpackLB))
            stack.append(node.result)
    return hints


def leftover_zeros(typing: Typing) -> list[str]:
    """The removable zeros still in a checked program: a zero (``0``, or a variable bound to ``0``)
    scaled, added, duplicated, unpacked, dropped, aliased, or returned from a let's right-hand side,
    and tupL of zeros only. Empty after ``zeros_program``."""
    found: list[str] = []
    for d in typing.program.defs:
        z = _Zeros(typing, d)
        bound: set[int] = set()
        stack: list[Expr] = [d.body]
        while stack:
            e = stack.pop()
            if isinstance(e, Block):
                for b in e.bindings:
                    if isinstance(b, LetB):
                        if isinstance(b.rhs, Zero) and len(b.lbinders) == 1:
                            bound.add(b.lbinders[0].name)
                        elif isinstance(b.rhs, LVar | Ret) and _zero_vars(b.rhs, bound):
                            found.append(f"{d.name}: a let of a zero")
                        stack.append(b.rhs)
                    elif isinstance(b, UnpackLB) and b.var.name in bound:
                        found.append(f"{d.name}: unpackL of a zero")
                stack.append(e.result)
            elif isinstance(e, Prim) and e.prim.linear:
                zero = [isinstance(a, Zero) or bool(_zero_vars(a, bound)) for a in e.largs]
                mask = [typing.type_of(a).lin[0] if zs else None for a, zs in zip(e.largs, zero, strict=True)]
                if (e.prim is LADD and any(zero)) or (zero and all(zero) and z.collapses(e, mask)):
                    found.append(f"{d.name}: {e.prim.name} of a zero")
                stack.extend((*e.args, *e.largs))
            elif isinstance(e, Prim):
                stack.extend(e.args)
            elif isinstance(e, Dup):
                if isinstance(e.arg, Zero) or _zero_vars(e.arg, bound):
                    found.append(f"{d.name}: dup of a zero")
                stack.append(e.arg)
            elif isinstance(e, Drop) and _zero_vars(e.arg, bound, free=True):
                found.append(f"{d.name}: drop of a zero")
            elif isinstance(e, TupL) and e.lvars and all(v.name in bound for v in e.lvars):
                found.append(f"{d.name}: tupL of zeros")
    return found


def _zero_vars(e: Expr, bound: set[int], free: bool = False) -> bool:
    if isinstance(e, LVar):
        return e.name in bound
    if isinstance(e, Ret):
        return any(v.name in bound for v in e.lvars)
    return free and bool(free_vars(e)[1] & bound)


def zeros_program(typing: Typing) -> Program:
    """Every function of a checked program with its zeros propagated."""
    return Program(tuple(_Zeros(typing, d).funcdef(d) for d in typing.program.defs))
