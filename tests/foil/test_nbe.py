"""Normalisation by evaluation (calculi/foil/nbe.py): the lambda-n-ways goldens (the random files
in full in the slow tier), fuel, sharing, deep terms, names from hints, and the printer's names
for renamed binders."""

from __future__ import annotations

from typing import Any

import pytest

from calculi.core.errors import CalculusError, FuelExhausted
from calculi.core.trace import Fuel
from calculi.foil import alpha_equiv, intern, normalize, parse, pretty
from calculi.foil.bench import scott_sum
from calculi.foil.nbe import normalize_by_evaluation
from calculi.foil.scaling import FAMILIES
from calculi.foil.syntax import Expr, Lam, flat
from tests.foil.test_lambda_n_ways import FIXED, RANDOM, pair, pairs


@pytest.mark.parametrize("name", FIXED)
def test_every_term_of_the_fixed_files_normalises_to_its_golden(name: str) -> None:
    for index, (term, normal) in enumerate(pairs(name)):
        assert alpha_equiv(normalize_by_evaluation(term), normal), f"{name} #{index + 1}"


@pytest.mark.parametrize("name", RANDOM)
def test_every_tenth_random_term_including_those_substitution_finds_slow(name: str) -> None:
    for index in range(0, 100, 10):
        term, normal = pair(name, index)
        assert alpha_equiv(normalize_by_evaluation(term), normal), f"{name} #{index + 1}"


@pytest.mark.slow
@pytest.mark.parametrize("name", RANDOM)
def test_every_random_file_in_full(name: str) -> None:
    for index, (term, normal) in enumerate(pairs(name)):
        assert alpha_equiv(normalize_by_evaluation(term), normal), f"{name} #{index + 1}"


def nbe(text: str) -> str:
    return pretty(normalize_by_evaluation(parse(text, free=True)))


def test_capture_cases_and_names_from_hints() -> None:
    assert nbe(r"(\x. \y. x) y") == r"\y1. y"
    assert nbe(r"(\x. \y. \y1. x) (y y1)") == r"\y2. \y3. y y1"
    assert nbe(r"\y. (\x. \y. x) y") == r"\y. \y1. y"
    assert nbe(r"(\x. \x. x) a") == r"\x. x"
    assert nbe(r"\x0. (\x1. \x0. x1) (\x2. x0)") == r"\x0. \x1. \x2. x0"
    assert pretty(normalize(parse(r"(\x. \y. x) y", free=True))) == r"\y1. y"


def test_printed_names_do_not_depend_on_what_the_process_interned_before() -> None:
    term = r"(\x. \y. \y1. \z. x z) (y y1)"
    before = (nbe(term), pretty(normalize(parse(term, free=True))))
    for k in range(2, 40):
        intern(f"y{k}")
        intern(f"z{k}")
    after = (nbe(term), pretty(normalize(parse(term, free=True))))
    assert before == after == (r"\y2. \y3. \z. y y1 z",) * 2


def test_a_renamed_binder_prints_apart_from_every_other_name_and_parses_back() -> None:
    out = normalize_by_evaluation(parse(r"(\f. \y1. \y. f y y1) (\a. \b. y)", free=True))
    text = pretty(out)
    assert text == r"\y1. \y2. y"
    assert alpha_equiv(parse(text, free=True), out)
    assert flat(out) == text and repr(out) == f"Lam<{text}>"


def test_fuel_counts_beta_steps_and_sharing_saves_them() -> None:
    term = parse(r"(\x. x x) ((\y. y) (\z. z))")
    shared, copied = Fuel(100), Fuel(100)
    assert alpha_equiv(normalize_by_evaluation(term, shared), normalize(term, copied))
    assert (shared.used, copied.used) == (3, 4)  # the argument is evaluated once, not twice


@pytest.mark.parametrize("text", [r"(\x. x x) (\x. x x)", r"\f. (\x. f (x x)) (\x. f (x x))",
                                  r"(\f. (\x. f (x x)) (\x. f (x x))) (\y. y)"])
def test_a_divergent_term_ends_with_a_located_fuel_error(text: str) -> None:
    with pytest.raises(FuelExhausted) as caught:
        normalize_by_evaluation(parse(text), 2_000)
    assert caught.value.span is not None and caught.value.span.start >= 0


@pytest.mark.slow
@pytest.mark.parametrize("text", [r"\f. (\x. f (x x)) (\x. f (x x))", r"(\x. x x) (\x. x x)"])
def test_past_the_room_for_recursion_a_calculus_error_not_a_recursion_error(text: str) -> None:
    with pytest.raises(CalculusError) as caught:
        normalize_by_evaluation(parse(text), 10_000_000)
    assert caught.value.span is not None and "β-steps" in str(caught.value)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_ten_thousand_deep_terms(family: str) -> None:
    term = parse(FAMILIES[family](10_000))
    assert alpha_equiv(normalize_by_evaluation(term), normalize(term))


def test_scott_numerals_with_a_fixpoint_agree_with_substitution() -> None:
    term = parse(scott_sum(12))
    shared, copied = Fuel(10**7), Fuel(10**7)
    out = normalize_by_evaluation(term, shared)
    assert alpha_equiv(out, normalize(term, copied))
    assert shared.used < copied.used
    numeral: Expr[Any] = out
    count = 0
    while isinstance(numeral, Lam) and isinstance(numeral.body, Lam):
        count += 1
        body = numeral.body.body
        numeral = body.arg if hasattr(body, "arg") else body
    assert count == 12 * 13 // 2 + 1  # the numeral 78: 78 successors around zero
