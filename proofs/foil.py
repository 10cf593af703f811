"""The foil's claims as properties (reference note §3, P1–P12), over generated terms.

Every substitution is compared with the de Bruijn oracle or stated up to α; terms come from
``calculi.foil.strategies`` (well-scoped by construction, full of shadowing and repeated raw
names) and counterexamples print in the calculus's own syntax.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from calculi.core.errors import FuelExhausted
from calculi.core.trace import Fuel
from calculi.foil import scopes, substitute
from calculi.foil import strategies as gen
from calculi.foil.alpha import alpha_equiv
from calculi.foil.baselines import debruijn as db
from calculi.foil.core import (
    add_name_binder,
    empty_name_map,
    empty_scope,
    extend_scope,
    fresh_id,
    identity_subst,
    lookup_name,
    member,
    name_of,
    pop_name_binder,
    raw,
    sink,
    sink_name,
    unsafe_binder,
    unsafe_name,
    unsafe_scope,
    unsink_name,
    with_fresh,
    with_refreshed,
)
from calculi.foil.debruijn import from_debruijn, to_debruijn
from calculi.foil.mutants import MUTANTS
from calculi.foil.names import intern
from calculi.foil.nbe import normalize_by_evaluation
from calculi.foil.normalize import normalize, weak_head
from calculi.foil.parse import parse
from calculi.foil.pretty import pretty
from calculi.foil.semantics import step
from calculi.foil.shapes import (
    alpha_by_debruijn,
    binders,
    has_lam,
    is_normal,
    one_side_fresh,
    redex_under_binder,
    same_shape,
    shadows,
)
from calculi.foil.syntax import App, Expr, Lam, Var, free_names, scope_of
from proofs.quality import distribution, every_rule_fires, sample
from proofs.registry import Paper, register_mutants, theorem

FOIL = Paper("foil", "The Foil: Capture-Avoiding Substitution With No Sharp Edges", "IFL 2022")

Term = Expr[Any]


def show(value: object) -> str:
    """Counterexamples in the foil's syntax: terms printed, containers shown element-wise."""
    if isinstance(value, Expr):
        return pretty(value, width=None)
    if isinstance(value, dict):
        return "[" + ", ".join(f"{show(k)} ↦ {show(v)}" for k, v in value.items()) + "]"
    if isinstance(value, tuple | list):
        return "(" + "; ".join(show(v) for v in value) + ")"
    if isinstance(value, int):
        return pretty(Var(unsafe_name(value)))
    return repr(value)


def bits(names: list[int]) -> Any:
    out = 0
    for name in names:
        out |= 1 << name
    return unsafe_scope(out)


def subst(theta: list[int], sigma: dict[int, Term], term: Term) -> Term:
    table: Any = sigma
    return substitute(bits(theta), table, term)


def db_subst(theta_o: list[int], sigma: dict[int, Term], theta_i: list[int], term: Term) -> db.DB:
    """The oracle: σ on de Bruijn terms (free index k of the input context is Θ_i[k])."""

    def image(k: int) -> db.DB:
        name = theta_i[k]
        return to_debruijn(sigma.get(name, Var(unsafe_name(name))), theta_o)

    return db.substitute(to_debruijn(term, theta_i), image)


FUEL = 400


@theorem("foil.subst.capture_cases", paper=FOIL, section="§3 (reference §6)", show=show,
         statement="the classic capture cases: (λx.λy.x) y, [y/x](λy.x), (λx.λx.x) a, apply-once swap")
def _captures() -> None:
    def nf(text: str) -> Term:
        return normalize(parse(text, free=True))

    def same(a: Term, b: str) -> bool:
        return alpha_equiv(a, parse(b, free=True))

    assert same(nf(r"(\x.\y.x) y"), r"\z. y")
    assert same(nf(r"(\x.\x.x) a"), r"\x. x")
    assert same(nf(r"\x0.(\x1.\x0.x1) (\x2.x0)"), r"\x0.\x2.\x2.x0")
    assert same(nf(r"(\x.\y.\z. x y z) (y z)"), r"\a.\b. y z a b")
    swap = parse("a b", free=True)
    a, b = sorted(free_names(swap))
    out = subst([a, b], {a: Var(unsafe_name(b)), b: Var(unsafe_name(a))}, swap)
    assert alpha_equiv(out, parse("b a", free=True))
    assert substitute(bits([a, b]), identity_subst(), swap) is swap


@theorem("foil.alpha.cases", paper=FOIL, section="§3 P10 (reference §6)", show=show,
         statement="the classic α cases: λx0.λx1.x1 ≡α λx1.λx0.x0, λx.x ≢α λy.x either way round, "
                   "λx.λy.x ≢α λx.λy.y, λ_.x ≢α λy.y")
def _alpha_cases() -> None:
    def equiv(a: str, b: str) -> bool:
        return alpha_equiv(parse(a, free=True), parse(b, free=True))

    assert equiv(r"\x0.\x1.x1", r"\x1.\x0.x0") and equiv(r"\x. x y", r"\z. z y")
    assert not equiv(r"\x. x", r"\y. x") and not equiv(r"\y. x", r"\x. x")
    assert not equiv(r"\x.\y. x", r"\x.\y. y") and not equiv(r"\_. x", r"\y. y")
    assert not equiv(r"\x. \y. y x", r"\y. \y. y x") and not equiv(r"\y. \y. y x", r"\x. \y. y x")


@theorem("foil.subst.agrees_with_debruijn", paper=FOIL, section="§3 P1", show=show,
         statement="capture-avoiding: the foil's substitution equals de Bruijn substitution (up to α)",
         given={"case": gen.substitutions()})
def _p1(case: tuple[list[int], dict[int, Term], list[int], Term]) -> None:
    theta_o, sigma, theta_i, term = case
    assert to_debruijn(subst(theta_o, sigma, term), theta_o) == db_subst(theta_o, sigma, theta_i, term)


@theorem("foil.subst.scope_preservation", paper=FOIL, section="§3 P2", show=show,
         statement="FV(e) ⊆ Θ_i and FV(σ x) ⊆ Θ_o imply FV(subst(Θ_o, σ, e)) ⊆ Θ_o",
         given={"case": gen.substitutions()})
def _p2(case: tuple[list[int], dict[int, Term], list[int], Term]) -> None:
    theta_o, sigma, _, term = case
    assert free_names(subst(theta_o, sigma, term)) <= set(theta_o)


@theorem("foil.fresh.invariants", paper=FOIL, section="§3 P3", show=show,
         statement="with_fresh's binder is not in Θ; extend_scope adds exactly it; with_refreshed "
                   "keeps the raw name iff it is not in Θ",
         given={"theta": gen.scopes(), "name": gen.names})
def _p3(theta: list[int], name: int) -> None:
    scope = bits(theta)
    fresh = with_fresh(scope, lambda b, ev: raw(b))
    assert fresh not in theta
    grown = extend_scope(with_fresh(scope, lambda b, ev: b), scope)
    assert grown == scope | 1 << fresh
    kept = with_refreshed(scope, unsafe_name(name), lambda b, ev: raw(b))
    assert (kept == name) == (name not in theta)
    assert not member(unsafe_name(kept), scope)


@theorem("foil.scope.is_its_set", paper=FOIL, section="§3 P3", show=str,
         statement="a scope built by extend_scope from names anywhere below 2^32 (crowded at WIDE and at "
                   "the trie's leaf and node boundaries) answers member, fresh_id and its names as the set "
                   "of those names, and every earlier scope still answers as its own set (persistence)",
         given={"order": st.lists(gen.wide_names(), max_size=24),
                "probes": st.lists(gen.wide_names(), max_size=12)})
def _scope_set(order: list[int], probes: list[int]) -> None:
    scope: Any = empty_scope()
    model: set[int] = set()
    history: list[tuple[Any, set[int]]] = [(scope, set())]
    for name in order:
        if name not in model:
            scope = extend_scope(unsafe_binder(name), scope)
            model = model | {name}
            history.append((scope, model))
    near = [n + d for n in order for d in (-1, 1) if n + d >= 0]
    for earlier, members in history:
        for name in [*order, *probes, *near]:
            assert member(unsafe_name(name), earlier) == (name in members), (name, sorted(members))
        assert fresh_id(earlier) == max(members, default=-1) + 1
    assert scopes.names(scope) == sorted(model)


@theorem("foil.subst.alpha_invariant", paper=FOIL, section="§3 P4", show=show,
         statement="e ≡α e' and σ ≡α σ' pointwise imply subst σ e ≡α subst σ' e'",
         given={"case": gen.alpha_substitutions()})
def _p4(case: tuple[list[int], dict[int, Term], dict[int, Term], list[int], Term, Term]) -> None:
    theta_o, sigma, other, _, term, variant = case
    assert alpha_equiv(subst(theta_o, sigma, term), subst(theta_o, other, variant))


@theorem("foil.subst.identity", paper=FOIL, section="§3 P5", show=show,
         statement="subst(Θ, id, e) ≡α e, and = e when no binder of e clashes with Θ "
                   "(σ given as explicit x ↦ x entries, so the traversal runs)",
         given={"case": gen.scoped_terms()})
def _p5(case: tuple[list[int], Term]) -> None:
    theta, term = case
    sigma: dict[int, Term] = {x: Var(unsafe_name(x)) for x in theta}
    out = subst(theta, sigma, term) if sigma else term
    assert alpha_equiv(out, term)
    if _no_clash(set(theta), term):
        assert out == term


def _no_clash(scope: set[int], term: Term) -> bool:
    """Does no binder of the term clash with Θ or with an enclosing binder?"""
    if isinstance(term, Lam):
        binder: int = term.binder  # type: ignore[assignment]
        return binder not in scope and _no_clash(scope | {binder}, term.body)
    if isinstance(term, App):
        return _no_clash(scope, term.fun) and _no_clash(scope, term.arg)
    return True


@theorem("foil.subst.composition", paper=FOIL, section="§3 P6", show=show,
         statement="subst σ₂ (subst σ₁ e) ≡α subst (σ₂ ∘ σ₁) e, (σ₂∘σ₁)(x) = subst σ₂ (σ₁ x): apply once",
         given={"case": gen.substitution_chains()})
def _p6(case: tuple[list[int], dict[int, Term], list[int], dict[int, Term], list[int], Term]) -> None:
    theta_o, sigma2, theta_m, sigma1, theta_i, term = case
    composed = {x: subst(theta_o, sigma2, sigma1.get(x, Var(unsafe_name(x)))) for x in theta_i}
    assert alpha_equiv(subst(theta_o, sigma2, subst(theta_m, sigma1, term)), subst(theta_o, composed, term))


@theorem("foil.subst.lemma", paper=FOIL, section="§3 P7", show=show,
         statement="[x↦a][y↦b]e ≡α [y↦[x↦a]b][x↦a]e for x ≠ y, y ∉ FV(a)",
         given={"case": gen.lemma_cases()})
def _p7(case: tuple[list[int], int, int, Term, Term, Term]) -> None:
    base, x, y, e, a, b = case
    with_x = sorted({*base, x})
    left = subst(base, {x: a}, subst(with_x, {y: b}, e))
    right = subst(base, {y: subst(base, {x: a}, b)}, subst(sorted({*base, y}), {x: a}, e))
    assert alpha_equiv(left, right)


@theorem("foil.sink.identity", paper=FOIL, section="§3.5 P8", show=show,
         statement="sink is the identity at run time: sink(e) is e, sink_name(x) is x",
         given={"case": gen.scoped_terms()})
def _p8(case: tuple[list[int], Term]) -> None:
    theta, term = case
    scope = bits(theta)

    def check(binder: Any, evidence: Any) -> None:
        assert sink(term, evidence) is term
        for x in theta:
            name: Any = unsafe_name(x)
            assert sink_name(name, evidence) is name

    with_fresh(scope, check)


@theorem("foil.sink.unsink", paper=FOIL, section="§3 P9", show=show,
         statement="unsink_name b (name_of b) = None; unsink_name b (sink n) = n",
         given={"theta": gen.scopes()})
def _p9(theta: list[int]) -> None:
    def check(binder: Any, evidence: Any) -> None:
        assert unsink_name(binder, name_of(binder)) is None
        for x in theta:
            assert unsink_name(binder, sink_name(unsafe_name(x), evidence)) == unsafe_name(x)

    with_fresh(bits(theta), check)


@theorem("foil.namemap.total", paper=FOIL, section="§3 P13", show=show,
         statement="a NameMap built binder by binder answers lookup_name on every name of its scope, "
                   "with the value of that binder; pop_name_binder undoes add_name_binder",
         given={"values": st.lists(st.integers(), min_size=1, max_size=8)})
def _p13(values: list[int]) -> None:
    def build(scope: Any, names: Any, bound: list[tuple[Any, int]], rest: list[int]) -> None:
        if not rest:
            for name, value in bound:
                assert lookup_name(name, names) == value
            return

        def k(binder: Any, evidence: Any) -> None:
            grown = add_name_binder(binder, rest[0], names)
            assert pop_name_binder(binder, grown) == (names, rest[0])
            build(extend_scope(binder, scope), grown, [*bound, (name_of(binder), rest[0])], rest[1:])

        with_fresh(scope, k)

    build(empty_scope(), empty_name_map(), [], values)


@theorem("foil.alpha.agrees_with_debruijn", paper=FOIL, section="§3 P10", show=show,
         statement="alpha_equiv(e₁, e₂) iff their de Bruijn forms are equal, on pairs of the same shape "
                   "that differ only in binding structure (λx.x / λy.x), α-variants and unrelated pairs",
         given={"pair": st.one_of(gen.alpha_pairs(), gen.alpha_pairs(), gen.alpha_pairs(),
                                  st.tuples(gen.open_terms(), gen.open_terms()))})
def _p10(pair: tuple[Term, Term]) -> None:
    a, b = pair
    context = sorted(free_names(a) | free_names(b))
    assert alpha_equiv(a, b) == (to_debruijn(a, context) == to_debruijn(b, context))


@theorem("foil.alpha.equivalence", paper=FOIL, section="§3 P10", show=show,
         statement="α-equivalence is reflexive, symmetric and transitive, and holds of e and refresh(e)",
         given={"pair": gen.alpha_variants(), "other": gen.alpha_pairs()})
def _p10b(pair: tuple[Term, Term], other: tuple[Term, Term]) -> None:
    a, b = pair
    assert alpha_equiv(a, a) and alpha_equiv(b, b)
    assert alpha_equiv(a, b) and alpha_equiv(b, a)
    c, d = other
    assert alpha_equiv(c, d) == alpha_equiv(d, c)
    for e in (c, d):
        assert alpha_equiv(a, e) == alpha_equiv(b, e)
        assert alpha_equiv(e, a) == alpha_equiv(e, b)
    refreshed = from_debruijn(to_debruijn(a), scope_of(a))
    assert alpha_equiv(a, refreshed)


@theorem("foil.nf.agrees_with_debruijn", paper=FOIL, section="§3 P11", show=show,
         statement="normal-order nf on the foil ≡α nf on de Bruijn terms, with as many β-steps "
                   f"(or both diverge past {FUEL} steps)",
         given={"term": st.one_of(gen.closed_terms(), gen.open_terms())})
def _p11(term: Term) -> None:
    foil_fuel, db_fuel = Fuel(FUEL), Fuel(FUEL)
    try:
        out = normalize(term, foil_fuel)
    except FuelExhausted:
        out = None
    try:
        expected = db.normalize(to_debruijn(term), db_fuel)
    except FuelExhausted:
        expected = None
    assert (out is None) == (expected is None)
    assert foil_fuel.used == db_fuel.used
    if out is not None:
        assert to_debruijn(out, sorted(free_names(term))) == expected


@st.composite
def _capturing(draw: st.DrawFn) -> Term:
    """``(λx. λy. e) y`` with FV(e) ⊆ {x, y, …}: reading the result back must rename the inner y."""
    x, y = draw(st.lists(gen.names, min_size=2, max_size=2, unique=True))
    body = draw(gen.terms_in([x, y], max_size=10, prefer=[y]))
    inner: Term = Lam(unsafe_binder(y), body)
    return App(Lam(unsafe_binder(x), inner), Var(unsafe_name(y)))


@theorem("foil.nbe.agrees_with_nf", paper=FOIL, section="NbE (free-foil's future work)", label="derived",
         show=show,
         statement="normalisation by evaluation ≡α the substitution normaliser's nf, in at most as many "
                   f"β-steps (sharing); its result prints as text that parses back to it up to α (or nf "
                   f"diverges past {FUEL} steps)",
         given={"term": st.one_of(gen.closed_terms(), gen.open_terms(), _capturing())})
def _nbe(term: Term) -> None:
    fuel = Fuel(FUEL)
    try:
        expected = normalize(term, fuel)
    except FuelExhausted:
        return
    spent = Fuel(FUEL)
    out = normalize_by_evaluation(term, spent)
    assert spent.used <= fuel.used
    assert alpha_equiv(out, expected)
    assert to_debruijn(out, sorted(free_names(term))) == to_debruijn(expected, sorted(free_names(term)))
    assert alpha_equiv(parse(pretty(out), free=True), out)


@theorem("foil.nbe.names_from_hints", paper=FOIL, section="NbE, names", label="derived", show=show,
         statement="read-back and substitution rename a clashing binder from its own spelling (y to y1), "
                   "the same text whatever names the process interned before")
def _hints() -> None:
    for run in (normalize, normalize_by_evaluation):
        before = pretty(run(parse(r"(\x. \y. \y1. x) (y y1)", free=True)))
        for k in range(1, 6):
            intern(f"y{k + 5}")
        assert pretty(run(parse(r"(\x. \y. \y1. x) (y y1)", free=True))) == before == r"\y2. \y3. y y1"
        assert pretty(run(parse(r"(\x. \y. x) y", free=True))) == r"\y1. y"


@theorem("foil.whnf.idempotent", paper=FOIL, section="§3 P12", show=show,
         statement="whnf(whnf(e)) = whnf(e), syntactically",
         given={"term": st.one_of(gen.closed_terms(), gen.open_terms())})
def _p12(term: Term) -> None:
    try:
        once = weak_head(term, FUEL)
    except FuelExhausted:
        return
    assert weak_head(once, FUEL) == once


@theorem("foil.step.agrees_with_nf", paper=FOIL, section="normal order", label="derived", show=show,
         statement="iterating the small-step β rule reaches nf(e) (up to α) in the same number of steps",
         given={"term": st.one_of(gen.closed_terms(), gen.open_terms())})
def _step(term: Term) -> None:
    fuel = Fuel(FUEL)
    try:
        out = normalize(term, fuel)
    except FuelExhausted:
        return
    current, count = term, 0
    while (nxt := step(current)) is not None:
        assert nxt.rule == "β"
        current, count = nxt.term, count + 1
        assert count <= fuel.used
    assert count == fuel.used
    assert alpha_equiv(current, out)


@theorem("foil.syntax.round_trip", paper=FOIL, section="syntax", label="derived", show=show,
         statement="parse(pretty(e)) = e exactly (same raw names), at any width",
         given={"term": st.one_of(gen.closed_terms(), gen.open_terms()),
                "width": st.sampled_from([None, 8, 80])})
def _round_trip(term: Term, width: int | None) -> None:
    assert parse(pretty(term, width=width), free=True) == term


def _exercise() -> None:
    """The generators' samples through every rule: substitutions, normal-order steps, α-checks."""
    for theta_o, sigma, _, term in sample(gen.substitutions(), 40, seed=1):
        subst(theta_o, sigma, term)
    for term in sample(st.one_of(gen.closed_terms(), gen.open_terms()), 40, seed=2):
        for _ in range(30):
            nxt = step(term)
            if nxt is None:
                break
            term = nxt.term
    pairs = st.one_of(gen.alpha_pairs(), st.tuples(gen.open_terms(), gen.open_terms()))
    for a, b in sample(pairs, 60, seed=3):
        alpha_equiv(a, b)


every_rule_fires("foil", FOIL, "§3, normal order, P10", _exercise)

Substitution = tuple[list[int], dict[int, Term], list[int], Term]


def _images(case: Substitution) -> list[Term]:
    return list(case[1].values())


distribution("foil", "substitutions (Θ_o, σ, Θ_i, e)", gen.substitutions(), {
    "every image of σ is a single name": lambda c: all(isinstance(v, Var) for v in _images(c)),
    "no image of σ has a λ": lambda c: not any(has_lam(v) for v in _images(c)),
    "a binder of e is free in an image (renaming)": lambda c: bool(
        binders(c[3]) & set().union(*(free_names(v) for v in _images(c)))),
    "a binder of e is in dom σ (the delete)": lambda c: bool(binders(c[3]) & set(c[1])),
    "e has a redex under a binder": lambda c: redex_under_binder(c[3]),
})
distribution("foil", "terms (closed or open)", st.one_of(gen.closed_terms(), gen.open_terms()), {
    "already normal": is_normal,
    "a redex under a binder": redex_under_binder,
    "a binder repeats a name in scope": lambda t: shadows(t, free_names(t)),
})
distribution("foil", "α-pairs", gen.alpha_pairs(), {
    "α-equivalent": lambda p: alpha_by_debruijn(*p),
    "same shape, different binding structure": lambda p: same_shape(*p) and not alpha_by_debruijn(*p),
    "a binder fresh on one side only": lambda p: one_side_fresh(*p),
    "... and not α-equivalent (λx.x / λy.x)": lambda p: one_side_fresh(*p) and not alpha_by_debruijn(*p),
})

register_mutants(MUTANTS)
