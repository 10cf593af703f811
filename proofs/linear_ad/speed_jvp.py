"""Linear A's fast paths in the jvp stage: theorems against their oracles, and their mutants.

J reads the free names of variables, calls and primitives on variables off the term, writes a call
whose arguments are distinct in one step, takes the tangents of a name used for the last time
without a dup table, and hands a block's result its tangents whole. The oracle is J without these
steps (``Reference``): every item's free names from ``free_vars``, every split through ``_take``,
every right-hand side through ``expr`` and ``spliced``."""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

from calculi.core import coverage
from calculi.core.errors import CalculusError
from calculi.core.mutants import Mutant, patch, patch_source
from calculi.core.syntax import Source, Span
from calculi.linear_ad import jvp as jvp_module
from calculi.linear_ad.bench import sized
from calculi.linear_ad.built import draws, new_funcdef, new_mixed
from calculi.linear_ad.callees import callees
from calculi.linear_ad.check import Typing, check_program, type_in
from calculi.linear_ad.freevars import free_vars
from calculi.linear_ad.jvp import _Jvp, jvp_name
from calculi.linear_ad.jvp_sharing import Names, Tangents
from calculi.linear_ad.names import dotted
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.pretty import show_program
from calculi.linear_ad.primitives import params_dict, place
from calculi.linear_ad.rules import fire, fire_prim
from calculi.linear_ad.strategies import show
from calculi.linear_ad.syntax import (
    Binder,
    Binding,
    Block,
    Call,
    Expr,
    FuncDef,
    LetB,
    LVar,
    Prim,
    Program,
    UnpackB,
    UnpackLB,
    Var,
    block,
    lvar_of,
    var_of,
)
from proofs.linear_ad.fixtures import NONLIN, YOLO
from proofs.linear_ad.syntax import spans
from proofs.registry import register_mutants, theorem


class Reference(_Jvp):
    """J as the rules read, with none of the fast paths: the oracle of ``_Jvp``."""

    def fv(self, e: Expr) -> Names:
        return tuple(sorted(free_vars(e, self.fv_cache)[0]))

    def prim(self, e: Prim, tangents: Tangents, out: list[Binding]) -> tuple[Var, Any]:
        p = e.prim
        if p.linear or e.largs:
            return super().prim(e, tangents, out)  # (its error)
        rule = self.rules.get(id(p))
        if rule is None:
            rule = self.rule_of(e)
        if self.counting:
            fire_prim("J", p)
        primals, tans = self.operands(e.args, tangents, out)
        types = tuple([type_in(self.expr_types, a).nonlin[0] for a in e.args])
        pe, te = rule(primals, tans, types, params_dict(e.params))
        if e.span is not None:
            place(pe, e.span)
            place(te, e.span)
        if self.bind_scales:
            te = self.bound_scales(te, out)
        return self.bind(out, pe, te, "y")

    def block(self, e: Block, tangents: Tangents) -> Expr:
        for b in e.bindings:
            if isinstance(b, UnpackLB):
                return super().block(e, tangents)  # (its error)
        items: list[Expr] = [b.rhs if isinstance(b, LetB) else b.var for b in e.bindings
                             if isinstance(b, LetB | UnpackB)]
        items.append(e.result)
        out: list[Binding] = []
        fvs = [self.fv(i) for i in items]
        count: dict[int, int] = {}
        for fv in fvs:
            for n in fv:
                count[n] = count.get(n, 0) + 1
        sub = self.sub
        for idx, b in enumerate(e.bindings):
            part = self._take(fvs[idx], count, tangents, out)
            if self.counting:
                fire("J(let)" if isinstance(b, LetB) else "J(unpack)")
            if isinstance(b, LetB):
                if b.lbinders:
                    return super().block(e, tangents)  # (its error)
                hints = tuple(x.hint for x in b.binders)
                start = self.supply.next
                vs, dvs = self.spliced(out, self.expr(b.rhs, part), hints, tuple(map(dotted, hints)), start)
                for x, v, dv in zip(b.binders, vs, dvs, strict=True):
                    sub[x.name] = v
                    tangents[x.name] = dv
            else:
                assert isinstance(b, UnpackB)
                xs = draws(self.supply, tuple(x.hint for x in b.binders))
                ts = draws(self.supply, tuple(dotted(x.hint) for x in b.binders))
                out.append(UnpackB(xs, sub[b.var.name]))
                out.append(UnpackLB(ts, part[b.var.name]))
                for x, nb, tb in zip(b.binders, xs, ts, strict=True):
                    sub[x.name] = var_of(nb)
                    tangents[x.name] = lvar_of(tb)
        part = self._take(fvs[-1], count, tangents, out)
        return block(out, self.expr(e.result, part))

    def funcdef(self, d: FuncDef) -> FuncDef:
        if d.lparams or d.result.lin:
            return super().funcdef(d)  # (its error)
        self.supply.next = self.supply.start
        self.expr_types = self.typing.of(d.name).exprs
        self.sub = {}
        tangents: Tangents = {}
        params = draws(self.supply, tuple(b.hint for b in d.params))
        lparams = draws(self.supply, tuple(dotted(b.hint) for b in d.params))
        for b, nb, tb in zip(d.params, params, lparams, strict=True):
            self.sub[b.name] = var_of(nb)
            tangents[b.name] = lvar_of(tb)
        body = self.expr(d.body, tangents)
        result = new_mixed(d.result.nonlin, tuple([t.tangent() for t in d.result.nonlin]))
        return new_funcdef(jvp_name(d.name), params, d.param_types, lparams,
                           tuple([t.tangent() for t in d.param_types]), result, body, d.span)


def reference_program(typing: Typing, name: str, bind_scales: bool = False) -> Program:
    """``jvp_program`` with the reference J."""
    j = Reference(typing, bind_scales)
    defs = []
    for g in callees(typing, name):
        d = typing.program.get(g)
        assert d is not None
        defs.append(j.funcdef(d))
    return Program(tuple(defs))


def hints(node: object) -> list[str]:
    """Every binder's and variable's hint, in order (AST equality and the printer's dots ignore them)."""
    out: list[str] = []
    stack: list[object] = [node]
    while stack:
        x = stack.pop()
        if isinstance(x, tuple):
            stack.extend(reversed(x))
        elif dataclasses.is_dataclass(x) and not isinstance(x, Span):
            if isinstance(x, Binder | Var | LVar):
                out.append(x.hint)
            stack.extend(getattr(x, f.name) for f in reversed(dataclasses.fields(x)) if f.name != "span")
    return out


def _recorded(j: Any, typing: Typing, name: str,
              bind_scales: bool) -> tuple[Program | str, Counter[tuple[str, str]]]:
    """J of ``name`` (or its error) and the rules it fired."""
    with coverage.recording() as counts:
        try:
            program: Program | str = j(typing, name, bind_scales)
        except CalculusError as err:
            program = err.render()
    return program, Counter(counts)


@theorem("linear_ad.jvp.fast_agrees", paper=YOLO, section="§2 (the passes' output)", label="derived",
         statement="J with its fast paths (free names read off the term, calls written in one step, last "
                   "uses taken without a dup table) writes what the reference J writes: the same program, "
                   "text, hints, spans and rule firings, for every function, scales inline and let-bound",
         given=NONLIN, show=show)
def _(program: Program) -> None:
    # with the benchmark's families of small functions and calls, at a size the example picks
    size = 2 + len(program.defs)
    for p in (program, *(sized(family, size) for family in ("helpers", "call-chain", "calls"))):
        agrees(p)
        agrees(parse_program(Source(show_program(p))))


def agrees(program: Program) -> None:
    """J of each function of ``program`` is the reference J of it, in every respect."""
    typing = check_program(program)
    for d in program.defs:
        for bind_scales in (False, True):
            fast, fired = _recorded(jvp_module.jvp_program, typing, d.name, bind_scales)
            slow, expected = _recorded(reference_program, typing, d.name, bind_scales)
            assert fast == slow, f"J({d.name}) differs from the reference"
            if isinstance(fast, str) or isinstance(slow, str):
                continue
            assert show_program(fast) == show_program(slow), f"J({d.name}) prints differently"
            assert hints(fast) == hints(slow), f"J({d.name})'s hints differ"
            assert spans(fast) == spans(slow), f"J({d.name})'s spans differ"
            assert fired == expected, f"J({d.name}) fires {fired - expected} / {expected - fired}"


def _fv_unsorted(self: _Jvp, e: Expr) -> Names:
    """J's free names of a call or a primitive on variables, in the order written (not sorted)."""
    if isinstance(e, Call) or (isinstance(e, Prim) and all(isinstance(a, Var) for a in e.args)):
        return tuple(dict.fromkeys(a.name for a in (e.args)))  # type: ignore[attr-defined]
    return _FV(self, e)


def _fv_call_repeats(self: _Jvp, e: Expr) -> Names:
    """J's free names of a call list a repeated argument twice."""
    if isinstance(e, Call):
        return tuple(sorted(a.name for a in e.args))
    return _FV(self, e)


def _call_hint_undotted(self: _Jvp, e: Call, x: Binder, part: Tangents, tangents: Tangents,
                        out: list[Binding]) -> None:
    """J's one-step call names the tangent of its result ``x`` ``x``, not ``dx``."""
    _CALL(self, e, x, part, tangents, out)
    let = out[-1]
    assert isinstance(let, LetB)
    out[-1] = LetB(let.binders, tuple(Binder(b.name, b.hint[1:]) for b in let.lbinders), let.rhs)


_FV, _CALL = _Jvp.fv, _Jvp.call


_PAIR_SWAPPED = ("tans = (tangents[a.name], tangents[b.name])", "tans = (tangents[b.name], tangents[a.name])")
_LAST_USE_EARLY = ("count[names[0]] == 1:", "count[names[0]] <= 2:")


register_mutants([
    Mutant("linear_ad.jvp_fv_unsorted", "linear_ad",
           "J reads the free names of a call or a primitive on variables in the order written, unsorted",
           lambda: patch(_Jvp, "fv", _fv_unsorted), theorems="linear_ad.jvp"),
    Mutant("linear_ad.jvp_fv_call_repeats", "linear_ad",
           "J's free names of a call list a repeated argument twice (a dup too many)",
           lambda: patch(_Jvp, "fv", _fv_call_repeats), theorems="linear_ad.jvp"),
    Mutant("linear_ad.jvp_pair_swapped", "linear_ad",
           "J's primitive on two distinct variables hands each the other's tangent",
           lambda: patch_source(_Jvp, "prim", *_PAIR_SWAPPED), theorems="linear_ad.jvp"),
    Mutant("linear_ad.jvp_last_use_early", "linear_ad",
           "J's block takes a lone name's tangent without a dup when one later item uses it too",
           lambda: patch_source(_Jvp, "block", *_LAST_USE_EARLY), theorems="linear_ad.jvp"),
    Mutant("linear_ad.jvp_call_hint_undotted", "linear_ad",
           "J's one-step call names the tangent of its result x as x, not dx",
           lambda: patch(_Jvp, "call", _call_hint_undotted), theorems="linear_ad.jvp"),
])
