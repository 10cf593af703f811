"""Fp's contexts and kinding ``Γ ⊢wf τ : κ`` (ICFP'24 Fig. 2), and what the typing rules share:
the rule table's coverage declaration and errors that name their rule."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from calculi.core import coverage
from calculi.core.errors import TypeCheckError
from calculi.core.syntax import Span
from calculi.lambda_p import fp_syntax as f
from calculi.lambda_p import fp_types as ty
from calculi.lambda_p.fp_pretty import show, show_kind, show_type

CALCULUS = "fp"
RULES = coverage.declare(CALCULUS, [
    "k-var", "k-const", "k-app", "k-arrow", "k-forall", "k-lam", "k-fin", "k-array", "k-empty", "k-row",
    "t-var", "t-lit", "t-fin", "t-abs", "t-tabs", "t-array", "t-con", "t-perform", "t-global",
    "t-int", "t-tapp", "t-app1", "t-app2", "t-for", "t-prj", "t-handle", "t-handler",
    "t-let", "t-if", "t-prim",
])

PRIMS: dict[str, tuple[tuple[f.Type, ...], f.Type]] = {
    "+": ((f.INT, f.INT), f.INT),
    "-": ((f.INT, f.INT), f.INT),
    "*": ((f.INT, f.INT), f.INT),
    "==": ((f.INT, f.INT), f.BOOL),
    "++": ((f.STRING, f.STRING), f.STRING),
    "show": ((f.INT,), f.STRING),
}


class UnhandledEffect(TypeCheckError):
    """An operation whose label the row of its context lacks; ``labels`` names them."""


    def __init__(self, reason: str, span: Span | None, rule: str, labels: list[str], context: f.Row) -> None:
        super().__init__(reason, span, rule=rule)
        self.labels = labels
        self.context = context
        """The row of the context that lacks them (the very object: ``infer_closed`` tells the
        top level's row from an equal row written on a λ)."""


@dataclass(frozen=True, slots=True)
class Context:
    """Γ: type variables with kinds, value variables with types; Σ; the top-level definitions."""

    sigma: dict[str, f.Effect] = field(default_factory=dict)
    globals: dict[str, tuple[f.Type, f.Term | None]] = field(default_factory=dict)
    """Each definition's type, and its value (None for a trusted constant)."""
    kinds: dict[str, f.Kind] = field(default_factory=dict)
    types: dict[str, f.Type] = field(default_factory=dict)

    def with_type(self, name: str, kind: f.Kind) -> Context:
        return replace(self, kinds={**self.kinds, name: kind})

    def with_value(self, name: str, t: f.Type) -> Context:
        return replace(self, types={**self.types, name: t})


def fail(rule: str, reason: str, span: Span | None) -> TypeCheckError:
    return TypeCheckError(reason, span, rule=rule)


def fire(rule: str) -> None:
    coverage.fired(CALCULUS, rule)


# -- kinding -----------------------------------------------------------------------------------


def kind_of(ctx: Context, t: f.Type) -> f.Kind:
    """Γ ⊢wf τ : κ"""
    match t:
        case f.Row(labels, tail):
            for label in labels:
                if label not in ctx.sigma:
                    reason = f"unknown effect label {label} (declare it: effect {label} : σ1 -> σ2)"
                    raise fail("k-row", reason,
                               t.span)
            if tail is not None and ctx.kinds.get(tail) != f.EFF:
                raise fail("k-row", f"the tail {tail} of a row must be a type variable of kind eff", t.span)
            fire("k-row" if labels else "k-empty")
            return f.EFF
        case f.TVar(name):
            if name not in ctx.kinds:
                raise fail("k-var", f"type variable {name} is not in scope", t.span)
            fire("k-var")
            return ctx.kinds[name]
        case f.TCon(_, args):
            for a in args:
                expect_kind(ctx, a, f.STAR, "k-const")
            fire("k-const")
            return f.STAR
        case f.TArrow(binder, dom, row, cod):
            expect_kind(ctx, dom, f.STAR, "k-arrow")
            kind_of(ctx, row)
            inner = ctx.with_value(binder, dom) if binder is not None else ctx
            expect_kind(inner, cod, f.STAR, "k-arrow")
            fire("k-arrow")
            return f.STAR
        case f.TForall(name, kind, body):
            expect_kind(ctx.with_type(name, kind), body, f.STAR, "k-forall")
            fire("k-forall")
            return f.STAR
        case f.TLam(name, kind, body):
            fire("k-lam")
            return f.KArrow(kind, kind_of(ctx.with_type(name, kind), body))
        case f.TApp(fn, arg):
            k = kind_of(ctx, fn)
            if not isinstance(k, f.KArrow):
                reason = f"{show_type(fn)} has kind {show_kind(k)}, not a kind of type constructor"
                raise fail("k-app", reason,
                           t.span)
            expect_kind(ctx, arg, k.dom, "k-app")
            fire("k-app")
            return k.cod
        case f.TFin(bound):
            check_bound(ctx, bound, "k-fin")
            fire("k-fin")
            return f.STAR
        case f.TArray(bound, elem):
            check_bound(ctx, bound, "k-array")
            expect_kind(ctx, elem, f.STAR, "k-array")
            fire("k-array")
            return f.STAR
    raise TypeError(f"not an Fp type: {t!r}")


def expect_kind(ctx: Context, t: f.Type, kind: f.Kind, rule: str) -> None:
    k = kind_of(ctx, t)
    if k != kind:
        raise fail(rule, f"{show_type(t)} has kind {show_kind(k)}, expected {show_kind(kind)}", t.span)


def check_bound(ctx: Context, bound: f.Term, rule: str) -> None:
    """Γ ⊢v n : Int, n a literal or a variable."""
    if isinstance(bound, f.Lit) and isinstance(bound.value, int) and bound.value >= 0:
        return
    if isinstance(bound, f.Var) and bound.name in ctx.types and ty.equal(ctx.types[bound.name], f.INT):
        return
    raise fail(rule, f"the bound {show(bound)} of Fin must be a natural number or a variable of type Int",
               bound.span)


