"""Unzip: split a mixed function into its non-linear half and its linear half (partial evaluation).

    U(e) = (C, eN, eL):  C non-linear bindings, eN the non-linear result, eL the linear part.

    U((x̄ ; ẏ̄))                = (∅, (x̄ ;), (; ẏ̄))
    U(let (x̄ ; ẏ̄) = e1 in e2)  = (C1 · let x̄ = e1N · C2,  e2N,  let (; ẏ̄) = e1L in e2L)
    U(let (x̄) = unpack y in e) = (unpack · C, eN, eL)
    U(let (ẋ̄) = unpackL ẏ in e)= (C, eN, let (ẋ̄) = unpackL ẏ in eL)
    U(f(x̄ ; ẏ̄))              = (let (ȳ, t) = f.nonlin(x̄), (ȳ ;), f.lin(t ; ẏ̄))   one tape per call
    U(p(ē))                   = (C̄, p(ēN), (;))          non-linear primitives stay non-linear
    U(p(s̄ ; ė̄))               = (C̄, (;), p(s̄N ; ėL))       the scale expressions s̄N move to the linear half
    U(dup ė) = (C, eN, dup eL)      U(drop e) = (∅, drop (x̄ ;), drop (; ẏ̄))   x̄ ; ẏ̄ = FV(e)

At function level, ``def f(x̄ ; ẏ̄) = e`` becomes ``f.nonlin(x̄ ;) → (τ̄, R ;)``, returning its results
and the tape ``t = tup(R̄)`` of residuals R = FV_nl(eL) (in the order eL first reads them), and
``f.lin(t ; ẏ̄) → (; σ̄)``, which unpacks the tape and runs eL. Both halves are written with their
canonical names (the parser's, ``rename.canonical``'s) as they are built (``unzip_names``): only a
half checkpointing removed bindings from is renumbered.

Checkpointing is the free choice in unzipping ``let x̄ = e1N``: *save* it (its value becomes a
residual) or *recompute* it (copy the binding into the linear half, so its free variables
become residuals instead). A ``Policy`` (``checkpoint.py``) decides per binding; copies the
linear half does not need, and non-linear bindings that only fed recomputed ones, are removed
afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from calculi.core import coverage
from calculi.core.errors import TypeCheckError
from calculi.linear_ad.built import new_funcdef, new_mixed
from calculi.linear_ad.check import Typing, check_open
from calculi.linear_ad.checkpoint import POLICIES, Policy, UnzipReport, recompute_all, save_all, save_only
from calculi.linear_ad.eval import static_work
from calculi.linear_ad.freevars import free_vars
from calculi.linear_ad.liveness import eliminate
from calculi.linear_ad.parse_tokens import new_binder, new_letb, new_prim, new_var
from calculi.linear_ad.renumber import renumber
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
    subexpressions,
    var_of,
)
from calculi.linear_ad.types import TupleType, Type
from calculi.linear_ad.unzip_names import Lin

__all__ = ["POLICIES", "Policy", "UnzipReport", "Unzipped", "lin_name", "make_tape", "nonlin_name",
           "recompute_all", "save_all", "save_only", "unzip_program"]


class Halves(NamedTuple):
    """U of one function: its two halves, the bindings the linear half recomputes and those removed
    from the non-linear half (in the non-linear half's names), and the residuals (in those names)."""

    nonlin: FuncDef
    lin: FuncDef
    recomputed: list[LetB]
    eliminated: list[LetB]
    residuals: frozenset[int]


@dataclass(slots=True)
class Unzipped:
    program: Program
    report: UnzipReport
    nonlin: str
    lin: str


def nonlin_name(name: str) -> str:
    return f"{name}.nonlin"


def lin_name(name: str) -> str:
    return f"{name}.lin"


class _Unzip:
    def __init__(self, typing: Typing, policy: Policy, tapes: dict[str, TupleType], lparams: int) -> None:
        self.typing = typing
        self.policy = policy
        self.tapes = tapes
        self.next = 0
        """The next name of the non-linear half, written from 0 in order: canonical as it is."""
        self.lin = Lin(lparams)
        self.sub: dict[int, Expr] = {}
        self.types: dict[int, Type] = {}
        self.copies: dict[int, LetB] = {}
        """The copies in the linear half, by id, and the non-linear bindings they copy."""
        self.counting = coverage.active()

    def fresh(self, hint: str, ty: Type) -> Binder:
        n = self.next
        self.next = n + 1
        self.types[n] = ty
        return new_binder(n, hint, None)

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
            return self.block(e, C, L)
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
        largs = []
        for a in e.largs:
            if type(a) is LVar:
                largs.append(sub[a.name])  # (U(ẏ) = ((), ẏ), inline)
                if counting:
                    fire("U(ẏ)")
                continue
            aN, aL = self.prim(a, C, L) if type(a) is Prim else self.u(a, C, L)
            if aN is not EMPTY:
                self.drain(C, aN)
            largs.append(aL)
        if e.prim.linear:  # (the scales s̄N move to the linear half: there, in its own names)
            lin = self.lin
            scales = tuple([lin.var(a) if type(a) is Var else lin.expr(a) for a in args])
            return EMPTY, new_prim(e.prim, scales, tuple(largs), e.params, e.span)
        return new_prim(e.prim, tuple(args), (), e.params, e.span), EMPTY

    def call(self, e: Call, C: list[Binding], L: list[Binding]) -> tuple[Expr, Expr]:
        func = e.func
        ys = tuple([self.fresh("y", ty) for ty in self.typing.signatures[func].result.nonlin])
        t = self.fresh("t", self.tapes[func])
        C.append(new_letb((*ys, t), (), Call(nonlin_name(func), tuple(map(self.var, e.args)), ()),
                          None))
        return Ret(tuple(map(var_of, ys)), ()), Call(lin_name(func), (self.lin.var(var_of(t)),),
                                                     tuple(map(self.lvar, e.largs)))

    def block(self, e: Block, C: list[Binding], L: list[Binding]) -> tuple[Expr, Expr]:
        sub = self.sub
        for b in e.bindings:
            kind = type(b)
            if kind is LetB:
                assert isinstance(b, LetB)
                if self.counting:
                    fire("U(let)")
                rhs = b.rhs
                eN, eL = self.prim(rhs, C, L) if isinstance(rhs, Prim) else self.u(rhs, C, L)
                if b.binders:
                    if type(eN) is Var:  # (U(x) = (x, ()): the binder is another name for it)
                        (x,) = b.binders
                        sub[x.name] = eN
                    elif type(eN) is Ret:
                        assert isinstance(eN, Ret)
                        for x, v in zip(b.binders, eN.vars, strict=True):
                            sub[x.name] = v
                    else:
                        self.let(b, eN, C, L)
                elif eN is not EMPTY:
                    self.drain(C, _as_ret(eN))
                if b.lbinders:
                    if type(eL) is LVar:
                        (y,) = b.lbinders
                        sub[y.name] = eL
                    elif type(eL) is Ret:
                        assert isinstance(eL, Ret)
                        for y, lv in zip(b.lbinders, eL.lvars, strict=True):
                            sub[y.name] = lv
                    else:
                        L.append(new_letb((), self.lin.binders(b.lbinders, sub), eL, None))
                elif eL is not EMPTY:
                    self.drain(L, _as_ret(eL))
            elif kind is UnpackB:
                assert isinstance(b, UnpackB)
                if self.counting:
                    fire("U(unpack)")
                types = self.typing.binding_types[id(b)][0]
                xs = tuple(self.fresh(x.hint, ty) for x, ty in zip(b.binders, types, strict=True))
                C.append(UnpackB(xs, self.var(b.var)))
                for x, nx in zip(b.binders, xs, strict=True):
                    self.sub[x.name] = var_of(nx)
            elif kind is UnpackLB:
                assert isinstance(b, UnpackLB)
                if self.counting:
                    fire("U(unpackL)")
                lv = self.lvar(b.var)
                L.append(UnpackLB(self.lin.binders(b.lbinders, self.sub), lv))
        return self.u(e.result, C, L)

    def let(self, b: LetB, eN: Expr, C: list[Binding], L: list[Binding]) -> None:
        """``let x̄ = eN`` in the non-linear half, saved or, by the policy, also recomputed in L."""
        if len(b.binders) == 1:
            x = b.binders[0]
            nx = self.fresh(x.hint, self.typing.binding_types[id(b)][0][0])
            self.sub[x.name] = var_of(nx)
            xs: tuple[Binder, ...] = (nx,)
        else:
            types = self.typing.binding_types[id(b)][0]
            xs = tuple(self.fresh(x.hint, ty) for x, ty in zip(b.binders, types, strict=True))
            for x, nx in zip(b.binders, xs, strict=True):
                self.sub[x.name] = var_of(nx)
        binding = new_letb(xs, (), eN, None)
        C.append(binding)
        if self.policy(binding) or _contains_call(eN):
            if self.counting:
                fire("U(let) save")
        else:
            if self.counting:
                fire("U(let) recompute")
            copy = self.lin.copy(binding)
            self.copies[id(copy)] = binding
            L.append(copy)

    def funcdef(self, d: FuncDef) -> Halves:
        sub = self.sub
        types = self.types
        params = tuple([self.fresh(b.hint, ty) for b, ty in zip(d.params, d.param_types, strict=True)])
        for b, nb in zip(d.params, params, strict=True):
            sub[b.name] = var_of(nb)
        lin = self.lin
        lparams = lin.params(d.lparams, sub)
        C: list[Binding] = []
        L: list[Binding] = []
        body = d.body
        eN, eL = self.block(body, C, L) if type(body) is Block else self.u(body, C, L)
        canonical = True
        recomputed: list[LetB] = []
        residuals = lin.residuals
        copies = self.copies
        if copies:  # (the copies the linear half does not use are removed, and their residuals)
            L, kept, live = eliminate(L, eL, set(), lambda b: id(b) in copies)
            recomputed = [copies[id(b)] for b in kept]
            if len(kept) < len(copies) or len(live) < len(residuals):
                canonical = False
                residuals = [r for r in residuals if lin.sub[r.name].name in live]
        tape_type = TupleType(tuple([types[r.name] for r in residuals]))
        self.tapes[d.name] = tape_type
        eN = _as_ret(eN)
        if isinstance(eN, Ret):
            results = eN.vars
        else:
            ys = tuple(self.fresh("y", ty) for ty in d.result.nonlin)
            C.append(new_letb(ys, (), eN, None))
            results = tuple(map(var_of, ys))
        t = self.fresh("t", tape_type)
        C.append(new_letb((t,), (), make_tape(tuple(residuals)), None))
        nonlin_result = Ret((*results, var_of(t)), ())
        eliminated: list[LetB] = []
        if copies:  # (with nothing recomputed, nothing in C is removable: no walk)
            originals = {id(b) for b in copies.values()}
            C, _, _ = eliminate(C, nonlin_result, set(), lambda b: id(b) in originals)
            kept_ids = {id(c) for c in C}
            eliminated = [b for b in copies.values() if id(b) not in kept_ids]
        span = d.span
        nonlin = new_funcdef(nonlin_name(d.name), params, d.param_types, (), (),
                             new_mixed((*d.result.nonlin, tape_type), ()), block(C, nonlin_result), span)
        tb = new_binder(0, "t", None)
        rbs = tuple([new_binder(lin.sub[r.name].name, r.hint, None) for r in residuals])
        if canonical:
            lin.name_binders(len(residuals))
        L.insert(0, UnpackB(rbs, new_var(0, "t", None)))
        lin_def = new_funcdef(lin_name(d.name), (tb,), (tape_type,), lparams, d.lparam_types,
                              new_mixed((), d.result.lin), block(L, eL), span)
        return Halves(renumber(nonlin) if eliminated else nonlin, lin_def if canonical else renumber(lin_def),
                      recomputed, eliminated, frozenset([r.name for r in residuals]))


Rule = Callable[[_Unzip, Any, list[Binding], list[Binding]], tuple[Expr, Expr]]
RULES: dict[type, Rule] = {
    Lit: lambda u, e, C, L: (e, EMPTY),
    Zero: lambda u, e, C, L: (EMPTY, e),
    Ret: lambda u, e, C, L: (Ret(tuple(map(u.var, e.vars)), ()), Ret((), tuple(map(u.lvar, e.lvars)))),
    Tup: lambda u, e, C, L: (Tup(tuple(map(u.var, e.vars))), EMPTY),
    TupL: lambda u, e, C, L: (EMPTY, TupL(tuple(map(u.lvar, e.lvars)))),
    Dup: _Unzip.dup, Drop: _Unzip.drop, Call: _Unzip.call}
"""U of the constructors ``_Unzip.u`` does not handle inline, by the constructor."""

RULE_NAMES: dict[type, str] = {Var: "U(x)", LVar: "U(ẏ)", Lit: "U(r)", Zero: "U(0)", Ret: "U((x̄ ; ẏ̄))",
                               Tup: "U(tup)", TupL: "U(tupL)", Dup: "U(dup)", Drop: "U(drop)", Call: "U(f)"}
"""The rule each constructor fires (primitives fire ``U(p)``, bindings ``U(let)`` and the others)."""


def make_tape(residuals: tuple[Var, ...]) -> Expr:
    """The tape: ``tup(R̄)``."""
    return Tup(residuals)


def _as_ret(e: Expr) -> Expr:
    if isinstance(e, Var):
        return Ret((e,), ())
    if isinstance(e, LVar):
        return Ret((), (e,))
    return e


def _contains_call(e: Expr) -> bool:
    return any(isinstance(node, Call) for node in subexpressions(e))


def _own_work(b: LetB, types: dict[int, Type]) -> int:
    """W of a non-linear binding's right-hand side (calls excluded), typed from its free variables."""
    return static_work(check_open(b.rhs, types), b.rhs, calls=False)


def unzip_program(typing: Typing, name: str, policy: Policy = save_all) -> Unzipped:
    """U of ``name`` and of every function it calls: ``g.nonlin`` and ``g.lin`` for each ``g``."""
    from calculi.linear_ad.jvp import callees

    program = typing.program
    tapes: dict[str, TupleType] = {}
    raw: list[FuncDef] = []
    report = UnzipReport()
    tape_size, residuals = report.tape_size, report.residuals
    recomputed_work, eliminated_work = report.recomputed_work, report.eliminated_work
    recomputed_names, recomputed_inputs = report.recomputed_names, report.recomputed_inputs
    nothing: frozenset[int] = frozenset()
    for g in callees(typing, name):
        d = program.get(g)
        assert d is not None
        unzipper = _Unzip(typing, policy, tapes, len(d.lparams))
        nonlin, lin, copies, removed, kept = unzipper.funcdef(d)
        raw.append(nonlin)
        raw.append(lin)
        tape_size[g] = tapes[g].size()
        residuals[g] = kept
        if copies:
            names = frozenset(x.name for b in copies for x in b.binders)
            inputs = frozenset(n for b in copies for n in free_vars(b.rhs)[0])
            recomputed_names[g] = names
            recomputed_inputs[g] = inputs - names
            recomputed_work[g] = sum(_own_work(b, unzipper.types) for b in copies)
        else:
            recomputed_names[g] = recomputed_inputs[g] = nothing
            recomputed_work[g] = 0
        eliminated_work[g] = sum(_own_work(b, unzipper.types) for b in removed) if removed else 0
    out = Program(tuple(raw))
    return Unzipped(out, report, nonlin_name(name), lin_name(name))
