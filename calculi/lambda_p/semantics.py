"""The small-step semantics of λp (ICFP'24 Fig. 1), rule by rule, on closed terms.

    (app)      (λx. e) v                    → e[x := v]
    (index)    ⟨v0,…,vn⟩.i                  → v_i
    (return)   handle h s v                 → f_r s v
    (perform)  handle h s E[perform op v]   → f_p s v k       op ∉ bop(E), k = λs. λx. handle h s E[x]
    (traverse) handle h s F[for x:n. e]     → f_t n s ℓ k     ℓ = ⟨λs. handle h s e[x:=i]⟩ᵢ,
                                                              k = λs. λxs. handle h s F[xs]
    (step)     e → e'  ⟹  E[e] ↦ E[e']
    (parallel) (∀i < n. e[x:=i] ↦* v_i)  ⟹  F[for x:n. e] ↦ F[⟨v0,…,v(n-1)⟩]

Toolkit extensions: (prim) for the δ-rules of ``delta``, (case) for constructors, and globals
unfold where a λ, an array or a constructor is needed. The context grammar gains ``op(v…, E, e…)``
and ``case E of …`` (frames that are pure, so they belong to both E and F).

A term is decomposed iteratively into its frames (outermost first) and the redex; a step
rewrites the redex and plugs it back. ``VARIANTS`` maps a variant name to its (traverse) rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from calculi.core import coverage
from calculi.core.trace import Fuel, Step
from calculi.foil import core as foil
from calculi.lambda_p import parallel
from calculi.lambda_p.deep import check_cancelled
from calculi.lambda_p.delta import DELTA
from calculi.lambda_p.desugar import warn_traverse
from calculi.lambda_p.pretty import show
from calculi.lambda_p.stuck import (
    bad_index,
    bad_loop_bound,
    cannot_index,
    missing_clause,
    no_match,
    not_a_function,
    out_of_range,
    unhandled,
)
from calculi.lambda_p.subst import substitute
from calculi.lambda_p.syntax import (
    RETURN,
    TRAVERSE,
    TUPLE,
    App,
    Arr,
    Case,
    Con,
    For,
    Handle,
    Handler,
    Index,
    Lam,
    Lit,
    Perform,
    Prim,
    Term,
    Var,
    is_value,
)
from calculi.lambda_p.terms import as_value, describe_term, resolve
from calculi.lambda_p.values import to_term

CALCULUS = "lambda_p"
RULES = coverage.declare(CALCULUS, [
    "app", "index", "return", "perform", "traverse", "step", "parallel", "traverse/pepm", "prim", "case",
])
"""The rules of ICFP'24 Fig. 1, PEPM'22's (traverse) as ``traverse/pepm``, and the δ-rules and
``case`` of the toolkit's extensions; (step) is counted when a primitive step happens inside a
non-empty context E."""

# A frame: (kind, node, position); kinds: fn arg array index prim case param body
Frame = tuple[str, Term, int]
OnStep = Callable[[str, list[Frame], Term], None]
"""Told of each step of ``Machine.evaluate``: the rule, and the term as frames (outermost first,
valid during the call only) around a subterm."""


def plug(frame: Frame, hole: Term) -> Term:
    kind, node, pos = frame
    if isinstance(node, App):
        return App(hole, node.arg, span=node.span) if kind == "fn" else App(node.fn, hole, span=node.span)
    if isinstance(node, Index):
        return (
            Index(hole, node.index, span=node.span)
            if kind == "array"
            else Index(node.array, hole, span=node.span)
        )
    if isinstance(node, Prim):
        return Prim(node.op, (*node.args[:pos], hole, *node.args[pos + 1 :]), span=node.span)
    if isinstance(node, Case):
        return Case(hole, node.branches, span=node.span)
    if isinstance(node, Handle):
        if kind == "param":
            return Handle(node.handler, hole, node.body, span=node.span)
        return Handle(node.handler, node.param, hole, span=node.span)
    raise TypeError(kind)


def plug_all(frames: list[Frame], hole: Term) -> Term:
    for frame in reversed(frames):
        hole = plug(frame, hole)
    return hole


def decompose(term: Term) -> tuple[list[Frame], Term] | None:
    """E[redex] with E as a list of frames (outermost first); None when ``term`` is a value."""
    frames: list[Frame] = []
    t = term
    while True:
        if isinstance(t, App):
            if not is_value(t.fn):
                frames.append(("fn", t, 0))
                t = t.fn
                continue
            if not is_value(t.arg):
                frames.append(("arg", t, 0))
                t = t.arg
                continue
            return frames, t
        if isinstance(t, Index):
            if not is_value(t.array):
                frames.append(("array", t, 0))
                t = t.array
                continue
            if not is_value(t.index):
                frames.append(("index", t, 0))
                t = t.index
                continue
            return frames, t
        if isinstance(t, Prim):
            pos = next((i for i, a in enumerate(t.args) if not is_value(a)), None)
            if pos is None:
                return frames, t
            frames.append(("prim", t, pos))
            t = t.args[pos]
            continue
        if isinstance(t, Case):
            if is_value(t.scrutinee):
                return frames, t
            frames.append(("case", t, 0))
            t = t.scrutinee
            continue
        if isinstance(t, Handle):
            if not is_value(t.param):
                frames.append(("param", t, 0))
                t = t.param
                continue
            if is_value(t.body):
                return frames, t
            frames.append(("body", t, 0))
            t = t.body
            continue
        if isinstance(t, For):
            return frames, t
        return None if not frames else (frames, t)


def handled_ops(frames: list[Frame]) -> set[str]:
    """bop(E): the operations handled by the handle frames of E that enclose the hole."""
    ops: set[str] = set()
    for kind, node, _ in frames:
        if kind == "body" and isinstance(node, Handle):
            ops.update(node.handler.ops())
    return ops


BOP: dict[str, Callable[[list[Frame]], set[str]]] = {"bop": handled_ops}


def _lam2(body: Callable[[Var, Var], Term], hints: tuple[str, str] = ("s", "x")) -> Term:
    """λs. λx. body, with both binders fresh for the (closed) surroundings, via the foil."""
    scope = foil.empty_scope()
    s_id = foil.fresh_id(scope)
    x_id = s_id + 1
    return Lam(s_id, Lam(x_id, body(Var(s_id, hints[0]), Var(x_id, hints[1])), hints[1]), hints[0])


def resumption(handle: Handle, frames: list[Frame]) -> Term:
    """k = λs. λx. handle h s E[x] (deep: the handler is reinstalled)."""
    return _lam2(lambda s, x: Handle(handle.handler, s, plug_all(frames, x), span=handle.span))


def _clause(h: Handler, name: str) -> Term:
    f = h.clause(name)
    if f is None:
        raise missing_clause(name, h.span)
    return f


# -- primitive rules: each returns the contractum of the redex ---------------------------------


def rule_app(t: App) -> Term:
    """(app) (λx. e) v → e[x := v]"""
    f = resolve(t.fn, t.span)
    if not isinstance(f, Lam):
        raise not_a_function(describe_term(f), t.span)
    return substitute(f.body, {f.binder: t.arg})


def rule_index(t: Index) -> Term:
    """(index) ⟨v0,…,vn⟩.i → v_i"""
    arr, i = resolve(t.array, t.span), resolve(t.index, t.span)
    if not isinstance(arr, Arr):
        raise cannot_index(describe_term(arr), t.span)
    if not (isinstance(i, Lit) and isinstance(i.value, int)):
        raise bad_index(describe_term(i), t.span)
    if not 0 <= i.value < len(arr.items):
        raise out_of_range(i.value, len(arr.items), t.span)
    return arr.items[i.value]


def rule_return(t: Handle) -> Term:
    """(return) handle h s v → f_r s v"""
    return App(App(_clause(t.handler, RETURN), t.param), t.body, span=t.span)


def rule_case(t: Case) -> Term:
    """(case) case C v… of {… | C x… -> e | …} → e[x… := v…]"""
    v = resolve(t.scrutinee, t.span)
    for br in t.branches:
        if br.tag is None:
            return substitute(br.body, {br.binders[0]: v})
        if isinstance(v, Con) and v.tag == br.tag and len(v.args) == len(br.binders):
            return substitute(br.body, dict(zip(br.binders, v.args, strict=True)))
    sizes = None
    if isinstance(v, Con) and v.tag == TUPLE and len(t.branches) == 1 and t.branches[0].tag == TUPLE:
        sizes = (len(t.branches[0].binders), len(v.args))
    raise no_match(describe_term(v), [br.tag for br in t.branches], sizes, t.span)


def loop_bound(t: For) -> int:
    n = resolve(t.bound, t.span)
    if isinstance(n, Lit) and isinstance(n.value, int) and n.value >= 0:
        return n.value
    raise bad_loop_bound(describe_term(n), t.span)


def traverse_icfp24(handle: Handle, frames: list[Frame], loop: For) -> Term:
    """(traverse) handle h s F[for x:n. e] → f_t n s ℓ k,  ℓi = λs. handle h s e[x:=i]."""
    n = loop_bound(loop)
    bodies = []
    for i in range(n):
        body = substitute(loop.body, {loop.binder: Lit(i)})
        s_id = foil.fresh_id(foil.empty_scope())
        bodies.append(Lam(s_id, Handle(handle.handler, Var(s_id, "s"), body, span=handle.span), "s"))
    k = _lam2(lambda s, xs: Handle(handle.handler, s, plug_all(frames, xs), span=handle.span), ("s", "xs"))
    f_t = _clause(handle.handler, TRAVERSE)
    return App(App(App(App(f_t, Lit(n)), handle.param), Arr(tuple(bodies))), k, span=handle.span)


def traverse_pepm22(handle: Handle, frames: list[Frame], loop: For) -> Term:
    """(traverse/pepm) … → f_t n s ℓ k,  ℓ = λss. for x:n. handle h (ss.x) e  (PEPM'22 Fig. 1)."""
    n = loop_bound(loop)
    ss_id = loop.binder + 1
    param = Index(Var(ss_id, "ss"), Var(loop.binder, loop.hint), span=loop.span)
    inner = Handle(handle.handler, param, loop.body, span=handle.span)
    ell = Lam(ss_id, For(loop.binder, Lit(n), inner, loop.hint, span=loop.span), "ss")
    k = _lam2(lambda s, xs: Handle(handle.handler, s, plug_all(frames, xs), span=handle.span), ("s", "xs"))
    f_t = _clause(handle.handler, TRAVERSE)
    return App(App(App(App(f_t, Lit(n)), handle.param), ell), k, span=handle.span)


VARIANTS: dict[str, Callable[[Handle, list[Frame], For], Term]] = {
    "icfp24": traverse_icfp24,
    "pepm22": traverse_pepm22,
}


@dataclass(slots=True)
class Machine:
    """The small-step machine: a variant of (traverse), and how (parallel) runs iterations."""

    variant: str = "icfp24"
    jobs: int = 1
    order: Callable[[int], list[int]] | None = None
    warn: Callable[[str], None] | None = None
    warned: set[int] = field(default_factory=set)

    def step(self, term: Term, fuel: Fuel | None = None) -> Step[Term] | None:
        """One step ↦, named by the rule that fired; None at a value."""
        found = decompose(term)
        if found is None:
            return None
        frames, redex = found
        rule, new, keep = self.contract(frames, redex, fuel or Fuel())
        return Step(rule, plug_all(frames[:keep], new))

    def contract(self, frames: list[Frame], t: Term, fuel: Fuel) -> tuple[str, Term, int]:
        """The rule, the new subterm, and how many outer frames stay around it."""
        rule, new, keep = self.primitive(frames, t, fuel)
        if rule == "traverse" and self.variant == "pepm22":
            coverage.fired(CALCULUS, "traverse/pepm")
        else:
            coverage.fired(CALCULUS, rule)
        if keep and rule != "parallel":
            coverage.fired(CALCULUS, "step")
        return rule, new, keep

    def primitive(self, frames: list[Frame], t: Term, fuel: Fuel) -> tuple[str, Term, int]:
        """``contract`` without the counting of rules."""
        if isinstance(t, App):
            if isinstance(resolve(t.fn), Perform):
                return self.perform(frames, t)
            return "app", rule_app(t), len(frames)
        if isinstance(t, Index):
            return "index", rule_index(t), len(frames)
        if isinstance(t, Handle):
            return "return", rule_return(t), len(frames)
        if isinstance(t, Prim):
            args = [as_value(a, t.span) for a in t.args]
            return "prim", to_term(DELTA[t.op].rule(args, t.span)), len(frames)
        if isinstance(t, Case):
            return "case", rule_case(t), len(frames)
        if isinstance(t, For):
            return self.loop(frames, t, fuel)
        raise not_a_function(describe_term(t), t.span)

    def perform(self, frames: list[Frame], t: App) -> tuple[str, Term, int]:
        """(perform): the handle frame j with op ∈ h and op ∉ bop(E), E the frames inside j."""
        op = resolve(t.fn, t.span)
        assert isinstance(op, Perform)
        for j, (kind, node, _) in enumerate(frames):
            if kind == "body" and isinstance(node, Handle) and op.op in node.handler.ops():
                inner = frames[j + 1 :]
                if op.op in BOP["bop"](inner):
                    continue
                k = resumption(node, inner)
                f_p = _clause(node.handler, op.op)
                return "perform", App(App(App(f_p, node.param), t.arg), k, span=node.span), j
        raise unhandled(op.op, show(t.arg), sorted(handled_ops(frames)), t.span or op.span)

    def loop(self, frames: list[Frame], t: For, fuel: Fuel) -> tuple[str, Term, int]:
        for j in range(len(frames) - 1, -1, -1):
            kind, node, _ = frames[j]
            if kind == "body" and isinstance(node, Handle):
                fuel.tick(t.span, loop_bound(t))
                warn_traverse(node.handler, t.span, self.warned, self.warn)
                return "traverse", VARIANTS[self.variant](node, frames[j + 1 :], t), j
        return "parallel", self.parallel(t, fuel), len(frames)

    def parallel(self, t: For, fuel: Fuel) -> Term:
        """(parallel): every iteration e[x := i] ↦* v_i, independently (any order, or in workers)."""
        n = loop_bound(t)
        fuel.tick(t.span, n)  # an n-iteration loop costs at least n steps, before any is built
        bodies = [substitute(t.body, {t.binder: Lit(i)}) for i in range(n)]
        if parallel.worth_forking(n, self.jobs) and self.order is None:
            values = parallel.run_all(bodies, partial(iteration, self.variant), fuel, self.jobs)
        else:
            values = parallel.run_all(bodies, lambda b, f: self.evaluate(b, f), fuel, order=self.order)
        return Arr(tuple(values), span=t.span)

    def evaluate(self, term: Term, fuel: Fuel, on_step: OnStep | None = None) -> Term:
        """↦* to a value, or a ``Stuck`` / ``FuelExhausted`` error.

        The same steps as ``step`` over and over, with the context kept between them: after a
        step E[r] ↦ E'[r'], the next decomposition starts from the contractum inside E' (or, when
        it is a value, from the frame around it) instead of from the root (refocusing, Danvy and
        Nielsen), so a step costs what its rule costs, not the depth of the term. ``on_step``
        hears of each step: its rule, and the new term as frames around a subterm."""
        span = term.span
        found = decompose(term)
        while found is not None:
            check_cancelled()
            frames, redex = found
            rule, new, keep = self.contract(frames, redex, fuel)
            fuel.tick(span)
            del frames[keep:]
            if on_step is not None:
                on_step(rule, frames, new)
            if not is_value(new):
                inner = decompose(new)
                assert inner is not None
                frames.extend(inner[0])
                found = frames, inner[1]
            elif frames:
                parent = plug(frames.pop(), new)
                inner = decompose(parent)
                assert inner is not None
                frames.extend(inner[0])
                found = frames, inner[1]
            else:
                return new
        return term

    def trace(self, term: Term, fuel: Fuel) -> list[Step[Term]]:
        steps = []
        while (nxt := self.step(term, fuel)) is not None:
            fuel.tick(term.span)
            steps.append(nxt)
            term = nxt.term
        return steps


def iteration(variant: str, body: Term, fuel: Fuel) -> Term:
    """An iteration of (parallel) in a worker process."""
    return Machine(variant).evaluate(body, fuel)


def evaluate(
    term: Term,
    fuel: Fuel | None = None,
    variant: str = "icfp24",
    jobs: int = 1,
    warn: Callable[[str], None] | None = None,
) -> Term:
    return Machine(variant, jobs, warn=warn).evaluate(term, fuel or Fuel())


def step(term: Term, variant: str = "icfp24") -> Step[Term] | None:
    return Machine(variant).step(term)
