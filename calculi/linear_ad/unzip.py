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
and the tape ``t = tup(R̄)`` of residuals R = FV_nl(eL), and ``f.lin(t ; ẏ̄) → (; σ̄)``, which
unpacks the tape and runs eL.

Checkpointing is the free choice in unzipping ``let x̄ = e1N``: *save* it (its value becomes a
residual) or *recompute* it (copy the binding into the linear half, so its free variables
become residuals instead). A ``Policy`` (``checkpoint.py``) decides per binding; copies the
linear half does not need, and non-linear bindings that only fed recomputed ones, are removed
afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from calculi.core import coverage
from calculi.core.errors import TypeCheckError
from calculi.linear_ad.check import Typing, check_open
from calculi.linear_ad.checkpoint import POLICIES, Policy, UnzipReport, recompute_all, save_all, save_only
from calculi.linear_ad.eval import static_work
from calculi.linear_ad.freevars import free_vars
from calculi.linear_ad.liveness import eliminate
from calculi.linear_ad.names import Supply
from calculi.linear_ad.parse_tokens import new_letb, new_prim
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
    lvar_of,
    subexpressions,
    var_of,
)
from calculi.linear_ad.types import Mixed, TupleType, Type

__all__ = ["POLICIES", "Policy", "UnzipReport", "Unzipped", "lin_name", "make_tape", "nonlin_name",
           "recompute_all", "save_all", "save_only", "unzip_program"]

@dataclass(slots=True)
class Unzipped:
    program: Program
    report: UnzipReport
    nonlin: str
    lin: str


LINEAR_NAMES = 1 << 48
"""Where the linear half's own binders are drawn from (``lsupply``), apart from every non-linear name:
the non-linear half, drawn from 0 in the order it is written, comes out canonical as it is."""


def nonlin_name(name: str) -> str:
    return f"{name}.nonlin"


def lin_name(name: str) -> str:
    return f"{name}.lin"


class _Unzip:
    def __init__(self, typing: Typing, policy: Policy, tapes: dict[str, TupleType]) -> None:
        self.typing = typing
        self.policy = policy
        self.tapes = tapes
        self.supply = Supply()
        self.lsupply = Supply()
        self.lsupply.next = LINEAR_NAMES
        self.sub: dict[int, Expr] = {}
        self.types: dict[int, Type] = {}
        self.copies: set[int] = set()
        self.originals: dict[int, LetB] = {}
        self.hints: dict[int, str] = {}
        self.counting = coverage.active()

    def fresh(self, hint: str, ty: Type) -> Binder:
        b = self.supply.binder(hint)
        self.types[b.name] = ty
        self.hints[b.name] = hint
        return b

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
        if kind is Block:
            assert isinstance(e, Block)
            return self.block(e, C, L)
        if kind is Prim:
            assert isinstance(e, Prim)
            return self.prim(e, C, L)
        if isinstance(e, Var):
            return self.var(e), EMPTY
        if isinstance(e, LVar):
            return EMPTY, self.lvar(e)
        if isinstance(e, Lit):
            return e, EMPTY
        if isinstance(e, Zero):
            return EMPTY, e
        if isinstance(e, Ret):
            return Ret(tuple(map(self.var, e.vars)), ()), Ret((), tuple(map(self.lvar, e.lvars)))
        if isinstance(e, Tup):
            return Tup(tuple(map(self.var, e.vars))), EMPTY
        if isinstance(e, TupL):
            return EMPTY, TupL(tuple(map(self.lvar, e.lvars)))
        if isinstance(e, Prim):
            return self.prim(e, C, L)
        if isinstance(e, Dup):
            aN, aL = self.u(e.arg, C, L)
            self.drain(C, aN)
            return EMPTY, Dup(aL)
        if isinstance(e, Drop):
            nl, ln = free_vars(e.arg)
            xs = tuple(self.var(Var(n)) for n in sorted(nl))
            ys = tuple(self.lvar(LVar(n)) for n in sorted(ln))
            return (Drop(Ret(xs, ())) if xs else EMPTY), (Drop(Ret((), ys)) if ys else EMPTY)
        if isinstance(e, Call):
            return self.call(e, C)
        if isinstance(e, Block):
            return self.block(e, C, L)
        raise TypeCheckError(f"unzip has no rule for {type(e).__name__}", e.span, rule="Unzip")

    def prim(self, e: Prim, C: list[Binding], L: list[Binding]) -> tuple[Expr, Expr]:
        if self.counting:
            fire_prim("U", e.prim)
        args = []
        for a in e.args:
            if type(a) is Var:
                args.append(self.sub[a.name])  # (U(x) = (x, ()), inline)
                if self.counting:
                    fire("U(x)")
                continue
            aN, aL = self.u(a, C, L)
            self.drain(L, aL)
            args.append(aN)
        largs = []
        for a in e.largs:
            aN, aL = self.u(a, C, L)
            self.drain(C, aN)
            largs.append(aL)
        if e.prim.linear:
            return EMPTY, new_prim(e.prim, tuple(args), tuple(largs), e.params, e.span)
        return new_prim(e.prim, tuple(args), (), e.params, e.span), EMPTY

    def call(self, e: Call, C: list[Binding]) -> tuple[Expr, Expr]:
        d = self.typing.signatures[e.func]
        tape = self.tapes[e.func]
        ys = tuple(self.fresh("y", ty) for ty in d.result.nonlin)
        t = self.fresh("t", tape)
        C.append(LetB((*ys, t), (), Call(nonlin_name(e.func), tuple(map(self.var, e.args)), ())))
        return Ret(tuple(map(var_of, ys)), ()), Call(lin_name(e.func), (var_of(t),),
                                                     tuple(map(self.lvar, e.largs)))

    def block(self, e: Block, C: list[Binding], L: list[Binding]) -> tuple[Expr, Expr]:
        for b in e.bindings:
            if isinstance(b, LetB):
                if self.counting:
                    fire("U(let)")
                eN, eL = self.u(b.rhs, C, L)
                eN, eL = _as_ret(eN), _as_ret(eL)
                if b.binders and isinstance(eN, Ret):
                    for x, v in zip(b.binders, eN.vars, strict=True):
                        self.sub[x.name] = v
                elif b.binders:
                    nonlin_types = self.typing.binding_types[id(b)][0]
                    xs = tuple(self.fresh(x.hint, ty) for x, ty in zip(b.binders, nonlin_types, strict=True))
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
                        copy = LetB(xs, (), eN)
                        self.copies.add(id(copy))
                        self.originals[id(copy)] = binding
                        L.append(copy)
                else:
                    self.drain(C, eN)
                if b.lbinders and isinstance(eL, Ret):
                    for y, lv in zip(b.lbinders, eL.lvars, strict=True):
                        self.sub[y.name] = lv
                elif b.lbinders:
                    ys = tuple(self.lsupply.binder(y.hint) for y in b.lbinders)
                    for y, ny in zip(b.lbinders, ys, strict=True):
                        self.sub[y.name] = lvar_of(ny)
                    L.append(new_letb((), ys, eL, None))
                else:
                    self.drain(L, eL)
            elif isinstance(b, UnpackB):
                if self.counting:
                    fire("U(unpack)")
                types = self.typing.binding_types[id(b)][0]
                xs = tuple(self.fresh(x.hint, ty) for x, ty in zip(b.binders, types, strict=True))
                C.append(UnpackB(xs, self.var(b.var)))
                for x, nx in zip(b.binders, xs, strict=True):
                    self.sub[x.name] = var_of(nx)
            elif isinstance(b, UnpackLB):
                if self.counting:
                    fire("U(unpackL)")
                ys = tuple(self.lsupply.binder(y.hint) for y in b.lbinders)
                L.append(UnpackLB(ys, self.lvar(b.var)))
                for y, ny in zip(b.lbinders, ys, strict=True):
                    self.sub[y.name] = lvar_of(ny)
        return self.u(e.result, C, L)

    def funcdef(self, d: FuncDef) -> tuple[FuncDef, FuncDef, list[LetB], list[LetB]]:
        params = tuple(self.fresh(b.hint, ty) for b, ty in zip(d.params, d.param_types, strict=True))
        lparams = tuple(self.lsupply.binder(b.hint) for b in d.lparams)
        for b, nb in zip(d.params, params, strict=True):
            self.sub[b.name] = var_of(nb)
        for b, nb in zip(d.lparams, lparams, strict=True):
            self.sub[b.name] = lvar_of(nb)
        C: list[Binding] = []
        L: list[Binding] = []
        eN, eL = self.u(d.body, C, L)
        eN = _as_ret(eN)
        L, kept, live = eliminate(L, eL, set(), lambda b: id(b) in self.copies)
        recomputed = [b for b in kept if id(b) in self.copies]
        residual_names = sorted(live)
        residual_types = tuple(self.types[n] for n in residual_names)
        tape_type = TupleType(residual_types)
        self.tapes[d.name] = tape_type
        if isinstance(eN, Ret):
            results = eN.vars
        else:
            ys = tuple(self.fresh("y", ty) for ty in d.result.nonlin)
            C.append(LetB(ys, (), eN))
            results = tuple(map(var_of, ys))
        t = self.fresh("t", tape_type)
        residuals = tuple(Var(n, self.supply_hint(n)) for n in residual_names)
        C.append(LetB((t,), (), make_tape(residuals)))
        nonlin_result = Ret((*results, var_of(t)), ())
        eliminated: list[LetB] = []
        if self.originals:  # (with nothing recomputed, nothing in C is removable: no walk)
            originals = {id(b) for b in self.originals.values()}
            C, _, _ = eliminate(C, nonlin_result, set(), lambda b: id(b) in originals)
            kept_ids = {id(c) for c in C}
            eliminated = [b for b in self.originals.values() if id(b) not in kept_ids]
        nonlin = FuncDef(nonlin_name(d.name), params, d.param_types, (), (),
                         Mixed((*d.result.nonlin, tape_type), ()), block(C, nonlin_result), span=d.span)
        tb = self.lsupply.binder("t")
        rbs = tuple(Binder(n, self.supply_hint(n)) for n in residual_names)
        lin = FuncDef(lin_name(d.name), (tb,), (tape_type,), lparams, d.lparam_types,
                      Mixed((), d.result.lin), block([UnpackB(rbs, var_of(tb)), *L], eL), span=d.span)
        return nonlin, lin, recomputed, eliminated

    def supply_hint(self, n: int) -> str:
        return self.hints.get(n, "r")


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
    copies: dict[str, list[LetB]] = {}
    removed: dict[str, list[LetB]] = {}
    types: dict[str, dict[int, Type]] = {}
    report = UnzipReport()
    for g in callees(typing, name):
        d = program.get(g)
        assert d is not None
        unzipper = _Unzip(typing, policy, tapes)
        nonlin, lin, recomputed, eliminated = unzipper.funcdef(d)
        types[g] = unzipper.types
        raw.extend((nonlin, lin))
        copies[g] = recomputed
        removed[g] = eliminated
        report.tape_size[g] = tapes[g].size()
        first = lin.body.bindings[0] if isinstance(lin.body, Block) else None
        assert isinstance(first, UnpackB)
        report.residuals[g] = frozenset(b.name for b in first.binders)
        names = frozenset(x.name for b in recomputed for x in b.binders)
        report.recomputed_names[g] = names
        report.recomputed_inputs[g] = frozenset(n for b in recomputed for n in free_vars(b.rhs)[0]) - names
    for g in copies:
        report.recomputed_work[g] = sum(_own_work(b, types[g]) for b in copies[g])
        report.eliminated_work[g] = sum(_own_work(b, types[g]) for b in removed[g])
    out = Program(tuple(renumber(d) for d in raw))
    return Unzipped(out, report, nonlin_name(name), lin_name(name))
