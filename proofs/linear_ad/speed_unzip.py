"""Linear A's fast paths in the unzip stage: theorems against their oracles, and their mutants.

U splits the right-hand sides J writes most (a primitive, a call, a ``dup`` of a linear variable) in
place, writes a scale ``q(x̄)`` of variables once, in the linear half's names, and asks no policy
under save-all. The oracle is U without these steps (``Reference``): every right-hand side through
``u``, every scale written in the non-linear half's names and then copied, every binding put to the
policy."""

from __future__ import annotations

from collections import Counter
from typing import Any

from calculi.core import coverage
from calculi.core.mutants import Mutant, patch
from calculi.linear_ad import unzip as unzip_module
from calculi.linear_ad import unzip_rules
from calculi.linear_ad.ad import jvp
from calculi.linear_ad.check import Typing, type_in
from calculi.linear_ad.checkpoint import Policy
from calculi.linear_ad.jvp import jvp_name
from calculi.linear_ad.pretty import show_program
from calculi.linear_ad.rules import fire, fire_prim
from calculi.linear_ad.strategies import show
from calculi.linear_ad.syntax import (
    EMPTY,
    Binder,
    Binding,
    Call,
    Expr,
    LetB,
    LVar,
    Prim,
    Program,
    Ret,
    Var,
    var_of,
)
from calculi.linear_ad.unzip import POLICIES, unzip_program
from calculi.linear_ad.unzip_names import Lin, _as_ret, _contains_call, lin_name, nonlin_name
from calculi.linear_ad.unzip_rules import Split
from proofs.linear_ad.fixtures import NONLIN, YOLO, main_of
from proofs.linear_ad.syntax import spans
from proofs.registry import register_mutants, theorem


class Reference(unzip_module._Unzip):
    """U as the rules read, with none of the fast paths: the oracle of ``Split``."""

    def bindings(self, bs: tuple[Binding, ...], C: list[Binding], L: list[Binding]) -> None:
        sub = self.sub
        for b in bs:
            if isinstance(b, LetB):
                if self.counting:
                    fire("U(let)")
                eN, eL = self.u(b.rhs, C, L)
                if b.binders:
                    if isinstance(eN, Var):
                        (x,) = b.binders
                        sub[x.name] = eN
                    elif isinstance(eN, Ret):
                        for x, v in zip(b.binders, eN.vars, strict=True):
                            sub[x.name] = v
                    else:
                        self.let(b, eN, C, L)
                elif eN is not EMPTY:
                    self.drain(C, _as_ret(eN))
                if b.lbinders:
                    if isinstance(eL, LVar):
                        (y,) = b.lbinders
                        sub[y.name] = eL
                    elif isinstance(eL, Ret):
                        for y, lv in zip(b.lbinders, eL.lvars, strict=True):
                            sub[y.name] = lv
                    else:
                        L.append(LetB((), self.lin.binders(b.lbinders, sub), eL))
                elif eL is not EMPTY:
                    self.drain(L, _as_ret(eL))
            else:
                super().bindings((b,), C, L)

    def prim(self, e: Prim, C: list[Binding], L: list[Binding]) -> tuple[Expr, Expr]:
        if self.counting:
            fire_prim("U", e.prim)
        args = []
        for a in e.args:
            aN, aL = self.u(a, C, L)
            if aL is not EMPTY:
                self.drain(L, aL)
            args.append(aN)
        largs = []
        for a in e.largs:
            aN, aL = self.u(a, C, L)
            if aN is not EMPTY:
                self.drain(C, aN)
            largs.append(aL)
        if e.prim.linear:
            scales = tuple([self.lin.var(a) if isinstance(a, Var) else self.lin.expr(a) for a in args])
            return EMPTY, Prim(e.prim, scales, tuple(largs), e.params, span=e.span)
        return Prim(e.prim, tuple(args), (), e.params, span=e.span), EMPTY

    def call(self, e: Call, C: list[Binding], L: list[Binding]) -> tuple[Expr, Expr]:
        ys = tuple([self.fresh("y", ty) for ty in self.typing.signatures[e.func].result.nonlin])
        t = self.fresh("t", self.tapes[e.func])
        C.append(LetB((*ys, t), (), Call(nonlin_name(e.func), tuple(map(self.var, e.args)), ())))
        return Ret(tuple(map(var_of, ys)), ()), Call(lin_name(e.func), (self.lin.var(var_of(t)),),
                                                     tuple(map(self.lvar, e.largs)))

    def let(self, b: LetB, eN: Expr, C: list[Binding], L: list[Binding]) -> None:
        types = type_in(self.table.exprs, b.rhs).nonlin
        xs = tuple(self.fresh(x.hint, ty) for x, ty in zip(b.binders, types, strict=True))
        for x, nx in zip(b.binders, xs, strict=True):
            self.sub[x.name] = var_of(nx)
        binding = LetB(xs, (), eN)
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


RULES = {**unzip_rules.RULES, Call: Reference.call}


def _recorded(typing: Typing, name: str, policy: Policy,
              reference: bool) -> tuple[Any, Counter[tuple[str, str]]]:
    """U of ``name`` (the program and its report) and the rules it fired."""
    with coverage.recording() as counts:
        if reference:
            with patch(unzip_module, "_Unzip", Reference), patch(unzip_rules, "RULES", RULES):
                u = unzip_program(typing, name, policy)
        else:
            u = unzip_program(typing, name, policy)
    return u, Counter(counts)


@theorem("linear_ad.unzip.fast_agrees", paper=YOLO, section="§2 (the passes' output)", label="derived",
         statement="U with its fast paths (primitives, calls and dups split in place, scales of variables "
                   "written once in the linear half's names, no policy asked under save-all) writes what "
                   "the reference U writes: the same halves, printed hints, spans, report and rule "
                   "firings, under every policy, on J with scales inline and let-bound",
         given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    for bind_scales in (False, True):
        j = jvp(typing, name, bind_scales)
        for label, policy in POLICIES.items():
            fast, fired = _recorded(j, jvp_name(name), policy, False)
            slow, expected = _recorded(j, jvp_name(name), policy, True)
            assert fast.program == slow.program, f"{label}: U differs from the reference"
            assert show_program(fast.program) == show_program(slow.program), f"{label}: U's hints differ"
            assert spans(fast.program) == spans(slow.program), f"{label}: U's spans differ"
            assert fast.report == slow.report, f"{label}: U's report differs"
            assert fired == expected, f"{label}: U fires {fired - expected} / {expected - fired}"


_INIT = Split.__init__


def _saving_always(self: Split, *args: Any) -> None:
    """U asks no policy whatever the policy: it saves every binding."""
    _INIT(self, *args)
    self.saving = True


def _scale_unread(q: Prim, sub: dict[int, Expr], lin: Lin) -> Prim:
    """U writes a scale ``q(x̄)`` of variables in the non-linear half's names: x̄ never reach the tape."""
    return Prim(q.prim, tuple([sub[x.name] for x in q.args]), (), q.params, span=q.span)  # type: ignore[attr-defined]


def _params_shared_always(self: Lin, lparams: tuple[Binder, ...], sub: dict[int, Expr]) -> tuple[Binder, ...]:
    """U keeps the source's linear parameters as they are, named or not as the linear half names them."""
    for i, b in enumerate(lparams, 1):
        sub[b.name] = LVar(i, b.hint)
    return lparams


register_mutants([
    Mutant("linear_ad.unzip_saving_always", "linear_ad",
           "U skips the policy under every policy, not only save-all (nothing is recomputed)",
           lambda: patch(Split, "__init__", _saving_always), theorems="linear_ad.unzip.fast"),
    Mutant("linear_ad.unzip_scale_unread", "linear_ad",
           "U writes a scale q(x̄) of variables in the non-linear half's names (x̄ are not made residuals)",
           lambda: patch(unzip_rules, "_scale", _scale_unread), theorems="linear_ad.unzip.fast"),
    Mutant("linear_ad.unzip_params_shared_always", "linear_ad",
           "U reuses the source's linear parameter binders even where their names are not 1 … m",
           lambda: patch(Lin, "params", _params_shared_always), theorems="linear_ad.unzip"),
])
