"""The checker as the passes run it: the rules of ``check_rules`` with the common nodes inlined.

The checker re-checks the output of every pass, whose functions are many and small (a helper per
call, two halves per function after unzip), so the cost per node and per function is what counts.
Here a block keeps its level for all its right-hand sides and its result, and the variables a
primitive, a call, a result tuple or a dup takes are looked up in place: one Python call less per
atom. Anything unusual (an unknown function, a wrong number of arguments, an argument that is not
a variable, a new deepest level) is handed to the reference rule before any state has changed, so
the errors are the reference's, word for word and at the same place. Coverage recordings use the
reference checker, which counts every rule (``check.checker_for``).

The shapes the passes write are typed in place too: a function's parameters and a block's names
are bound and released without a call, a ``let`` of several names, ``let (; ẋ1, ẋ2) = dup(ẋ)`` and
``unpack`` in the block's loop, a result ``(; ẏ)`` or ``(y ; ẏ)`` of ℝ by a shared type, and a
tuple's type with its slots set directly (``tuple_type``); theorems and mutants in
``proofs.linear_ad.speed_check``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from calculi.core.errors import CalculusError
from calculi.linear_ad.built import new_mixed
from calculi.linear_ad.check_errors import misapplied, misdeclared, misfit, misuse, unused
from calculi.linear_ad.check_rules import (
    INFER,
    LINEAR,
    REAL_DUP,
    TYPE,
    USES,
    _Checker,
)
from calculi.linear_ad.syntax import (
    Binder,
    Block,
    Call,
    Dup,
    Expr,
    FuncDef,
    LetB,
    LVar,
    Params,
    Prim,
    Ret,
    Tup,
    TupL,
    UnpackB,
    Var,
)
from calculi.linear_ad.tables import REAL_LIN, REAL_NL, Tables, Typing, recorded
from calculi.linear_ad.types import REAL, Mixed, TupleType, Type, tuple_sizes

_new = object.__new__
_set_items: Callable[[TupleType, tuple[Type, ...]], None] = vars(TupleType)["items"].__set__
_set_scalars: Callable[[TupleType, int], None] = vars(TupleType)["scalars"].__set__
_set_nodes: Callable[[TupleType, int], None] = vars(TupleType)["nodes"].__set__


def tuple_type(items: tuple[Type, ...]) -> TupleType:
    """``TupleType(items)``, its slots set directly (the frozen dataclass's ``__init__`` and
    ``__post_init__`` set each through ``object.__setattr__``)."""
    scalars, nodes = tuple_sizes(items)
    tt: TupleType = _new(TupleType)
    _set_items(tt, items)
    _set_scalars(tt, scalars)
    _set_nodes(tt, nodes)
    return tt

REAL_BOTH = Mixed((REAL,), (REAL,))
"""The type of the result ``(y ; ẏ)`` of type ℝ, J's (shared)."""

NO_TYPES: list[Type] = []
"""The argument types of a primitive without arguments of a kind (shared: never changed)."""

Application = tuple[list[Type], list[Type], Params, Mixed]
"""A primitive's argument types, linear argument types and parameters, and the type they give it."""


class FastChecker(_Checker):
    __slots__ = ("last",)

    def __init__(self, typing: Typing) -> None:
        super().__init__(typing)
        self.last: dict[int, Application] = {}
        """The last application of each primitive the rule typed (by identity): an application of the
        same types and parameters has the same type."""

    def definitions(self, defs: tuple[FuncDef, ...]) -> None:
        env, typing = self.env, self.typing
        signatures, depths, calls, tables = typing.signatures, typing.depths, typing.calls, typing.tables
        pop = env.pop
        typing.merged = None
        for d in defs:  # self.funcdef(d), inline
            table = tables[d.name] = self.table = Tables()  # self.start(d.name), inline
            types = self.types = table.exprs
            called = self.called = set()
            params, lparams, ptypes, ltypes = d.params, d.lparams, d.param_types, d.lparam_types
            if params or ptypes:
                for b, ty in zip(params, ptypes, strict=True):
                    env[b.name] = [ty, False, 0, b]
            if lparams or ltypes:
                for b, ty in zip(lparams, ltypes, strict=True):
                    env[b.name] = [ty, True, 0, b]
            body = d.body  # self.expr(body), inline: the first level
            self.depth = self.deepest = 1
            rule = FAST.get(type(body))
            t = rule(self, body) if rule is not None else self.subclass(body)
            if recorded(body, t):
                types[id(body)] = t
            self.depth = 0
            r = d.result  # t == r, as the dataclass compares, without its call
            if t is not r and not (type(t) is type(r) and t.nonlin == r.nonlin and t.lin == r.lin):
                misdeclared(d, t)
            for b in params:  # self.release([*params, *lparams]), inline
                if not (slot := pop(b.name))[USES]:
                    unused(slot)
            for b in lparams:
                if not (slot := pop(b.name))[USES]:
                    unused(slot)
            signatures[d.name] = d
            depths[d.name] = self.deepest
            calls[d.name] = called

    def block(self, e: Block) -> Mixed:
        env, types, infer = self.env, self.types, FAST
        unpack_types = self.table.unpacks
        inner = self.depth = self.depth + 1  # the level of every right-hand side and of the result
        bound: list[Binder] = []
        for b in e.bindings:
            if type(b) is LetB:
                rhs = b.rhs  # self.expr(rhs), inline
                if inner > self.deepest:
                    self.deeper(rhs)
                rule = infer.get(type(rhs))
                t = rule(self, rhs) if rule is not None else self.subclass(rhs)
                if type(rhs) is Prim or recorded(rhs, t):
                    types[id(rhs)] = t  # (the let itself has no entry: see Tables)
                nl, ln = b.binders, b.lbinders
                if t is REAL_NL and len(nl) == 1 and not ln:  # the commonest patterns: one name of type ℝ
                    x = nl[0]
                    env[x.name] = [REAL, False, 0, x]
                    bound.append(x)
                    continue
                if t is REAL_LIN and len(ln) == 1 and not nl:
                    x = ln[0]
                    env[x.name] = [REAL, True, 0, x]
                    bound.append(x)
                    continue
                if t is REAL_DUP and len(ln) == 2 and not nl:  # let (; ẋ1, ẋ2) = dup(ẋ)
                    x, y = ln
                    env[x.name] = [REAL, True, 0, x]
                    env[y.name] = [REAL, True, 0, y]
                    bound += ln
                    continue
                tn, tl = t.nonlin, t.lin
                if len(tn) != len(nl) or len(tl) != len(ln):
                    self.let(b, t, bound)  # (its error)
                if len(nl) == 1:  # self.let(b, t, bound), inline
                    x = nl[0]
                    env[x.name] = [tn[0], False, 0, x]
                    bound.append(x)
                elif nl:
                    for x, ty in zip(nl, tn, strict=True):
                        env[x.name] = [ty, False, 0, x]
                    bound += nl
                if len(ln) == 1:
                    x = ln[0]
                    env[x.name] = [tl[0], True, 0, x]
                    bound.append(x)
                elif ln:
                    for x, ty in zip(ln, tl, strict=True):
                        env[x.name] = [ty, True, 0, x]
                    bound += ln
            elif type(b) is UnpackB and type(v := b.var) is Var:
                slot = env.get(v.name)  # self.unpack(b, bound), inline
                if slot is None or slot[LINEAR]:
                    misuse(v, slot, False)
                ty = slot[TYPE]
                nl = b.binders
                if type(ty) is not TupleType or len(ty.items) != len(nl):
                    self.unpack(b, bound)  # (its error)
                slot[USES] += 1
                tn = ty.items
                unpack_types[id(b)] = (tn, ())
                for x, ty in zip(nl, tn, strict=True):
                    env[x.name] = [ty, False, 0, x]
                bound += nl
            else:
                self.unpack(b, bound)
        result = e.result  # self.expr(result), inline
        if inner > self.deepest:
            self.deeper(result)
        rule = infer.get(type(result))
        t = rule(self, result) if rule is not None else self.subclass(result)
        if recorded(result, t):
            types[id(result)] = t
        self.depth = inner - 1
        pop = env.pop  # self.release(bound), inline
        for x in bound:
            if not (slot := pop(x.name))[USES]:
                unused(slot)
        return t

    def below(self, e: Expr) -> None:
        """``e`` is one level below the node being checked: refuse it past ``MAX_DEPTH``."""
        self.depth += 1
        if self.depth > self.deepest:
            self.deeper(e)
        self.depth -= 1

    def prim(self, e: Prim) -> Mixed:
        p = e.prim
        args, largs = e.args, e.largs
        if p.arity is not None and (len(args) != p.arity or len(largs) != p.larity):
            return _Checker.prim(self, e)
        if self.depth >= self.deepest and (args or largs):
            self.below((args or largs)[0])
        env, types = self.env, self.types
        arg_types: list[Type] = [] if args else NO_TYPES
        for a in args:
            if type(a) is Var:  # ⊢ Var, inline
                slot = env.get(a.name)
                if slot is None or slot[LINEAR]:
                    misuse(a, slot, False)
                slot[USES] += 1
                ty = slot[TYPE]
                if ty is not REAL:
                    types[id(a)] = new_mixed((ty,), ())
                arg_types.append(ty)
                continue
            t = self.operand(a)
            if t is REAL_NL:
                arg_types.append(REAL)
                continue
            if len(t.nonlin) != 1 or t.lin:
                misapplied(e, a, t, False)
            arg_types.append(t.nonlin[0])
        larg_types: list[Type] = [] if largs else NO_TYPES
        for a in largs:
            if type(a) is LVar:  # ⊢ LVar, inline
                slot = env.get(a.name)
                if slot is None or not slot[LINEAR] or slot[USES]:
                    misuse(a, slot, True)
                slot[USES] = 1
                ty = slot[TYPE]
                if ty is not REAL:
                    types[id(a)] = new_mixed((), (ty,))
                larg_types.append(ty)
                continue
            t = self.operand(a)
            if t is REAL_LIN:
                larg_types.append(REAL)
                continue
            if len(t.lin) != 1 or t.nonlin:
                misapplied(e, a, t, True)
            larg_types.append(t.lin[0])
        key = id(p)
        last = self.last.get(key)
        if last is not None and last[0] == arg_types and last[1] == larg_types and last[2] == e.params:
            return last[3]  # (the rule is a function of the types and the parameters)
        known = self.rules.get(key)
        if known is None:
            known = self.rule_of(e)
        try:
            result = known[0](arg_types or [], larg_types or [], dict(e.params) if e.params else {})
        except CalculusError as err:
            raise type(err)(err.reason, e.span, rule=p.name) from None
        t = known[2] if result is REAL else new_mixed((), (result,)) if p.linear else new_mixed((result,), ())
        self.last[key] = (arg_types, larg_types, e.params, t)
        return t

    def operand(self, a: Expr) -> Mixed:
        """``self.expr(a)`` for an argument of a primitive, whose level is known to be reached already."""
        if type(a) is not Prim:
            return self.expr(a)
        self.depth += 1
        t = self.types[id(a)] = self.prim(a)
        self.depth -= 1
        return t

    def call(self, e: Call) -> Mixed:
        typing = self.typing
        d = typing.signatures.get(e.func)
        if d is None:
            return _Checker.call(self, e)
        self.called.add(e.func)
        levels = typing.depths.get(e.func, 0)
        if self.depth + levels > self.deepest:  # the callee's levels below this one
            self.depth += levels
            self.deeper(e, e.func)
            self.depth -= levels
        args, largs = e.args, e.largs
        if len(args) != len(d.params) or len(largs) != len(d.lparams):
            return _Checker.call(self, e)  # (what it has done so far is done again, to the same effect)
        env = self.env  # (a signature's parameters and their types are as many: checked at its def)
        for v, ty in zip(args, d.param_types, strict=False):
            if type(v) is Var:  # self.use(v), inline
                slot = env.get(v.name)
                if slot is None or slot[LINEAR]:
                    misuse(v, slot, False)
                slot[USES] += 1
                got = slot[TYPE]
            else:
                got = self.use(v, False)
            if got is not ty and got != ty:
                misfit(e, v, got, ty)
        for w, ty in zip(largs, d.lparam_types, strict=False):
            if type(w) is LVar:
                slot = env.get(w.name)
                if slot is None or not slot[LINEAR] or slot[USES]:
                    misuse(w, slot, True)
                slot[USES] = 1
                got = slot[TYPE]
            else:
                got = self.use(w, True)
            if got is not ty and got != ty:
                misfit(e, w, got, ty)
        return d.result

    def ret(self, e: Ret) -> Mixed:
        vs, lvs = e.vars, e.lvars
        nl = self.atoms(vs, False) if vs else ()
        if len(lvs) == 1 and type(v := lvs[0]) is LVar:  # one linear result, the commonest
            slot = self.env.get(v.name)  # self.use(v), inline
            if slot is None or not slot[LINEAR] or slot[USES]:
                misuse(v, slot, True)
            slot[USES] = 1
            ty = slot[TYPE]
            if ty is REAL:
                if not nl:
                    return REAL_LIN
                if len(nl) == 1 and nl[0] is REAL:
                    return REAL_BOTH  # (y ; ẏ), J's result
            return new_mixed(nl, (ty,))
        return new_mixed(nl, self.atoms(lvs, True) if lvs else ())

    def tup(self, e: Tup) -> Mixed:
        return new_mixed((tuple_type(self.atoms(e.vars, False)),), ())

    def tupl(self, e: TupL) -> Mixed:
        return new_mixed((), (TupleType(self.atoms(e.lvars, True)),))

    def atoms(self, vs: tuple[Var, ...] | tuple[LVar, ...], linear: bool) -> tuple[Type, ...]:
        """``tuple([self.use(v) for v in vs])``, each ``v`` expected of the kind ``linear``."""
        env, kind = self.env, LVar if linear else Var
        types: list[Type] = []
        for v in vs:
            if type(v) is kind:  # self.use(v), inline
                slot = env.get(v.name)
                if slot is None or slot[LINEAR] is not linear or (linear and slot[USES]):
                    misuse(v, slot, linear)
                slot[USES] += 1
                types.append(slot[TYPE])
            else:
                types.append(self.use(v, linear))
        return tuple(types)

    def dup(self, e: Dup) -> Mixed:
        a = e.arg
        if type(a) is not LVar:
            return _Checker.dup(self, e)
        if self.depth >= self.deepest:  # self.below(a), inline
            self.depth += 1
            if self.depth > self.deepest:
                self.deeper(a)
            self.depth -= 1
        slot = self.env.get(a.name)  # ⊢ LVar, inline
        if slot is None or not slot[LINEAR] or slot[USES]:
            misuse(a, slot, True)
        slot[USES] = 1
        ty = slot[TYPE]
        if ty is not REAL:
            self.types[id(a)] = new_mixed((), (ty,))
        return REAL_DUP if ty is REAL else Mixed((), (ty, ty))


FAST: dict[type, Callable[[Any, Any], Mixed]] = {
    **INFER, Block: FastChecker.block, Prim: FastChecker.prim, Call: FastChecker.call, Ret: FastChecker.ret,
    Dup: FastChecker.dup, Tup: FastChecker.tup, TupL: FastChecker.tupl,
}
"""The typing rule of each constructor, the inlined ones in place of the reference's."""
FastChecker.infer = FAST
