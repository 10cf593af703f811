"""The typing rules of Linear A, one method per constructor: the reference checker.

Γ ; Δ ⊢ e : (τ̄ ; σ̄) with Γ relevant and Δ linear, both exact.

* Γ (non-linear) is relevant: every variable is used at least once, and may be used many times
  (sub-terms share Γ1 ∪ Γ2). Discarding needs ``drop``.
* Δ (linear) is linear: every variable is used exactly once (sub-terms split Δ1 ⊎ Δ2).
  Copying needs ``dup``, discarding needs ``drop``.
* Only ``⊙`` (and other linear primitives, through their constant arguments) lets a non-linear
  value touch a linear one; no non-linear primitive accepts a linear argument.

Counting uses is the syntax-directed form of the split: a linear variable's second use is the
error "used twice (use dup)", a variable left unused when its scope ends is "never used (use
drop)". Checking fills a ``Typing``: the type of every expression and unpack (a variable of type ℝ
and a let left out, as ``Tables`` says), which the evaluator (cost weights) and the passes (zeros,
tapes) consult.

Every node goes through ``expr`` and its rule here, and each rule counts its firing while a coverage
recording is open. ``check_fast`` inlines the common nodes into their parents; this checker is its
reference (theorem ``linear_ad.types.fast_checker_agrees``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from calculi.core import coverage
from calculi.core.errors import CalculusError, TypeCheckError
from calculi.linear_ad.check_errors import misapplied, misdeclared, misfit, misplaced, misuse, unused
from calculi.linear_ad.freevars import free_vars
from calculi.linear_ad.primitives import typing_rules
from calculi.linear_ad.rules import PRIM_TYPING, fire
from calculi.linear_ad.syntax import (
    MAX_DEPTH,
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
    Ret,
    Tup,
    TupL,
    UnpackB,
    UnpackLB,
    Var,
    Zero,
)
from calculi.linear_ad.tables import REAL_LIN, REAL_NL, Tables, Typing, recorded
from calculi.linear_ad.types import REAL, Mixed, TupleType, Type

Rule = tuple[Callable[..., Type], str | None, Mixed]
RuleCache = dict[int, Rule]  # a primitive's typing rule, coverage name and ℝ result, by identity


def _one(t: Mixed, linear: bool) -> Type | None:
    if linear:
        return t.lin[0] if len(t.lin) == 1 and not t.nonlin else None
    return t.nonlin[0] if len(t.nonlin) == 1 and not t.lin else None


NOTHING = Mixed((), ())
REAL_DUP = Mixed((), (REAL, REAL))

Slot = list[Any]  # [type, linear, uses, binder]: a variable in scope (a list: the checker's hottest record)
TYPE, LINEAR, USES, BINDER = 0, 1, 2, 3


class _Checker:
    __slots__ = ("called", "counting", "deepest", "depth", "env", "rules", "table", "types", "typing")
    infer: ClassVar[dict[type, Callable[[Any, Any], Mixed]]]  # the rule of each constructor (set below)

    def __init__(self, typing: Typing) -> None:
        self.typing = typing
        self.env: dict[int, Slot] = {}
        self.depth = 0
        self.deepest = 0
        self.table = Tables()
        self.types = self.table.exprs
        self.counting = coverage.active()
        self.rules: RuleCache = {}
        self.called: set[str] = set()

    def definitions(self, defs: tuple[FuncDef, ...]) -> None:
        """Check each function in turn, recording its signature, depth and callees."""
        typing = self.typing
        signatures, depths, calls = typing.signatures, typing.depths, typing.calls
        for d in defs:
            self.depth = self.deepest = 0
            self.called = set()
            self.start(d.name)
            self.funcdef(d)  # (its scope ends empty: every binder is released)
            signatures[d.name] = d
            depths[d.name] = self.deepest
            calls[d.name] = self.called

    def start(self, name: str) -> None:
        """Record the types of function ``name`` (or of an open expression) in tables of their own."""
        table = self.typing.tables[name] = self.table = Tables()
        self.types = table.exprs
        self.typing.merged = None

    def funcdef(self, d: FuncDef) -> None:
        names = [*d.params, *d.lparams]
        env = self.env
        for b, ty in zip(d.params, d.param_types, strict=True):
            env[b.name] = [ty, False, 0, b]
        for b, ty in zip(d.lparams, d.lparam_types, strict=True):
            env[b.name] = [ty, True, 0, b]
        body = self.expr(d.body)
        if body is not d.result and body != d.result:
            misdeclared(d, body)
        self.release(names)

    def release(self, binders: list[Binder]) -> None:
        """End of scope: Γ relevant (used ≥ 1), Δ linear (used = 1; overuse was caught at use)."""
        pop = self.env.pop
        for b in binders:
            slot = pop(b.name)
            if slot[USES] == 0:
                unused(slot)

    def use(self, v: Var | LVar, linear: bool) -> Type:
        """The type of ``v`` in a position for a variable of the kind ``linear`` (a linear one is
        used once)."""
        if isinstance(v, LVar) is not linear:
            misplaced(v, linear)
        slot = self.env.get(v.name)
        if slot is None or slot[LINEAR] != linear or (linear and slot[USES]):
            misuse(v, slot, linear)
        slot[USES] += 1
        return slot[TYPE]  # type: ignore[no-any-return]

    def expr(self, e: Expr) -> Mixed:
        depth = self.depth = self.depth + 1
        if depth > self.deepest:
            self.deeper(e)
        rule = self.infer.get(type(e))
        t = rule(self, e) if rule is not None else self.subclass(e)
        self.depth = depth - 1  # (after an error the checker is dropped, so no finally is needed)
        if recorded(e, t):
            self.types[id(e)] = t
        return t

    def deeper(self, e: Expr, callee: str | None = None) -> None:
        """A new deepest level; refuse past ``MAX_DEPTH``."""
        if self.depth > MAX_DEPTH:
            what = f"the call of {callee} nests" if callee else "the expression is nested"
            raise TypeCheckError(f"{what} too deeply (more than {MAX_DEPTH:,} levels, counting each "
                                 "sub-expression and each callee's own depth); bind sub-expressions "
                                 "with let", e.span, rule="App" if callee else None)
        self.deepest = self.depth

    def subclass(self, e: Expr) -> Mixed:
        for cls, rule in self.infer.items():
            if isinstance(e, cls):
                return rule(self, e)
        raise TypeCheckError(f"unknown expression {type(e).__name__}", e.span)

    def var(self, e: Var) -> Mixed:
        if self.counting:
            fire("⊢ Var")
        slot = self.env.get(e.name)
        if slot is None or slot[LINEAR]:
            misuse(e, slot, False)
        slot[USES] += 1
        ty = slot[TYPE]
        return REAL_NL if ty is REAL else Mixed((ty,), ())

    def lvar(self, e: LVar) -> Mixed:
        if self.counting:
            fire("⊢ LVar")
        slot = self.env.get(e.name)
        if slot is None or not slot[LINEAR] or slot[USES]:
            misuse(e, slot, True)
        slot[USES] = 1
        ty = slot[TYPE]
        return REAL_LIN if ty is REAL else Mixed((), (ty,))

    def lit(self, e: Lit) -> Mixed:
        if self.counting:
            fire("⊢ Lit")
        return REAL_NL

    def zero(self, e: Zero) -> Mixed:
        if self.counting:
            fire("⊢ Zero")
        return REAL_LIN if e.type is REAL else Mixed((), (e.type,))

    def ret(self, e: Ret) -> Mixed:
        if self.counting:
            fire("⊢ Ret")
        use = self.use
        return Mixed(tuple([use(v, False) for v in e.vars]), tuple([use(v, True) for v in e.lvars]))

    def tup(self, e: Tup) -> Mixed:
        if self.counting:
            fire("⊢ Tup")
        use = self.use
        return Mixed((TupleType(tuple([use(v, False) for v in e.vars])),), ())

    def tupl(self, e: TupL) -> Mixed:
        if self.counting:
            fire("⊢ TupL")
        use = self.use
        return Mixed((), (TupleType(tuple([use(v, True) for v in e.lvars])),))

    def dup(self, e: Dup) -> Mixed:
        if self.counting:
            fire("⊢ Dup")
        t = self.expr(e.arg)
        ty = _one(t, True)
        if ty is None:
            raise TypeCheckError(f"dup takes one linear value, got {t} (non-linear variables may "
                                 "be used many times without dup)", e.span, rule="Dup")
        return REAL_DUP if ty is REAL else Mixed((), (ty, ty))

    def drop(self, e: Drop) -> Mixed:
        if self.counting:
            fire("⊢ Drop")
        nl, ln = free_vars(e.arg)
        env = self.env
        self.table.drops[id(e)] = {n: env[n][TYPE] for n in (*nl, *ln) if n in env}
        self.expr(e.arg)
        return NOTHING

    def prim(self, e: Prim) -> Mixed:
        p = e.prim
        args, largs = e.args, e.largs
        if p.arity is not None and (len(args) != p.arity or len(largs) != p.larity):
            raise TypeCheckError(f"{p.name} takes {p.arity} non-linear and {p.larity} linear arguments",
                                 e.span, rule=p.name)
        arg_types: list[Type] = []
        for a in args:
            t = self.expr(a)
            if len(t.nonlin) != 1 or t.lin:
                misapplied(e, a, t, False)
            arg_types.append(t.nonlin[0])
        larg_types: list[Type] = []
        for a in largs:
            t = self.expr(a)
            if len(t.lin) != 1 or t.nonlin:
                misapplied(e, a, t, True)
            larg_types.append(t.lin[0])
        known = self.rules.get(id(p))
        if known is None:
            known = self.rule_of(e)
        if self.counting and known[1] is not None:
            fire(known[1])
        try:
            result = known[0](arg_types, larg_types, dict(e.params) if e.params else {})
        except CalculusError as err:
            raise type(err)(err.reason, e.span, rule=p.name) from None
        if result is REAL:
            return known[2]
        return Mixed((), (result,)) if p.linear else Mixed((result,), ())

    def rule_of(self, e: Prim) -> Rule:
        """The typing rule of ``e``'s primitive, its coverage name and its ℝ result, looked up once."""
        p = e.prim
        rule = typing_rules.get(p)
        if rule is None:
            raise TypeCheckError(f"primitive {p.name} has no typing rule", e.span, rule=p.name)
        known = self.rules[id(p)] = (rule, PRIM_TYPING.get(p), REAL_LIN if p.linear else REAL_NL)
        return known

    def call(self, e: Call) -> Mixed:
        d = self.typing.signatures.get(e.func)
        if d is None:
            raise TypeCheckError(f"unknown function {e.func}: a function may call only those defined before "
                                 "it (Linear A has no recursion)", e.span, rule="App")
        if self.counting:
            fire("⊢ App")
        self.called.add(e.func)
        levels = self.typing.depths.get(e.func, 0)
        self.depth += levels
        if self.depth > self.deepest:
            self.deeper(e, e.func)
        self.depth -= levels
        if len(e.args) != len(d.params) or len(e.largs) != len(d.lparams):
            raise TypeCheckError(f"{e.func} takes {len(d.params)} non-linear and {len(d.lparams)} linear "
                                 f"arguments, got {len(e.args)} ; {len(e.largs)}", e.span, rule="App")
        pairs: list[tuple[Var | LVar, Type, bool]] = [
            *((v, ty, False) for v, ty in zip(e.args, d.param_types, strict=True)),
            *((v, ty, True) for v, ty in zip(e.largs, d.lparam_types, strict=True))]
        for v, ty, linear in pairs:
            got = self.use(v, linear)
            if got is not ty and got != ty:
                misfit(e, v, got, ty)
        return d.result

    def block(self, e: Block) -> Mixed:
        bound: list[Binder] = []
        counting = self.counting
        for b in e.bindings:
            if type(b) is LetB:
                if counting:
                    fire("⊢ Let")
                self.let(b, self.expr(b.rhs), bound)
            else:
                self.unpack(b, bound)
        t = self.expr(e.result)
        self.release(bound)
        return t

    def let(self, b: LetB, t: Mixed, bound: list[Binder]) -> None:
        """``let (x̄ ; ẋ̄) = e`` with ``e`` of type ``t`` (Let)."""
        nl, ln = b.binders, b.lbinders
        tn, tl = t.nonlin, t.lin
        if len(tn) != len(nl) or len(tl) != len(ln):
            raise TypeCheckError(
                f"the right-hand side has type {t}, which does not match the pattern's "
                f"{len(nl)} non-linear ; {len(ln)} linear names", b.span, rule="Let")
        if len(nl) + len(ln) == 1:  # the common patterns: one name of either kind
            x = (nl or ln)[0]
            self.env[x.name] = [tn[0], False, 0, x] if nl else [tl[0], True, 0, x]
            bound.append(x)
        else:
            self.bind(b, tn, tl, bound)

    def unpack(self, b: Binding, bound: list[Binder]) -> None:
        """``let (x̄) = unpack v`` (Unpack) or ``let (; ẋ̄) = unpackL v̇`` (UnpackL)."""
        linear = type(b) is UnpackLB
        assert isinstance(b, UnpackB | UnpackLB)
        if self.counting:
            fire("⊢ UnpackL" if linear else "⊢ Unpack")
        ty = self.use(b.var, linear)
        names = b.lbinders if isinstance(b, UnpackLB) else b.binders
        if not isinstance(ty, TupleType) or len(ty.items) != len(names):
            raise TypeCheckError(f"cannot unpack{'L' if linear else ''} {b.var.hint} of type {ty} "
                                 f"into {len(names)} names", b.span,
                                 rule="UnpackL" if linear else "Unpack")
        tn, tl = ((), ty.items) if linear else (ty.items, ())
        self.table.unpacks[id(b)] = (tn, tl)
        self.bind(b, tn, tl, bound)

    def bind(self, b: Binding, tn: tuple[Type, ...], tl: tuple[Type, ...],
             bound: list[Binder]) -> None:
        """Bring ``b``'s names into scope with the types ``tn ; tl``."""
        env = self.env
        nl = b.binders if isinstance(b, LetB | UnpackB) else ()
        ln = b.lbinders if isinstance(b, LetB | UnpackLB) else ()
        for binder, bty in zip(nl, tn, strict=True):
            env[binder.name] = [bty, False, 0, binder]
        for binder, bty in zip(ln, tl, strict=True):
            env[binder.name] = [bty, True, 0, binder]
        bound += nl
        bound += ln


INFER: dict[type, Callable[[Any, Any], Mixed]] = {
    Var: _Checker.var, LVar: _Checker.lvar, Lit: _Checker.lit, Zero: _Checker.zero,
    Ret: _Checker.ret, Tup: _Checker.tup, TupL: _Checker.tupl, Prim: _Checker.prim,
    Dup: _Checker.dup, Drop: _Checker.drop, Call: _Checker.call, Block: _Checker.block,
}
"""The typing rule of each constructor (a subclass of a constructor is checked as that constructor)."""
_Checker.infer = INFER

