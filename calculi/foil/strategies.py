"""Hypothesis strategies: well-scoped λ-terms by construction (never by filtering).

Raw names are drawn from a small pool (``POOL``), so terms are full of the cases that break
substitution: binders that repeat a free name or an outer binder's name (shadowing, ``λx. … λx.``),
and substitutions whose range mentions names that the term binds (capture). Binders are drawn half
of the time from the names that matter (the scope, the free names of σ's images, σ's domain), and
a quarter of the compound terms are redexes, under binders as often as not. Sizes are bounded by
``max_size`` constructors; shrinking goes towards small terms and small names.

* ``terms_in(scope)``: terms whose free names are among ``scope`` (a list of raw names);
* ``closed_terms()``, ``open_terms()``, ``scopes()``;
* ``substitutions()``: ``(Θ_o, σ, Θ_i, e)`` meeting the rapier's invariants (SIa, SIb), σ's images
  mostly terms with λs, e's binders clashing with them;
* ``alpha_variants()``: pairs ``(e, e')`` with ``e ≡α e'`` and different binder names;
* ``alpha_pairs()``: pairs of the same shape, α-equivalent or differing only in their binding
  structure (``λx. x`` / ``λy. x``: a binder fresh on one side only);
* ``wide_names()``: raw names across a scope's whole name space, crowded at the boundaries of its
  representation (``scopes.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from calculi.foil.baselines.debruijn import DB, DApp, DVar
from calculi.foil.core import unsafe_binder, unsafe_name
from calculi.foil.debruijn import to_debruijn
from calculi.foil.scopes import FAN_BITS, LEAF_BITS, LEVELS, LIMIT, WIDE
from calculi.foil.shapes import has_lam
from calculi.foil.syntax import App, Expr, Lam, Var, free_names

POOL = 6
"""Raw names 0 … POOL − 1: few enough that binders collide with free names and each other."""

Term = Expr[Any]
names = st.integers(0, POOL - 1)


def _binder(draw: st.DrawFn, prefer: Sequence[int], env: Sequence[int] = ()) -> int:
    """A binder's name: one of ``prefer`` half of the time (when there are any), one of ``env``
    (the names in scope: shadowing) a quarter of the time, else any name of the pool."""
    choice = draw(st.integers(0, 3))
    if choice < 2 and prefer:
        return draw(st.sampled_from(prefer))
    if choice < 3 and env:
        return draw(st.sampled_from(env))
    return draw(names)


def _build(draw: st.DrawFn, env: list[int], budget: int, prefer: Sequence[int] = ()) -> Term:
    """A term of about ``budget`` constructors whose free names are in ``env``; binders are drawn
    from ``prefer`` and ``env`` (``_binder``)."""
    if budget <= 1:
        if env:
            return Var(unsafe_name(draw(st.sampled_from(env))))
        x = _binder(draw, prefer)
        return Lam(unsafe_binder(x), Var(unsafe_name(x)))
    kind = draw(st.sampled_from(["redex", "app", "lam"] if budget >= 4 else ["app", "lam"]))
    if kind == "lam":
        x = _binder(draw, prefer, env)
        return Lam(unsafe_binder(x), _build(draw, [*env, x], budget - 1, prefer))
    if kind == "redex":
        x = _binder(draw, prefer, env)
        left = draw(st.integers(2, budget - 2))
        body = _build(draw, [*env, x], left - 1, prefer)
        return App(Lam(unsafe_binder(x), body), _build(draw, env, budget - 1 - left, prefer))
    left = draw(st.integers(1, budget - 1))
    return App(_build(draw, env, left, prefer), _build(draw, env, max(1, budget - 1 - left), prefer))


@st.composite
def terms_in(draw: st.DrawFn, scope: Sequence[int], max_size: int = 24, prefer: Sequence[int] = (),
             min_size: int = 1) -> Term:
    """Terms whose free names are among ``scope``, their binders drawn from ``prefer`` and
    ``scope`` half of the time."""
    return _build(draw, list(scope), draw(st.integers(min(min_size, max_size), max_size)), prefer)


@st.composite
def images(draw: st.DrawFn, scope: Sequence[int], max_size: int = 10) -> Term:
    """What a substitution maps a name to: a name of ``scope`` about one time in six, else a term
    over ``scope`` with at least one λ."""
    if scope and draw(st.integers(0, 5)) == 5:
        return Var(unsafe_name(draw(st.sampled_from(scope))))
    term = _build(draw, list(scope), draw(st.integers(2, max(2, max_size))))
    if has_lam(term):
        return term
    return Lam(unsafe_binder(_binder(draw, (), scope)), term)


def wide_names() -> st.SearchStrategy[int]:
    """Names from 0 to ``scopes.LIMIT`` − 1, most within 3 of a boundary of the scope's
    representation: ``WIDE`` (bit set / trie), ``LIMIT``, and a multiple of the span of a trie
    leaf or node (2¹², 2¹⁷, 2²², 2²⁷), where a name's path through the trie changes."""
    spans = [1 << (LEAF_BITS + FAN_BITS * k) for k in range(LEVELS)]
    multiples = st.sampled_from(spans).flatmap(
        lambda span: st.integers(1, LIMIT // span - 1).map(span.__mul__))
    near = st.tuples(st.one_of(st.sampled_from([WIDE, LIMIT, *spans]), multiples), st.integers(-3, 3))
    return st.one_of(
        st.integers(0, 64),
        near.map(lambda edge: min(max(edge[0] + edge[1], 0), LIMIT - 1)),
        st.integers(0, LIMIT - 1),
    )


def scopes(min_size: int = 0) -> st.SearchStrategy[list[int]]:
    """Sets of raw names (as sorted lists)."""
    return st.lists(names, min_size=min_size, max_size=POOL, unique=True).map(sorted)


def closed_terms(max_size: int = 24) -> st.SearchStrategy[Term]:
    return terms_in([], max_size)


def open_terms(max_size: int = 24) -> st.SearchStrategy[Term]:
    """Terms with free names (any subset of the pool)."""
    return scopes(min_size=1).flatmap(lambda scope: terms_in(scope, max_size))


def scoped_terms(max_size: int = 24) -> st.SearchStrategy[tuple[list[int], Term]]:
    """``(Θ, e)`` with FV(e) ⊆ Θ."""
    return scopes().flatmap(lambda scope: st.tuples(st.just(scope), terms_in(scope, max_size)))


@st.composite
def substitutions(
    draw: st.DrawFn, max_size: int = 16
) -> tuple[list[int], dict[int, Term], list[int], Term]:
    """``(Θ_o, σ, Θ_i, e)``: FV(e) ⊆ Θ_i, σ maps some names of Θ_i to terms over Θ_o, and the
    names σ leaves alone are in Θ_o (SIb); FV(range σ) ⊆ Θ_o (SIa). The binders of e are drawn
    from Θ_o, FV(range σ) and dom σ half of the time: renaming and the delete happen."""
    theta_o = draw(scopes())
    domain = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    kept = draw(st.lists(st.sampled_from(theta_o), unique=True)) if theta_o else []
    theta_i = sorted(set(domain) | set(kept))
    sigma = {x: draw(images(theta_o, max_size // 2)) for x in domain}
    captured = sorted(set().union(*(free_names(v) for v in sigma.values())))
    term = draw(terms_in(theta_i, max_size, [*captured, *captured, *domain], min_size=max_size // 3))
    return theta_o, sigma, theta_i, term


def _free_indices(term: DB) -> set[int]:
    """The free indices of a de Bruijn term (at its top level)."""
    out: set[int] = set()
    stack: list[tuple[DB, int]] = [(term, 0)]
    while stack:
        t, depth = stack.pop()
        if isinstance(t, DVar):
            if t.index >= depth:
                out.add(t.index - depth)
        elif isinstance(t, DApp):
            stack.append((t.fun, depth))
            stack.append((t.arg, depth))
        else:
            stack.append((t.body, depth + 1))
    return out


def _rename(draw: st.DrawFn, term: DB, env: list[int]) -> Term:
    """A named term for ``term`` (free index k under the binders = ``env[-1-k]``), choosing each
    binder's name at random among those its body does not need."""
    if isinstance(term, DVar):
        return Var(unsafe_name(env[-1 - term.index]))
    if isinstance(term, DApp):
        return App(_rename(draw, term.fun, env), _rename(draw, term.arg, env))
    needed = {env[-1 - (k - 1)] for k in _free_indices(term.body) if k >= 1}
    choices = [x for x in range(POOL + 2) if x not in needed]
    x = draw(st.sampled_from(choices))
    return Lam(unsafe_binder(x), _rename(draw, term.body, [*env, x]))


@st.composite
def alpha_variants(draw: st.DrawFn, max_size: int = 24) -> tuple[Term, Term]:
    """``(e, e')`` with ``e ≡α e'``: ``e'`` re-chooses every binder's name (shadowing allowed)."""
    scope = draw(scopes())
    term = draw(terms_in(scope, max_size))
    context = sorted(set(scope) | free_names(term))
    return term, _rename(draw, to_debruijn(term, context), list(reversed(context)))


@st.composite
def alpha_substitutions(
    draw: st.DrawFn, max_size: int = 16
) -> tuple[list[int], dict[int, Term], dict[int, Term], list[int], Term, Term]:
    """``(Θ_o, σ, σ', Θ_i, e, e')`` as in ``substitutions`` with ``e ≡α e'`` and σ, σ'
    pointwise α-equivalent."""
    theta_o, sigma, theta_i, term = draw(substitutions(max_size))
    variant = _rename(draw, to_debruijn(term, theta_i), list(reversed(theta_i)))
    other = {x: _rename(draw, to_debruijn(v, theta_o), list(reversed(theta_o))) for x, v in sigma.items()}
    return theta_o, sigma, other, theta_i, term, variant


@st.composite
def substitution_chains(
    draw: st.DrawFn, max_size: int = 12
) -> tuple[list[int], dict[int, Term], list[int], dict[int, Term], list[int], Term]:
    """``(Θ_o, σ₂, Θ_m, σ₁, Θ_i, e)``: σ₁ from Θ_i to Θ_m, σ₂ from Θ_m to Θ_o, both meeting
    the rapier's invariants."""
    theta_m, sigma1, theta_i, term = draw(substitutions(max_size))
    theta_o = draw(scopes())
    kept = [x for x in theta_m if x in theta_o]
    domain = sorted(set(theta_m) - set(kept)) or draw(st.lists(names, min_size=1, max_size=2, unique=True))
    sigma2 = {x: draw(images(theta_o, max_size // 2)) for x in domain}
    return theta_o, sigma2, sorted(set(theta_m) | set(domain)), sigma1, theta_i, term


@st.composite
def lemma_cases(draw: st.DrawFn, max_size: int = 14) -> tuple[list[int], int, int, Term, Term, Term]:
    """``(S, x, y, e, a, b)`` for the substitution lemma: x ≠ y, neither in S; FV(e) ⊆ S ∪ {x, y},
    FV(b) ⊆ S ∪ {x}, FV(a) ⊆ S (so y ∉ FV(a))."""
    x, y = draw(st.lists(names, min_size=2, max_size=2, unique=True))
    base = draw(st.lists(st.sampled_from([n for n in range(POOL) if n not in (x, y)]), unique=True))
    a = draw(images(sorted(base), max_size // 2))
    b = draw(images(sorted({*base, x}), max_size // 2))
    clash = sorted({*base, x, y} | free_names(a) | free_names(b))
    term = draw(terms_in(sorted({*base, x, y}), max_size, clash))
    return sorted(base), x, y, term, a, b


def _positions(term: Term) -> list[tuple[Term, list[int]]]:
    """Every subterm with the names in scope there (free names first, then binders, innermost
    last), in prefix order."""
    out: list[tuple[Term, list[int]]] = []
    stack: list[tuple[Term, list[int]]] = [(term, sorted(free_names(term)))]
    while stack:
        t, env = stack.pop()
        out.append((t, env))
        if isinstance(t, App):
            stack += [(t.arg, env), (t.fun, env)]
        elif isinstance(t, Lam):
            stack.append((t.body, [*env, t.binder]))  # type: ignore[list-item]
    return out


def _replace(term: Term, target: Term, new: Term) -> Term:
    """``term`` with the subterm ``target`` (by identity) replaced by ``new``."""
    if term is target:
        return new
    if isinstance(term, App):
        return App(_replace(term.fun, target, new), _replace(term.arg, target, new))
    if isinstance(term, Lam):
        return Lam(term.binder, _replace(term.body, target, new))
    return term


@st.composite
def rebound(draw: st.DrawFn, term: Term) -> Term:
    """``term`` with its binding structure changed in one place and its shape kept: a binder
    renamed without its occurrences, two times in three (``λx. x`` becomes ``λy. x``: the
    occurrences are freed or caught by an outer x, the body's y is captured), or one occurrence
    made to refer to another name in scope."""
    spots = _positions(term)
    lams = [(t, env) for t, env in spots if isinstance(t, Lam)]
    occurrences = [(t, env) for t, env in spots if isinstance(t, Var) and len(set(env)) > 1]
    if lams and (not occurrences or draw(st.integers(0, 2)) < 2):
        lam, env = draw(st.sampled_from(lams))
        x: int = lam.binder  # type: ignore[assignment]
        unused = [y for y in range(POOL + 2) if y not in env and y != x]
        others = unused if draw(st.booleans()) else [y for y in range(POOL) if y != x]
        return _replace(term, lam, Lam(unsafe_binder(draw(st.sampled_from(others))), lam.body))
    if not occurrences:
        return term
    var, env = draw(st.sampled_from(occurrences))
    name: int = var.name  # type: ignore[assignment]
    other = draw(st.sampled_from(sorted(set(env) - {name})))
    return _replace(term, var, Var(unsafe_name(other)))


@st.composite
def alpha_pairs(draw: st.DrawFn, max_size: int = 16) -> tuple[Term, Term]:
    """Two terms of the same shape: α-variants (a third of the draws), or differing only in
    their binding structure (``rebound``), the second side's binders renamed or not, either way
    round: pairs like ``λx. x`` / ``λy. x`` with a binder fresh on one side only."""
    scope = draw(scopes())
    term = draw(terms_in(scope, max_size, list(scope)))
    other = term if draw(st.integers(0, 2)) == 0 else draw(rebound(term))
    if draw(st.booleans()):
        context = sorted(set(scope) | free_names(other))
        other = _rename(draw, to_debruijn(other, context), list(reversed(context)))
    return (term, other) if draw(st.booleans()) else (other, term)
