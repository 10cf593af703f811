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

from dataclasses import dataclass
from typing import Any

from calculi.core import coverage
from calculi.linear_ad.built import (
    new_binder,
    new_block,
    new_funcdef,
    new_letb,
    new_mixed,
    new_ret,
    new_unpack,
    new_var,
)
from calculi.linear_ad.callees import callees
from calculi.linear_ad.check import Typing, check_open
from calculi.linear_ad.checkpoint import POLICIES, Policy, UnzipReport, recompute_all, save_all, save_only
from calculi.linear_ad.eval import static_work
from calculi.linear_ad.freevars import free_vars
from calculi.linear_ad.liveness import eliminate
from calculi.linear_ad.renumber import renumber
from calculi.linear_ad.rules import fire
from calculi.linear_ad.syntax import (
    Binding,
    Block,
    Expr,
    FuncDef,
    LetB,
    Program,
    Ret,
    Tup,
    Var,
    var_of,
)
from calculi.linear_ad.types import TupleType, Type
from calculi.linear_ad.unzip_names import Lin, _as_ret, lin_name, nonlin_name
from calculi.linear_ad.unzip_rules import Split

__all__ = ["POLICIES", "Policy", "UnzipReport", "Unzipped", "lin_name", "make_tape", "nonlin_name",
           "recompute_all", "save_all", "save_only", "unzip_program"]


Halves = tuple[FuncDef, FuncDef, list[LetB], list[LetB], frozenset[int]]
"""U of one function: its two halves, the bindings the linear half recomputes and those removed
from the non-linear half (in the non-linear half's names), and the residuals (in those names)."""


@dataclass(slots=True)
class Unzipped:
    program: Program
    report: UnzipReport
    nonlin: str
    lin: str


class _Unzip(Split):
    def funcdef(self, d: FuncDef) -> Halves:
        """U of ``d``, its names started afresh (both halves are canonical as written)."""
        sub: dict[int, Expr] = {}
        types: dict[int, Type] = {}
        self.sub, self.types, self.copies = sub, types, {}
        self.table = self.typing.of(d.name)
        lin = self.lin = Lin(len(d.lparams))
        params = []
        n = 0
        for b, ty in zip(d.params, d.param_types, strict=True):
            hint = b.hint
            params.append(b if b.name == n and b.span is None else new_binder(n, hint, None))  # (shared)
            sub[b.name] = new_var(n, hint, None)
            types[n] = ty
            n += 1
        self.next = n
        lparams = lin.params(d.lparams, sub)
        C: list[Binding] = []
        L: list[Binding] = []
        body = d.body
        if type(body) is Block:
            self.bindings(body.bindings, C, L)
            body = body.result
        if type(body) is Ret:  # (U((x̄ ; ẏ̄)), inline: the results, and the linear half's)
            if self.counting:
                fire("U((x̄ ; ẏ̄))")
            vs: list[Any] = [sub[x.name] for x in body.vars]
            lvs: list[Any] = [sub[y.name] for y in body.lvars]
            results: tuple[Var, ...] = tuple(vs)
            eL: Expr = new_ret((), tuple(lvs))
            eN: Expr | None = None
        else:
            eN, eL = self.u(body, C, L)
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
        if eN is not None:
            eN = _as_ret(eN)
            if type(eN) is Ret:
                results = eN.vars
            else:
                ys = tuple([self.fresh("y", ty) for ty in d.result.nonlin])
                C.append(new_letb(ys, (), eN, None))
                results = tuple(map(var_of, ys))
        n = self.next
        self.next = n + 1
        types[n] = tape_type
        tape = tuple(residuals)
        C.append(new_letb((new_binder(n, "t", None),), (), make_tape(tape), None))
        nonlin_result = new_ret((*results, new_var(n, "t", None)), ())
        eliminated: list[LetB] = []
        if copies:  # (with nothing recomputed, nothing in C is removable: no walk)
            originals = {id(b) for b in copies.values()}
            C, _, _ = eliminate(C, nonlin_result, set(), lambda b: id(b) in originals)
            kept_ids = {id(c) for c in C}
            eliminated = [b for b in copies.values() if id(b) not in kept_ids]
        span = d.span
        name = d.name
        # (C ends with the tape's binding and L's result is no block: the blocks need no flattening)
        nonlin = new_funcdef(nonlin_name(name), tuple(params), d.param_types, (), (),
                             new_mixed((*d.result.nonlin, tape_type), ()),
                             new_block(tuple(C), nonlin_result, None), span)
        if canonical:
            i = lin.base
            rbs = []
            for r in tape:
                rbs.append(new_binder(i, r.hint, None))
                i += 1
            if lin.binders_made:
                lin.name_binders(len(tape))
        else:
            rsub = lin.sub
            rbs = [new_binder(rsub[r.name].name, r.hint, None) for r in tape]
        L.insert(0, new_unpack(tuple(rbs), new_var(0, "t", None), None))
        lin_result = new_mixed((), d.result.lin)
        lin_def = new_funcdef(lin_name(name), (new_binder(0, "t", None),), (tape_type,), lparams,
                              d.lparam_types, lin_result, new_block(tuple(L), eL, None), span)
        return (renumber(nonlin) if eliminated else nonlin, lin_def if canonical else renumber(lin_def),
                recomputed, eliminated, frozenset([r.name for r in tape]))




def make_tape(residuals: tuple[Var, ...]) -> Expr:
    """The tape: ``tup(R̄)``."""
    return Tup(residuals)


def _own_work(b: LetB, types: dict[int, Type]) -> int:
    """W of a non-linear binding's right-hand side (calls excluded), typed from its free variables."""
    return static_work(check_open(b.rhs, types), b.rhs, calls=False)


def unzip_program(typing: Typing, name: str, policy: Policy = save_all) -> Unzipped:
    """U of ``name`` and of every function it calls: ``g.nonlin`` and ``g.lin`` for each ``g``."""
    tapes: dict[str, TupleType] = {}
    raw: list[FuncDef] = []
    nothing: frozenset[int] = frozenset()
    gs = callees(typing, name)
    report = UnzipReport(recomputed_work=dict.fromkeys(gs, 0), eliminated_work=dict.fromkeys(gs, 0),
                         recomputed_names=dict.fromkeys(gs, nothing),
                         recomputed_inputs=dict.fromkeys(gs, nothing))
    residuals = report.residuals
    unzipper = _Unzip(typing, policy, tapes, coverage.active())
    funcdef = unzipper.funcdef
    index = typing.program.index
    for g in gs:
        nonlin, lin, copies, removed, kept = funcdef(index[g])
        raw.append(nonlin)
        raw.append(lin)
        residuals[g] = kept
        if copies:  # (what checkpointing did: nothing under save-all; typed in this function's names)
            names = frozenset(x.name for b in copies for x in b.binders)
            inputs = frozenset(n for b in copies for n in free_vars(b.rhs)[0])
            report.recomputed_names[g] = names
            report.recomputed_inputs[g] = inputs - names
            report.recomputed_work[g] = sum(_own_work(b, unzipper.types) for b in copies)
        if removed:
            report.eliminated_work[g] = sum(_own_work(b, unzipper.types) for b in removed)
    report.tape_size.update({g: tapes[g].scalars for g in gs})
    return Unzipped(Program(tuple(raw)), report, nonlin_name(name), lin_name(name))
