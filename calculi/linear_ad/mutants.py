"""Seeded bugs in Linear A's rule tables and passes; each must be killed by a theorem."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from calculi.core.mutants import Mutant, patch, patch_entry
from calculi.core.syntax import Span
from calculi.linear_ad import jvp as jvp_module
from calculi.linear_ad import transpose as transpose_module
from calculi.linear_ad import unzip as unzip_module
from calculi.linear_ad import zeros as zeros_module
from calculi.linear_ad.jvp_sharing import Sharing
from calculi.linear_ad.primitives import ADD, COS, LADD, MUL, SCALE, SIN, TANH, jvp_rules, transpose_rules
from calculi.linear_ad.syntax import (
    Binder,
    Binding,
    Block,
    Call,
    Drop,
    Expr,
    FuncDef,
    LetB,
    Lit,
    LVar,
    Prim,
    Ret,
    Tup,
    UnpackB,
    Var,
    Zero,
    block,
    lvar_of,
)
from calculi.linear_ad.types import Type


def _ladd_not_dup(consts: tuple[Expr, ...], ct: LVar, ltypes: tuple[Type, ...], ps: dict[str, Any]) -> Expr:
    """T(ė1 ⊕ ė2, c) gives c to ė1 and 0 to ė2 (well-typed, wrong)."""
    z = Binder(10**6, "dz")
    return block([LetB((), (z,), Zero(ltypes[1]))], Ret((), (ct, lvar_of(z))))


def _cos_sign(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...],
              ps: dict[str, Any]) -> tuple[Expr, Expr]:
    """J(cos v) = (cos v ; sin v ⊙ v̇): the sign of the derivative flipped."""
    return Prim(COS, xs), Prim(SCALE, (Prim(SIN, xs),), ts)


def _tanh_plus(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...],
               ps: dict[str, Any]) -> tuple[Expr, Expr]:
    """J(tanh v) = (tanh v ; (1 + tanh² v) ⊙ v̇): the sign inside tanh' flipped."""
    square = Prim(MUL, (Prim(TANH, xs), Prim(TANH, xs)))
    return Prim(TANH, xs), Prim(SCALE, (Prim(ADD, (Lit("1.0"), square)),), ts)


def _tanh_mutant() -> AbstractContextManager[None]:
    return patch_entry(jvp_rules, TANH, _tanh_plus)


def _ladd_mutant() -> AbstractContextManager[None]:
    return patch_entry(transpose_rules, LADD, _ladd_not_dup)


def _cos_mutant() -> AbstractContextManager[None]:
    return patch_entry(jvp_rules, COS, _cos_sign)


def _tape_without_first(residuals: tuple[Var, ...]) -> Expr:
    """The tape loses its first residual; the second takes its slot."""
    if len(residuals) >= 2:
        return Tup((residuals[1], *residuals[1:]))
    return Tup(residuals)


def _unzip_mutant() -> AbstractContextManager[None]:
    return patch(unzip_module, "make_tape", _tape_without_first)


def _drop_transposing_argument(self: transpose_module._Transpose, e: Expr, cts: list[LVar]) -> None:
    """T(drop e) = T(e, 0̄): e transposed against zero cotangents (no short circuit)."""
    assert isinstance(e, Drop)
    t = self.typing.type_of(e.arg)
    if t.nonlin:
        transpose_module._Transpose.drop(self, e, cts)
        return
    zeros = self.supply.binders(tuple("c" for _ in t.lin))
    for z, ty in zip(zeros, t.lin, strict=True):
        self.emit(LetB((), (z,), Zero(ty)))
    self.t(e.arg, [lvar_of(z) for z in zeros])


def _transpose_drop_mutant() -> AbstractContextManager[None]:
    return patch_entry(transpose_module.RULES, Drop, _drop_transposing_argument)


def _call_cotangents_reversed(self: transpose_module._Transpose, e: Expr, cts: list[LVar]) -> None:
    """T(g(x̄ ; ẏ̄), c̄) = let (; c̄') = g.T(x̄ ; c̄) with ẏi ↦ c'_{n+1-i}: the cotangents of the
    arguments matched in reverse order."""
    assert isinstance(e, Call)
    d = self.typing.signatures[e.func]
    outs = self.supply.binders(tuple("c" for _ in d.lparams))
    self.emit(LetB((), outs, Call(transpose_module.transpose_name(e.func),
                                  tuple(self.sub[v.name] for v in e.args), tuple(cts))))
    for v, o in zip(e.largs, reversed(outs), strict=True):
        self.ct[v.name] = lvar_of(o)


def _transpose_call_mutant() -> AbstractContextManager[None]:
    return patch_entry(transpose_module.RULES, Call, _call_cotangents_reversed)


def _take_undup(self: Sharing, fv: tuple[int, ...], count: Any, tangents: Any, out: Any) -> Any:
    """J gives a shared variable's tangent to every use, without dup."""
    part = {}
    for v in sorted(fv):
        count[v] -= 1
        part[v] = tangents[v] if count[v] > 0 else tangents.pop(v)
    return part


def _no_dup() -> AbstractContextManager[None]:
    return patch(Sharing, "_take", _take_undup)


def _zero_absorbs_sum(self: zeros_module._Zeros, e: Prim, zeros: dict[int, Type],
                      out: list[Binding]) -> tuple[Expr, zeros_module.Mask]:
    """Z(ė ⊕ 0) → 0, as if a zero summand absorbed the sum like a zero scale (ė dropped: well-typed)."""
    if e.prim is not LADD:
        return zeros_module._Zeros.prim(self, e, zeros, out)
    parts = [self.expr(a, zeros, out) for a in e.largs]
    if all(m is None for _, (m,) in parts):
        return Prim(LADD, (), tuple(a for a, _ in parts)), (None,)
    for a, (m,) in parts:
        if m is None:
            out.append(LetB((), (), Drop(a)))
        else:
            self.effect(a, out)
    return Ret((), ()), (self.typing.type_of(e).lin[0],)


def _jvp_keeps_nested_names(self: jvp_module._Jvp, out: list[Binding], e: Expr, hints: tuple[str, ...],
                            lhints: tuple[str, ...], start: int) -> tuple[tuple[Var, ...], tuple[LVar, ...]]:
    """J binds the result of a block left nested in a right-hand side past the block's own names,
    as if they were still in scope (well-typed, distinct names, not canonical)."""
    return _JVP_SPLICED(self, out, e, hints, lhints, self.supply.next)


_JVP_SPLICED = jvp_module._Jvp.spliced


def _transpose_keeps_nested_names(self: transpose_module._Transpose, e: Expr) -> Expr:
    """T's forward copy of a nested block keeps its names drawn: the binders after it skip them."""
    copied = _T_COPY(self, e)
    if isinstance(copied, Block):
        self.supply.next += sum(len(b.binders) for b in copied.bindings if isinstance(b, LetB | UnpackB))
    return copied


_T_COPY = transpose_module._Transpose.copy


def _place_shallow(e: Expr, span: Span) -> None:
    """J places only the outermost node a rule built: the applications nested in it have no span."""
    if e.span is None and not isinstance(e, Var | LVar | Lit | Zero):
        object.__setattr__(e, "span", span)


def _jvp_names_run_on(self: jvp_module._Jvp, d: FuncDef) -> FuncDef:
    """J's names run on from one function to the next (distinct, well-typed, not canonical)."""
    self.supply.start = self.supply.next
    return _JVP_FUNCDEF(self, d)


_JVP_FUNCDEF = jvp_module._Jvp.funcdef


def _transpose_names_run_on(self: transpose_module._Transpose, d: FuncDef) -> FuncDef:
    """T's names run on from one function to the next (distinct, well-typed, not canonical)."""
    self.supply.start = self.supply.next
    return _T_FUNCDEF(self, d)


_T_FUNCDEF = transpose_module._Transpose.funcdef


MUTANTS = [
    Mutant("linear_ad.transpose_add_not_dup", "linear_ad", "T(⊕) is not a dup: the second summand gets 0",
           _ladd_mutant),
    Mutant("linear_ad.jvp_cos_sign", "linear_ad", "the sign of J(cos) is flipped", _cos_mutant),
    Mutant("linear_ad.jvp_tanh_plus", "linear_ad", "J(tanh) uses 1 + tanh² for 1 − tanh²", _tanh_mutant),
    Mutant("linear_ad.unzip_drops_residual", "linear_ad", "unzip drops a residual from the tape",
           _unzip_mutant),
    Mutant("linear_ad.transpose_drop_wrong", "linear_ad",
           "T(drop e) transposes e against zero cotangents instead of short-circuiting",
           _transpose_drop_mutant),
    Mutant("linear_ad.jvp_forgets_dup", "linear_ad", "J forgets the dup for a shared variable", _no_dup),
    Mutant("linear_ad.zeros_absorb_sum", "linear_ad", "symbolic zeros: ė ⊕ 0 → 0 instead of ė",
           lambda: patch(zeros_module._Zeros, "prim", _zero_absorbs_sum)),
    Mutant("linear_ad.transpose_call_reversed", "linear_ad",
           "T(g(x̄ ; ẏ̄)) matches the cotangents g.T returns to ẏ̄ in reverse order",
           _transpose_call_mutant),
    Mutant("linear_ad.jvp_nested_names", "linear_ad",
           "J names the binders after a nested block past the block's own names (not canonical)",
           lambda: patch(jvp_module._Jvp, "spliced", _jvp_keeps_nested_names), theorems="linear_ad.jvp"),
    Mutant("linear_ad.transpose_nested_names", "linear_ad",
           "T names the binders after a copied nested block past the block's own names (not canonical)",
           lambda: patch(transpose_module._Transpose, "copy", _transpose_keeps_nested_names),
           theorems="linear_ad.transpose"),
    Mutant("linear_ad.jvp_place_shallow", "linear_ad",
           "J places only the outermost node a rule built at the source operation, not those nested in it",
           lambda: patch(jvp_module, "place", _place_shallow), theorems="linear_ad.jvp"),
    Mutant("linear_ad.jvp_names_run_on", "linear_ad",
           "J's names run on from one function to the next instead of starting afresh (not canonical)",
           lambda: patch(jvp_module._Jvp, "funcdef", _jvp_names_run_on), theorems="linear_ad.jvp"),
    Mutant("linear_ad.transpose_names_run_on", "linear_ad",
           "T's names run on from one function to the next instead of starting afresh (not canonical)",
           lambda: patch(transpose_module._Transpose, "funcdef", _transpose_names_run_on),
           theorems="linear_ad.transpose"),
]

from calculi.linear_ad.unzip_names import Lin  # noqa: E402 (read only by the mutants below)


class _OneRule(dict[int, Any]):
    """A pass's table of rules by primitive that answers every primitive with the one rule it holds."""

    def __init__(self, rule: Any) -> None:
        super().__init__()
        self.rule = rule

    def get(self, key: int, default: Any = None) -> Any:
        return self.rule


def _jvp_one_rule(self: jvp_module._Jvp, e: Prim) -> Any:
    """J remembers the first primitive's rule as the rule of every primitive."""
    rule = _JVP_RULE_OF(self, e)
    self.rules = _OneRule(rule)
    return rule


_JVP_RULE_OF = jvp_module._Jvp.rule_of


def _transpose_one_rule(self: transpose_module._Transpose, e: Prim) -> Any:
    """T remembers the first linear primitive's rule as the rule of every linear primitive."""
    rule = _T_RULE_OF(self, e)
    self.rules = _OneRule(rule)
    return rule


_T_RULE_OF = transpose_module._Transpose.rule_of


def _lone_binder_unnamed(self: Lin, bs: tuple[Binder, ...], sub: dict[int, Expr]) -> tuple[Binder, ...]:
    """A lone linear binder of L is not given its name once the tape's size is known."""
    if len(bs) != 1:
        return _LIN_BINDERS(self, bs, sub)
    n = self.next
    self.next = n + 1
    sub[bs[0].name] = lvar_of(Binder(n, bs[0].hint))
    return (Binder(n, bs[0].hint),)


_LIN_BINDERS = Lin.binders

MUTANTS += [
    Mutant("linear_ad.jvp_one_rule", "linear_ad",
           "J's table of the rules it has read answers every primitive with the first rule it read",
           lambda: patch(jvp_module._Jvp, "rule_of", _jvp_one_rule), theorems="linear_ad.jvp"),
    Mutant("linear_ad.transpose_one_rule", "linear_ad",
           "T's table of the rules it has read answers every linear primitive with the first rule it read",
           lambda: patch(transpose_module._Transpose, "rule_of", _transpose_one_rule),
           theorems="linear_ad.transpose"),
    Mutant("linear_ad.unzip_lone_binder_unnamed", "linear_ad",
           "U leaves a lone linear binder of the linear half with its provisional name (not renamed)",
           lambda: patch(Lin, "binders", _lone_binder_unnamed), theorems="linear_ad.unzip"),
]
