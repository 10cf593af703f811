"""Fp's typed reduction (ICFP'24 Fig. 1 with types, App. C): λp's rules, where (perform),
(traverse) and (return) instantiate the clauses' type parameters with the types the checker
gives (the side conditions of App. C), plus (tapp), (coerce) and the unfolding of a top-level
definition (``def``), whose erasures are equal on both sides.

    (perform)   handle h s E[perform op^ε τ̄ v] → f_p τ̄ σ s v k,  k = λ^ε s:τ. λ^ε x:σ2[ā:=τ̄]. handle h s E[x]
    (traverse)  handle h s F[for x:Fin n. e]  → f_t σa σ n s ℓ k,
                ℓ = ⟨λ^ε s:τ. handle h s e[x := i ⊳ Fin n]⟩,  k = λ^ε s:τ. λ^ε xs:Fin n ⇒ σa. handle h s F[xs]
    (parallel)  F[for x:Fin n. e] ↦ F[⟨v0, …⟩]  (no handler around the loop; e[x := i ⊳ Fin n] ↦* vi)

σ is the type of the handled computation, σa that of the loop's body.
"""

from __future__ import annotations

from dataclasses import dataclass

from calculi.core import coverage
from calculi.core.errors import StuckError
from calculi.core.syntax import Span
from calculi.core.trace import Fuel, Step
from calculi.lambda_p import fp_syntax as f
from calculi.lambda_p import fp_types as ty
from calculi.lambda_p.fp_check import infer
from calculi.lambda_p.fp_kinds import Context
from calculi.lambda_p.fp_subst import subst_type_in_term, subst_value

RULES = coverage.declare("fp", [
    "(app)", "(tapp)", "(index)", "(coerce)", "(return)", "(perform)", "(traverse)", "(parallel)", "(if)",
    "(prim)", "(def)",
])


@dataclass(frozen=True, slots=True)
class Frame:
    """One layer of E: ``node`` with its ``slot``-th part the hole; ``row`` is the row of the
    context the node stands in."""

    node: f.Term
    slot: int
    row: f.Row


def parts(t: f.Term) -> list[f.Term]:
    """The sub-terms E may go into, in evaluation order."""
    match t:
        case f.App(fn, arg) | f.Index(fn, arg):
            return [fn, arg]
        case f.TyApp(fn) | f.Coerce(fn) | f.Let(_, fn) | f.If(fn):
            return [fn]
        case f.Handle(_, _, _, param, body):
            return [param, body]
        case f.Prim(_, args):
            return list(args)
    return []


def replace_part(t: f.Term, slot: int, new: f.Term) -> f.Term:
    span = t.span
    match t:
        case f.App(fn, arg):
            return f.App(new, arg, span=span) if slot == 0 else f.App(fn, new, span=span)
        case f.Index(a, i):
            return f.Index(new, i, span=span) if slot == 0 else f.Index(a, new, span=span)
        case f.TyApp(_, ty):
            return f.TyApp(new, ty, span=span)
        case f.Coerce(_, ty):
            return f.Coerce(new, ty, span=span)
        case f.Let(name, _, body):
            return f.Let(name, new, body, span=span)
        case f.If(_, a, b):
            return f.If(new, a, b, span=span)
        case f.Handle(rho, tau, h, param, body):
            if slot == 0:
                return f.Handle(rho, tau, h, new, body, span=span)
            return f.Handle(rho, tau, h, param, new, span=span)
        case f.Prim(op, args):
            return f.Prim(op, (*args[:slot], new, *args[slot + 1 :]), span=span)
    raise TypeError(f"no hole in {t!r}")


def plug(frames: list[Frame], hole: f.Term) -> f.Term:
    for frame in reversed(frames):
        hole = replace_part(frame.node, frame.slot, hole)
    return hole


def decompose(t: f.Term, row: f.Row) -> tuple[list[Frame], f.Term, f.Row] | None:
    """E[r], the row of r's context; None for a value."""
    frames: list[Frame] = []
    while not f.is_value(t):
        for slot, part in enumerate(parts(t)):
            if not f.is_value(part):
                frames.append(Frame(t, slot, row))
                if isinstance(t, f.Handle) and slot == 1:
                    row = f.Row((t.handler.ops()[0], *row.labels), row.tail)
                t = part
                break
        else:
            return frames, t, row
    return (frames, t, row) if frames else None


class Stuck(StuckError):
    """No rule applies: only ever an unhandled operation for a well-typed term (Lemma 6.4)."""


class Unhandled(Stuck):
    """E[perform op^ε τ̄ v] with op ∉ bop(E), at the top of the term."""

    def __init__(self, op: str, span: Span | None) -> None:
        super().__init__(f"unhandled operation {op}", span, rule="perform")
        self.op = op


@dataclass(slots=True)
class Machine:
    """Small steps of closed Fp terms over a program's Σ and definitions."""

    ctx: Context

    def step(self, term: f.Term, row: f.Row, fuel: Fuel | None = None) -> Step[f.Term] | None:
        """One step e ↦ e' of a term whose context has row ``row``, named by its rule; None at a value."""
        found = decompose(term, row)
        if found is None:
            return None
        frames, redex, here = found
        rule, new, keep = self.contract(frames, redex, here, fuel or Fuel())
        coverage.fired("fp", rule)
        return Step(rule, plug(frames[:keep], new))

    def evaluate(self, term: f.Term, row: f.Row, fuel: Fuel) -> f.Term:
        while (nxt := self.step(term, row, fuel)) is not None:
            fuel.tick(term.span)
            term = nxt.term
        return term

    def unfold(self, t: f.Term) -> f.Term:
        assert isinstance(t, f.Global)
        value = self.ctx.globals[t.name][1]
        if value is None:
            raise Stuck(f"{t.name} is a trusted constant: it runs only erased, in λp", t.span)
        return value

    def contract(self, frames: list[Frame], t: f.Term, row: f.Row, fuel: Fuel) -> tuple[str, f.Term, int]:
        keep = len(frames)
        match t:
            case f.App(f.Global() as g, arg):
                return "(def)", f.App(self.unfold(g), arg, span=t.span), keep
            case f.TyApp(f.Global() as g, ty) | f.Index(f.Global() as g, ty):
                return "(def)", replace_part(t, 0, self.unfold(g)), keep
            case f.App(f.Lam(name, _, _, body), arg) | f.Let(name, arg, body):
                return "(app)", subst_value(body, name, arg), keep
            case f.App(f.Perform() as p, arg):
                return self.perform(frames, p, arg)
            case f.TyApp(f.TAbs(name, _, body), ty):
                return "(tapp)", subst_type_in_term(body, name, ty), keep
            case f.Coerce(f.Coerce(f.Lit() as i), _):
                return "(coerce)", i, keep
            case f.Index(f.Arr(items), f.Coerce(f.Lit(int(i)))) if 0 <= i < len(items):
                return "(index)", items[i], keep
            case f.If(f.Con(tag), a, b):
                return "(if)", a if tag == "True" else b, keep
            case f.Prim(op, args):
                return "(prim)", delta(op, args, t), keep
            case f.Handle(_, _, h, param, body):
                clause = h.clause("return")
                assert clause is not None
                sigma = infer(self.ctx, body, f.PURE)
                return "(return)", f.App(f.App(f.TyApp(clause, sigma), param), body), keep
            case f.For():
                return self.loop(frames, t, row, fuel)
        raise Stuck("no rule applies (not a well-typed term)", t.span)

    def handle_body_row(self, frame: Frame) -> f.Row:
        assert isinstance(frame.node, f.Handle)
        return f.Row((frame.node.handler.ops()[0], *frame.row.labels), frame.row.tail)

    def perform(self, frames: list[Frame], p: f.Perform, arg: f.Term) -> tuple[str, f.Term, int]:
        for j in range(len(frames) - 1, -1, -1):
            frame = frames[j]
            h = frame.node
            if isinstance(h, f.Handle) and frame.slot == 1 and p.op in h.handler.ops():
                break
        else:
            raise Unhandled(p.op, p.span)
        inner = frames[j + 1 :]
        body = plug(inner, f.App(p, arg))
        sigma = infer(self.ctx, body, self.handle_body_row(frame))
        sig = self.ctx.sigma[p.op]
        result = sig.result
        for (name, _), targ in zip(sig.params, p.targs, strict=True):
            result = ty.subst(result, name, targ)
        outer = frame.row
        resumed = f.Handle(h.answer, h.param_ty, h.handler, f.Var("s"), plug(inner, f.Var("x")))
        k = f.Lam("s", h.param_ty, outer, f.Lam("x", result, outer, resumed))
        clause = h.handler.clause(p.op)
        assert clause is not None
        for targ in (*p.targs, sigma):
            clause = f.TyApp(clause, targ)
        return "(perform)", f.App(f.App(f.App(clause, h.param), arg), k), j

    def loop(self, frames: list[Frame], t: f.For, row: f.Row, fuel: Fuel) -> tuple[str, f.Term, int]:
        n = t.bound
        assert isinstance(n, f.Lit) and isinstance(n.value, int)
        handles = [j for j, fr in enumerate(frames) if isinstance(fr.node, f.Handle) and fr.slot == 1]
        index = [f.Coerce(f.Lit(i), f.TFin(n)) for i in range(n.value)]
        if not handles:
            values = tuple(self.evaluate(subst_value(t.body, t.name, i), row, fuel) for i in index)
            return "(parallel)", f.Arr(values, span=t.span), len(frames)
        j = handles[-1]
        frame, inner = frames[j], frames[j + 1 :]
        h = frame.node
        assert isinstance(h, f.Handle)
        body_row = self.handle_body_row(frame)
        elem = infer(self.ctx.with_value(t.name, f.TFin(n)), t.body, body_row)
        sigma = infer(self.ctx, plug(inner, t), body_row)
        outer = frame.row
        bodies = f.Arr(tuple(
            f.Lam("s", h.param_ty, outer, f.Handle(h.answer, h.param_ty, h.handler, f.Var("s"),
                                                   subst_value(t.body, t.name, i)))
            for i in index
        ))
        resumed = f.Handle(h.answer, h.param_ty, h.handler, f.Var("s"), plug(inner, f.Var("xs")))
        k = f.Lam("s", h.param_ty, outer, f.Lam("xs", f.TArray(n, elem), outer, resumed))
        clause = h.handler.clause("traverse")
        assert clause is not None
        call = f.App(f.App(f.App(f.App(f.TyApp(f.TyApp(clause, elem), sigma), n), h.param), bodies), k)
        return "(traverse)", call, j


def delta(op: str, args: tuple[f.Term, ...], t: f.Term) -> f.Term:
    if op in ("fst", "snd") and isinstance(args[0], f.Con) and len(args[0].args) == 2:
        return args[0].args[0 if op == "fst" else 1]
    values = [a.value for a in args if isinstance(a, f.Lit)]
    if len(values) != len(args):
        raise Stuck(f"{op} of a non-literal", t.span)
    a = values[0]
    if op == "show":
        return f.Lit(str(a), span=t.span)
    b = values[1]
    if op == "==":
        return f.Con("True" if a == b else "False", span=t.span)
    if op == "++" and isinstance(a, str) and isinstance(b, str):
        return f.Lit(a + b, span=t.span)
    if isinstance(a, int) and isinstance(b, int):
        return f.Lit({"+": a + b, "-": a - b, "*": a * b}[op], span=t.span)
    raise Stuck(f"{op} of {a!r} and {b!r}", t.span)
