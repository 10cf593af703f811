"""The classic capture cases (reference note §6) against the foil and every baseline.

The naive baseline must fail the capture cases: that is what shows these tests have teeth.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from calculi.foil import alpha_equiv, normalize, parse, to_debruijn
from calculi.foil.baselines import always_rename, naive, rapier
from calculi.foil.baselines import debruijn as db
from calculi.foil.core import raw, unsafe_name, unsafe_scope
from calculi.foil.names import intern
from calculi.foil.substitution import substitute
from calculi.foil.syntax import Expr, Lam, Var, free_names

Term = Expr[Any]
Normalizer = Callable[[Term], Term]


def _db(term: Term) -> Term:
    from calculi.foil import from_debruijn, scope_of

    return from_debruijn(db.normalize(to_debruijn(term)), scope_of(term))


NORMALIZERS: dict[str, Normalizer] = {
    "foil": normalize,
    "rapier": rapier.normalize,
    "always_rename": always_rename.normalize,
    "debruijn": _db,
}

# (name, term, expected normal form up to α, does naive substitution capture here?)
CASES = [
    ("K applied to a free y", r"(\x.\y.x) y", r"\z. y", True),
    (r"[y/x](\y.x)", r"(\x.\y.x) y", r"\y1. y", True),
    ("shadowing: inner x is the inner binder's", r"(\x.\x.x) a", r"\x. x", False),
    ("capture10's first shape", r"\x0.(\x1.\x0.x1) (\x2.x0)", r"\x0.\x2.\x2.x0", True),
    ("Weirich's running example", r"\w.\x.(\y. w y (\x. w y (\x. w y))) (x x x)",
     r"\w.\x. w (x x x) (\a. w (x x x) (\b. w (x x x)))", True),
    ("a binder repeating an outer raw name after sinking",
     r"\x1.(\x0.\x1.x0 x1) x1", r"\x1.\x2. x1 x2", True),
    ("fresh name collides with a free variable (x')", r"(\x.\y.\z. x y z) (y z)",
     r"\a.\b. y z a b", True),
    ("deeper capture10 variant", r"\x0.\x1.(\x2.\x0.\x1.x2) (x0 x1)", r"\x0.\x1.\a.\b. x0 x1", True),
]


@pytest.mark.parametrize("name", list(NORMALIZERS))
@pytest.mark.parametrize(("label", "term", "expected", "captures"), CASES, ids=[c[0] for c in CASES])
def test_correct_normalizers_avoid_capture(
    name: str, label: str, term: str, expected: str, captures: bool
) -> None:
    out = NORMALIZERS[name](parse(term, free=True))
    assert alpha_equiv(out, parse(expected, free=True)), label


@pytest.mark.parametrize(("label", "term", "expected", "captures"), CASES, ids=[c[0] for c in CASES])
def test_naive_substitution_fails_exactly_the_capture_cases(
    label: str, term: str, expected: str, captures: bool
) -> None:
    out = naive.normalize(parse(term, free=True))
    assert alpha_equiv(out, parse(expected, free=True)) is not captures, label


def test_naive_captures_the_textbook_example_visibly() -> None:
    out = naive.normalize(parse(r"(\x.\y.x) y", free=True))
    assert alpha_equiv(out, parse(r"\y. y"))  # the identity: y was captured


def _subst(scope: list[str], mapping: dict[str, str], term: str) -> Term:
    bits = 0
    for name in scope:
        bits |= 1 << intern(name)
    table: Any = {intern(k): parse(v, free=True) for k, v in mapping.items()}
    return substitute(unsafe_scope(bits), table, parse(term, free=True))


def test_sib_ghc_11371() -> None:
    """[a ↦ M b](λb. a b x) with Θ = {b, x, M}: the renamed binder must avoid x as well."""
    out = _subst(["M", "b", "x"], {"a": "M b"}, r"\b. a b x")
    assert alpha_equiv(out, parse(r"\c. M b c x", free=True))
    assert isinstance(out, Lam)
    assert raw(out.binder) not in {intern(n) for n in ("M", "b", "x")}


def test_sia_range_names_force_renaming() -> None:
    """[a ↦ M b](λb. b a) must rename b."""
    out = _subst(["M", "b"], {"a": "M b"}, r"\b. b a")
    assert alpha_equiv(out, parse(r"\c. c (M b)", free=True))


def test_apply_once_swap() -> None:
    """The simultaneous [a ↦ b, b ↦ a] on (a b) gives (b a); applying it again gives (a b)."""
    once = _subst(["a", "b"], {"a": "b", "b": "a"}, "a b")
    assert once == parse("b a", free=True)
    table: Any = {intern("a"): parse("b", free=True), intern("b"): parse("a", free=True)}
    twice = substitute(unsafe_scope(1 << intern("a") | 1 << intern("b")), table, once)
    assert twice == parse("a b", free=True)


def test_alpha_cases() -> None:
    assert alpha_equiv(parse(r"\x0.\x1.x1"), parse(r"\x1.\x0.x0"))
    assert not alpha_equiv(parse(r"\z.x", free=True), parse(r"\y.\w.x", free=True))
    assert not alpha_equiv(parse(r"\x.\y.x"), parse(r"\x.\y.y"))
    assert not alpha_equiv(parse(r"\x.y", free=True), parse(r"\y.y"))


def test_unsubstituted_names_are_reused_not_rebuilt() -> None:
    term = parse(r"\y. x y", free=True)
    free_x = intern("x")
    out = _subst(["x", "z"], {"z": "x"}, r"\y. x y")
    assert out == term
    assert free_names(out) == {free_x}
    assert Var(unsafe_name(free_x)) == parse("x", free=True)


def test_run_time_checks_catch_broken_invariants() -> None:
    """With FOIL_CHECKS=1 (set by the test suite) the public substitute checks SIa and SIb."""
    from calculi.core.errors import ScopeError
    from calculi.foil import core
    from calculi.foil import substitute as checked

    assert core.CHECKS
    term = parse(r"\y. x y", free=True)
    sia: Any = {intern("x"): parse("z", free=True)}
    with pytest.raises(ScopeError, match="SIa"):
        checked(unsafe_scope(1 << intern("q")), sia, term)
    sib: Any = {intern("w"): parse("z", free=True)}
    with pytest.raises(ScopeError, match="SIb"):
        checked(unsafe_scope(1 << intern("z")), sib, term)
    with pytest.raises(ScopeError, match="Distinct"):
        core.extend_scope(core.unsafe_binder(3), unsafe_scope(1 << 3))


def test_name_map_lookup_outside_its_scope_is_a_scope_error() -> None:
    from calculi.core.errors import ScopeError
    from calculi.foil import core

    names: core.NameMap[Any, str] = core.add_name_binder(core.unsafe_binder(0), "a", core.empty_name_map())
    assert core.lookup_name(core.unsafe_name(0), names) == "a"
    with pytest.raises(ScopeError, match="not total"):
        core.lookup_name(core.unsafe_name(5), names)
