"""U's rules on expressions and bindings (``calculi.linear_ad.unzip`` has the rules themselves in
its docstring, and U at function level): one walk writes both halves, the non-linear half C into
one list and the linear half L into another, each in its final names (``unzip_names``).

The walk is the hot path of U: a binding's right-hand side is split in place, by its constructor,
without the generic dispatch where the constructor is the one J writes most (a primitive, a call,
a ``dup`` of a linear variable); the nodes are built by the makers of ``built``;
and a scale ``q(x̄)`` of a linear primitive is written once, in the linear half's names, not first
in the non-linear half's and then copied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from calculi.core.errors import TypeCheckError
from calculi.linear_ad.built import new_binder, new_call, new_dup, new_letb, new_prim, new_var
from calculi.linear_ad.check import Tables, Typing, type_in
from calculi.linear_ad.checkpoint import Policy, save_all
from calculi.linear_ad.freevars import free_vars
from calculi.linear_ad.rules import fire, fire_prim
from calculi.linear_ad.syntax import (
    EMPTY,
    Binder,
    Binding,
    Block,
    Call,
    Drop,
    Dup,
    Expr,
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
    var_of,
)
from calculi.linear_ad.types import TupleType, Type
from calculi.linear_ad.unzip_names import Lin, _as_ret, _contains_call, _of_variables, lin_name, nonlin_name
from calculi.linear_ad.unzip_names import scale as _scale


class Split:
    """U of one function's body at a time: ``funcdef`` (in ``unzip``) resets the names per function."""

    def __init__(self, typing: Typing, policy: Policy, tapes: dict[str, TupleType], counting: bool) -> None:
        self.typing = typing
        self.signatures = typing.signatures
        self.table = Tables()
        """The types of the function being unzipped (``funcdef`` sets them)."""
        self.policy = policy
        self.saving = policy is save_all
        """Every binding is saved: the policy need not be asked."""
        self.tapes = tapes
        self.counting = counting
        self.next = 0
        """The next name of the non-linear half, written from 0 in order: canonical as it is."""
        self.lin = Lin(0)
        self.sub: dict[int, Expr] = {}
        self.types: dict[int, Type] = {}
        self.copies: dict[int, LetB] = {}
        """The copies in the linear half, by id, and the non-linear bindings they copy."""

    def fresh(self, hint: str, ty: Type) -> Binder:
        n = self.next
        self.next = n + 1
        self.types[n] = ty
        return Binder(n, hint)

    def var(self, v: Var) -> Var:
        out = self.sub[v.name]
        assert isinstance(out, Var)
        return out

    def lvar(self, v: LVar) -> LVar:
        out = self.sub[v.name]
        assert isinstance(out, LVar)
        return out

    @staticmethod
    def drain(out: list[Binding], e: Expr) -> None:
        """Keep an expression of type (;) that may still do something (a drop) as a binding."""
        if e is not EMPTY and e != EMPTY:
            out.append(LetB((), (), e))

    def u(self, e: Expr, C: list[Binding], L: list[Binding]) -> tuple[Expr, Expr]:
        kind = type(e)
        if self.counting and kind in RULE_NAMES:
            fire(RULE_NAMES[kind])
        if kind is Var:
            out = self.sub[e.name]  # type: ignore[attr-defined]
            assert isinstance(out, Var)
            return out, EMPTY
        if kind is Prim:
            assert isinstance(e, Prim)
            return self.prim(e, C, L)
        if kind is LVar:
            out = self.sub[e.name]  # type: ignore[attr-defined]
            assert isinstance(out, LVar)
            return EMPTY, out
        if kind is Block:
            assert isinstance(e, Block)
            self.bindings(e.bindings, C, L)
            return self.u(e.result, C, L)
        rule = RULES.get(kind)
        if rule is None:
            raise TypeCheckError(f"unzip has no rule for {kind.__name__}", e.span, rule="Unzip")
        return rule(self, e, C, L)

    def dup(self, e: Dup, C: list[Binding], L: list[Binding]) -> tuple[Expr, Expr]:
        aN, aL = self.u(e.arg, C, L)
        self.drain(C, aN)
        return EMPTY, Dup(aL)

    def drop(self, e: Drop, C: list[Binding], L: list[Binding]) -> tuple[Expr, Expr]:
        nl, ln = free_vars(e.arg)
        xs = tuple(self.var(Var(n)) for n in sorted(nl))
        ys = tuple(self.lvar(LVar(n)) for n in sorted(ln))
        return (Drop(Ret(xs, ())) if xs else EMPTY), (Drop(Ret((), ys)) if ys else EMPTY)

    def prim(self, e: Prim, C: list[Binding], L: list[Binding]) -> tuple[Expr, Expr]:
        if e.prim.linear:
            return EMPTY, self.linear(e, C, L)
        counting = self.counting
        if counting:
            fire_prim("U", e.prim)
        sub = self.sub
        args = []
        for a in e.args:
            if type(a) is Var:
                args.append(sub[a.name])  # (U(x) = (x, ()), inline)
                if counting:
                    fire("U(x)")
                continue
            aN, aL = self.prim(a, C, L) if type(a) is Prim else self.u(a, C, L)
            if aL is not EMPTY:
                self.drain(L, aL)
            args.append(aN)
        for a in e.largs:  # (none, in a well-typed program)
            aN, aL = self.u(a, C, L)
            if aN is not EMPTY:
                self.drain(C, aN)
        return new_prim(e.prim, tuple(args), (), e.params, e.span), EMPTY

    def linear(self, e: Prim, C: list[Binding], L: list[Binding]) -> Prim:
        """The linear half of a linear primitive ``p(s̄ ; ė̄)``: ``p(s̄N ; ėL)``, its scales s̄N moved to
        the linear half, in its names, after its linear arguments (which may read residuals first)."""
        counting = self.counting
        if counting:
            fire_prim("U", e.prim)
        sub = self.sub
        args: list[Any] = []
        for a in e.args:
            kind = type(a)
            if kind is Var:
                args.append(sub[a.name])  # type: ignore[attr-defined]  # (U(x) = (x, ()), inline)
                if counting:
                    fire("U(x)")
            elif kind is Prim and _of_variables(a):  # type: ignore[arg-type]  # (kept, in the source's names)
                assert isinstance(a, Prim)
                if counting:
                    fire_prim("U", a.prim)
                    for _ in a.args:
                        fire("U(x)")
                args.append(a)
            else:
                aN, aL = self.prim(a, C, L) if kind is Prim else self.u(a, C, L)  # type: ignore[arg-type]
                if aL is not EMPTY:
                    self.drain(L, aL)
                args.append((aN,))
        largs: list[Expr] = []
        for a in e.largs:
            kind = type(a)
            if kind is LVar:
                largs.append(sub[a.name])  # type: ignore[attr-defined]  # (U(ẏ) = ((), ẏ), inline)
                if counting:
                    fire("U(ẏ)")
            elif kind is Prim and a.prim.linear:  # type: ignore[attr-defined]
                largs.append(self.linear(a, C, L))  # type: ignore[arg-type]
            else:
                aN, aL = self.prim(a, C, L) if kind is Prim else self.u(a, C, L)  # type: ignore[arg-type]
                if aN is not EMPTY:
                    self.drain(C, aN)
                largs.append(aL)
        lin = self.lin
        read = lin.sub.get
        scales: list[Expr] = []
        for a in args:
            kind = type(a)
            if kind is Var:
                w = read(a.name)
                scales.append(lin.var(a) if w is None else w)
            elif kind is Prim:
                scales.append(_scale(a, sub, lin))
            else:
                scales.append(lin.expr(a[0]))
        return new_prim(e.prim, tuple(scales), tuple(largs), e.params, e.span)

    def call(self, e: Call, C: list[Binding], L: list[Binding]) -> tuple[Expr, Expr]:
        ys, eL = self.called(e, C)
        return Ret(ys, ()), eL

    def called(self, e: Call, C: list[Binding]) -> tuple[tuple[Var, ...], Call]:
        """``let (ȳ, t) = f.nonlin(x̄)`` into C; the uses of ȳ, and ``f.lin(t ; ẏ̄)``."""
        func = e.func
        sub = self.sub
        types = self.types
        n = self.next
        ys = []
        uses = []
        for ty in self.signatures[func].result.nonlin:
            ys.append(new_binder(n, "y", None))
            uses.append(new_var(n, "y", None))
            types[n] = ty
            n += 1
        types[n] = self.tapes[func]
        ys.append(new_binder(n, "t", None))
        self.next = n + 1
        args: list[Any] = [sub[x.name] for x in e.args]
        C.append(new_letb(tuple(ys), (), new_call(nonlin_name(func), tuple(args), (), None), None))
        largs: list[Any] = [sub[y.name] for y in e.largs]
        t = self.lin.var(new_var(n, "t", None))
        return tuple(uses), new_call(lin_name(func), (t,), tuple(largs), None)

    def bindings(self, bs: tuple[Binding, ...], C: list[Binding], L: list[Binding]) -> None:
        """U of a block's bindings, into C and L."""
        sub = self.sub
        counting = self.counting
        lin = self.lin
        for b in bs:
            kind = type(b)
            if kind is LetB:
                assert isinstance(b, LetB)
                if counting:
                    fire("U(let)")
                rhs: Any = b.rhs
                form = type(rhs)
                binders = b.binders
                if form is Prim:
                    if rhs.prim.linear:
                        eN: Any = EMPTY
                        eL: Any = self.linear(rhs, C, L)
                    else:
                        eN, eL = self.prim(rhs, C, L)
                elif form is Dup and type(rhs.arg) is LVar:  # (U(dup ẏ), inline)
                    if counting:
                        fire("U(dup)")
                        fire("U(ẏ)")
                    eN, eL = EMPTY, new_dup(sub[rhs.arg.name])
                elif form is Call and binders:
                    if counting:
                        fire("U(f)")
                    ys, eL = self.called(rhs, C)
                    for x, v in zip(binders, ys, strict=True):
                        sub[x.name] = v
                    eN = EMPTY
                    binders = ()
                else:
                    eN, eL = self.u(rhs, C, L)
                if binders:
                    form = type(eN)
                    if form is Var:  # (U(x) = (x, ()): the binder is another name for it)
                        (x,) = binders
                        sub[x.name] = eN
                    elif form is Ret:
                        for x, v in zip(binders, eN.vars, strict=True):
                            sub[x.name] = v
                    else:
                        self.let(b, eN, C, L)
                elif eN is not EMPTY:
                    self.drain(C, _as_ret(eN))
                if b.lbinders:
                    form = type(eL)
                    if form is LVar:
                        (y,) = b.lbinders
                        sub[y.name] = eL
                    elif form is Ret:
                        for y, lv in zip(b.lbinders, eL.lvars, strict=True):
                            sub[y.name] = lv
                    else:
                        L.append(new_letb((), lin.binders(b.lbinders, sub), eL, None))
                elif eL is not EMPTY:
                    self.drain(L, _as_ret(eL))
            elif kind is UnpackB:
                assert isinstance(b, UnpackB)
                if counting:
                    fire("U(unpack)")
                types = self.table.unpacks[id(b)][0]
                xs = tuple(self.fresh(x.hint, ty) for x, ty in zip(b.binders, types, strict=True))
                C.append(UnpackB(xs, self.var(b.var)))
                for x, nx in zip(b.binders, xs, strict=True):
                    sub[x.name] = var_of(nx)
            elif kind is UnpackLB:
                assert isinstance(b, UnpackLB)
                if counting:
                    fire("U(unpackL)")
                lv = self.lvar(b.var)
                L.append(UnpackLB(lin.binders(b.lbinders, sub), lv))

    def let(self, b: LetB, eN: Expr, C: list[Binding], L: list[Binding]) -> None:
        """``let x̄ = eN`` in the non-linear half, saved or, by the policy, also recomputed in L."""
        sub = self.sub
        binders = b.binders
        if len(binders) == 1:
            (x,) = binders
            n = self.next
            self.next = n + 1
            self.types[n] = type_in(self.table.exprs, b.rhs).nonlin[0]  # (a let's names have its rhs's types)
            sub[x.name] = new_var(n, x.hint, None)
            xs: tuple[Binder, ...] = (new_binder(n, x.hint, None),)
        else:
            types = type_in(self.table.exprs, b.rhs).nonlin
            xs = tuple(self.fresh(x.hint, ty) for x, ty in zip(binders, types, strict=True))
            for x, nx in zip(binders, xs, strict=True):
                sub[x.name] = var_of(nx)
        binding = new_letb(xs, (), eN, None)
        C.append(binding)
        if self.saving or self.policy(binding) or _contains_call(eN):
            if self.counting:
                fire("U(let) save")
        else:
            if self.counting:
                fire("U(let) recompute")
            copy = self.lin.copy(binding)
            self.copies[id(copy)] = binding
            L.append(copy)


Rule = Callable[[Split, Any, list[Binding], list[Binding]], tuple[Expr, Expr]]
RULES: dict[type, Rule] = {
    Lit: lambda u, e, C, L: (e, EMPTY),
    Zero: lambda u, e, C, L: (EMPTY, e),
    Ret: lambda u, e, C, L: (Ret(tuple(map(u.var, e.vars)), ()), Ret((), tuple(map(u.lvar, e.lvars)))),
    Tup: lambda u, e, C, L: (Tup(tuple(map(u.var, e.vars))), EMPTY),
    TupL: lambda u, e, C, L: (EMPTY, TupL(tuple(map(u.lvar, e.lvars)))),
    Dup: Split.dup, Drop: Split.drop, Call: Split.call}
"""U of the constructors ``Split.u`` does not handle inline, by the constructor."""

RULE_NAMES: dict[type, str] = {Var: "U(x)", LVar: "U(ẏ)", Lit: "U(r)", Zero: "U(0)", Ret: "U((x̄ ; ẏ̄))",
                               Tup: "U(tup)", TupL: "U(tupL)", Dup: "U(dup)", Drop: "U(drop)", Call: "U(f)"}
"""The rule each constructor fires (primitives fire ``U(p)``, bindings ``U(let)`` and the others)."""

