"""The type checker: Γ ; Δ ⊢ e : (τ̄ ; σ̄) with Γ relevant and Δ linear, both exact.

* Γ (non-linear) is relevant: every variable is used at least once, and may be used many times
  (sub-terms share Γ1 ∪ Γ2). Discarding needs ``drop``.
* Δ (linear) is linear: every variable is used exactly once (sub-terms split Δ1 ⊎ Δ2).
  Copying needs ``dup``, discarding needs ``drop``.
* Only ``⊙`` (and other linear primitives, through their constant arguments) lets a non-linear
  value touch a linear one; no non-linear primitive accepts a linear argument.

Counting uses is the syntax-directed form of the split: a linear variable's second use is the
error "used twice (use dup)", a variable left unused when its scope ends is "never used (use
drop)". The checker returns a ``Typing``: the type of every expression and binding, which the
evaluator (cost weights) and the passes (zeros, tapes) consult.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from calculi.core.errors import CalculusError, TypeCheckError
from calculi.core.syntax import Span
from calculi.linear_ad.freevars import free_vars
from calculi.linear_ad.primitives import params_dict, typing_rules
from calculi.linear_ad.rules import PRIM_TYPING, fire
from calculi.linear_ad.syntax import (
    MAX_DEPTH,
    Binder,
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
    room_for_depth,
)
from calculi.linear_ad.types import REAL, Mixed, TupleType, Type


@dataclass(slots=True)
class _Slot:
    type: Type
    linear: bool
    hint: str
    span: Span | None
    uses: int = 0


@dataclass(slots=True)
class Typing:
    """The result of checking: signatures, and the type of every expression and binding."""

    program: Program
    signatures: dict[str, FuncDef] = field(default_factory=dict)
    expr_types: dict[int, Mixed] = field(default_factory=dict)
    binding_types: dict[int, tuple[tuple[Type, ...], tuple[Type, ...]]] = field(default_factory=dict)
    drop_types: dict[int, dict[int, Type]] = field(default_factory=dict)
    depths: dict[str, int] = field(default_factory=dict)
    """The nesting depth of each function, its callees' depths included (at most ``MAX_DEPTH``)."""

    def type_of(self, e: Expr) -> Mixed:
        return self.expr_types[id(e)]


def check_program(program: Program) -> Typing:
    """Check every function; raise a ``TypeCheckError`` naming the rule and pointing at the culprit."""
    room_for_depth()
    typing = Typing(program)
    for d in program.defs:
        checker = _Checker(typing)
        checker.funcdef(d)
        typing.signatures[d.name] = d
        typing.depths[d.name] = checker.deepest
    return typing


def _one(t: Mixed, linear: bool) -> Type | None:
    if linear:
        return t.lin[0] if len(t.lin) == 1 and not t.nonlin else None
    return t.nonlin[0] if len(t.nonlin) == 1 and not t.lin else None


class _Checker:
    def __init__(self, typing: Typing) -> None:
        self.typing = typing
        self.env: dict[int, _Slot] = {}
        self.depth = 0
        self.deepest = 0

    def funcdef(self, d: FuncDef) -> None:
        names = [*d.params, *d.lparams]
        for b, ty in zip(d.params, d.param_types, strict=True):
            self.bind(b, ty, False)
        for b, ty in zip(d.lparams, d.lparam_types, strict=True):
            self.bind(b, ty, True)
        body = self.expr(d.body)
        if body != d.result:
            raise TypeCheckError(f"the body of {d.name} has type {body}, but its result is declared "
                                 f"{d.result}", d.body.span or d.span, rule="Def")
        self.release(names)

    def bind(self, b: Binder, ty: Type, linear: bool) -> None:
        self.env[b.name] = _Slot(ty, linear, b.hint, b.span)

    def release(self, binders: list[Binder]) -> None:
        """End of scope: Γ relevant (used ≥ 1), Δ linear (used = 1; overuse was caught at use)."""
        for b in binders:
            slot = self.env.pop(b.name)
            if slot.uses == 0:
                kind = "linear" if slot.linear else "non-linear"
                raise TypeCheckError(f"{kind} variable {slot.hint} never used (use drop)", slot.span,
                                     rule="Drop")

    def use(self, v: Var | LVar) -> Type:
        slot = self.env.get(v.name)
        if slot is None:
            raise TypeCheckError(f"{v.hint} is not in scope", v.span, rule="Var")
        linear = isinstance(v, LVar)
        if slot.linear != linear:
            raise TypeCheckError(f"{v.hint} is bound as a {'linear' if slot.linear else 'non-linear'} "
                                 "variable", v.span, rule="Var")
        slot.uses += 1
        if linear and slot.uses > 1:
            raise TypeCheckError(f"linear variable {v.hint} used twice (use dup)", v.span, rule="Dup")
        return slot.type

    def expr(self, e: Expr) -> Mixed:
        self.nest(1, e)
        t = self.infer(e)
        self.depth -= 1  # (after an error the checker is dropped, so no finally is needed)
        self.typing.expr_types[id(e)] = t
        return t

    def nest(self, levels: int, e: Expr, callee: str | None = None) -> None:
        """Go ``levels`` deeper (a sub-expression, or a callee's body); refuse past ``MAX_DEPTH``."""
        self.depth += levels
        if self.depth > self.deepest:
            if self.depth > MAX_DEPTH:
                what = f"the call of {callee} nests" if callee else "the expression is nested"
                raise TypeCheckError(f"{what} too deeply (more than {MAX_DEPTH:,} levels, counting each "
                                     "sub-expression and each callee's own depth); bind sub-expressions "
                                     "with let", e.span, rule="App" if callee else None)
            self.deepest = self.depth

    def infer(self, e: Expr) -> Mixed:
        if isinstance(e, Var):
            fire("⊢ Var")
            return Mixed((self.use(e),), ())
        if isinstance(e, LVar):
            fire("⊢ LVar")
            return Mixed((), (self.use(e),))
        if isinstance(e, Lit):
            fire("⊢ Lit")
            return Mixed((REAL,), ())
        if isinstance(e, Zero):
            fire("⊢ Zero")
            return Mixed((), (e.type,))
        if isinstance(e, Ret):
            fire("⊢ Ret")
            return Mixed(tuple(self.use(v) for v in e.vars), tuple(self.use(v) for v in e.lvars))
        if isinstance(e, Tup):
            fire("⊢ Tup")
            return Mixed((TupleType(tuple(self.use(v) for v in e.vars)),), ())
        if isinstance(e, TupL):
            fire("⊢ TupL")
            return Mixed((), (TupleType(tuple(self.use(v) for v in e.lvars)),))
        if isinstance(e, Prim):
            return self.prim(e)
        if isinstance(e, Dup):
            fire("⊢ Dup")
            t = self.expr(e.arg)
            ty = _one(t, True)
            if ty is None:
                raise TypeCheckError(f"dup takes one linear value, got {t} (non-linear variables may "
                                     "be used many times without dup)", e.span, rule="Dup")
            return Mixed((), (ty, ty))
        if isinstance(e, Drop):
            fire("⊢ Drop")
            nl, ln = free_vars(e.arg)
            self.typing.drop_types[id(e)] = {n: self.env[n].type for n in (*nl, *ln) if n in self.env}
            self.expr(e.arg)
            return Mixed((), ())
        if isinstance(e, Call):
            return self.call(e)
        if isinstance(e, Block):
            return self.block(e)
        raise TypeCheckError(f"unknown expression {type(e).__name__}", e.span)

    def prim(self, e: Prim) -> Mixed:
        p = e.prim
        if p.arity is not None and (len(e.args) != p.arity or len(e.largs) != p.larity):
            raise TypeCheckError(f"{p.name} takes {p.arity} non-linear and {p.larity} linear arguments",
                                 e.span, rule=p.name)
        arg_types: list[Type] = []
        for a in e.args:
            t = self.expr(a)
            ty = _one(t, False)
            if ty is None:
                what = "a linear value" if t.lin else f"a value of type {t}"
                role = "as its constant argument" if p.linear else ""
                raise TypeCheckError(f"{_shown(p.name)} applied to {what}{' ' + role if role else ''}",
                                     a.span or e.span, rule=p.name)
            arg_types.append(ty)
        larg_types: list[Type] = []
        for a in e.largs:
            t = self.expr(a)
            ty = _one(t, True)
            if ty is None:
                what = "a non-linear value" if t.nonlin else f"a value of type {t}"
                raise TypeCheckError(f"{_shown(p.name)} applied to {what} where a linear one is "
                                     "expected", a.span or e.span, rule=p.name)
            larg_types.append(ty)
        rule = typing_rules.get(p)
        if rule is None:
            raise TypeCheckError(f"primitive {p.name} has no typing rule", e.span, rule=p.name)
        if p in PRIM_TYPING:
            fire(PRIM_TYPING[p])
        try:
            result = rule(arg_types, larg_types, params_dict(e.params))
        except CalculusError as err:
            raise type(err)(err.reason, e.span, rule=p.name) from None
        return Mixed((), (result,)) if p.linear else Mixed((result,), ())

    def call(self, e: Call) -> Mixed:
        d = self.typing.signatures.get(e.func)
        if d is None:
            raise TypeCheckError(f"unknown function {e.func} (define it before calling it)", e.span,
                                 rule="App")
        fire("⊢ App")
        self.nest(self.typing.depths.get(e.func, 0), e, e.func)
        self.depth -= self.typing.depths.get(e.func, 0)
        if len(e.args) != len(d.params) or len(e.largs) != len(d.lparams):
            raise TypeCheckError(f"{e.func} takes {len(d.params)} non-linear and {len(d.lparams)} linear "
                                 f"arguments, got {len(e.args)} ; {len(e.largs)}", e.span, rule="App")
        pairs: list[tuple[Var | LVar, Type]] = [*zip(e.args, d.param_types, strict=True),
                                                *zip(e.largs, d.lparam_types, strict=True)]
        for v, ty in pairs:
            got = self.use(v)
            if got != ty:
                raise TypeCheckError(f"argument {v.hint} of {e.func} has type {got}, expected {ty}",
                                     v.span, rule="App")
        return d.result

    def block(self, e: Block) -> Mixed:
        bound: list[Binder] = []
        for b in e.bindings:
            if isinstance(b, LetB):
                fire("⊢ Let")
                t = self.expr(b.rhs)
                if len(t.nonlin) != len(b.binders) or len(t.lin) != len(b.lbinders):
                    raise TypeCheckError(
                        f"the right-hand side has type {t}, which does not match the pattern's "
                        f"{len(b.binders)} non-linear ; {len(b.lbinders)} linear names", b.span, rule="Let")
                types = (t.nonlin, t.lin)
            elif isinstance(b, UnpackB):
                fire("⊢ Unpack")
                ty = self.use(b.var)
                if not isinstance(ty, TupleType) or len(ty.items) != len(b.binders):
                    raise TypeCheckError(f"cannot unpack {b.var.hint} of type {ty} into {len(b.binders)} "
                                         "names", b.span, rule="Unpack")
                types = (ty.items, ())
            else:
                assert isinstance(b, UnpackLB)
                fire("⊢ UnpackL")
                ty = self.use(b.var)
                if not isinstance(ty, TupleType) or len(ty.items) != len(b.lbinders):
                    raise TypeCheckError(f"cannot unpackL {b.var.hint} of type {ty} into "
                                         f"{len(b.lbinders)} names", b.span, rule="UnpackL")
                types = ((), ty.items)
            self.typing.binding_types[id(b)] = types
            nl = b.binders if isinstance(b, LetB | UnpackB) else ()
            ln = b.lbinders if isinstance(b, LetB | UnpackLB) else ()
            for binder, bty in zip(nl, types[0], strict=True):
                self.bind(binder, bty, False)
            for binder, bty in zip(ln, types[1], strict=True):
                self.bind(binder, bty, True)
            bound.extend(nl)
            bound.extend(ln)
        t = self.expr(e.result)
        self.release(bound)
        return t


def _shown(name: str) -> str:
    return {"ladd": "⊕", "scale": "⊙", "add": "+", "mul": "×"}.get(name, name)
