"""The foil's claims about α-equivalence, normal forms, normalisation by evaluation and the
syntax (reference note §3, P10–P12), the rule coverage of the generators, and the mutants."""

from __future__ import annotations

from hypothesis import strategies as st

from calculi.core.errors import FuelExhausted
from calculi.core.trace import Fuel
from calculi.foil import strategies as gen
from calculi.foil.alpha import alpha_equiv
from calculi.foil.baselines import debruijn as db
from calculi.foil.core import (
    unsafe_binder,
    unsafe_name,
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
from calculi.foil.syntax import App, Lam, Var, free_names, scope_of
from proofs.foil.common import FOIL, FUEL, Term, show, subst
from proofs.quality import distribution, every_rule_fires, sample
from proofs.registry import register_mutants, theorem


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
