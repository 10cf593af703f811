"""The foil's claims about substitution, scopes, sinking and name maps (reference note §3, P1–P9,
P13), over generated scopes, substitutions and terms, each compared with the de Bruijn oracle or
stated up to α."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from calculi.foil import scopes, substitute
from calculi.foil import strategies as gen
from calculi.foil.alpha import alpha_equiv
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
    unsink_name,
    with_fresh,
    with_refreshed,
)
from calculi.foil.debruijn import to_debruijn
from calculi.foil.normalize import normalize
from calculi.foil.parse import parse
from calculi.foil.syntax import App, Lam, Var, free_names
from proofs.foil.common import FOIL, Term, bits, db_subst, show, subst
from proofs.registry import theorem


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
