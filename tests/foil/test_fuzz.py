"""The REPL under fuzzed input (``calculi.core.fuzz``): random text, mutations of lambda-n-ways
terms, of the README's inputs and of the foil's commands, deep nesting and huge numbers. Every
input ends in an answer or in the foil's own error (never an internal one), every error about a
term points into it, and every input finishes within its fuel."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given

from calculi.core.fuzz import answer_located, feed, fuzzing, inputs, unlocated
from calculi.foil.parse import split_terms

ROOT = Path(__file__).resolve().parents[2]
FILES = ["capture10", "constructed20", "t1", "t2", "t3"]
README = [r"(\x. \y. x) y", ":step", r":whnf (\x. x) (\y. (\z. z) y)", r":alpha (\x.x) (\y.y)",
          r":debruijn \x. \y. x", r":load data/lambda-n-ways/capture10.lam"]
COMMANDS = [":set fuel 100", ":set open off", ":set open on", r":step (\x. x x) (\y. y)",
            r":trace (\x.\y.x) a b", r":trace (\x. x x) (\x. x x)", r":nf (\f. \x. f (f x)) (\f. \x. f x)",
            r":subst \y. x [x := y, y := \z. z]", r":alpha (\x. x) (\y. x)", r":alpha (f x) y",
            r"let id = \x. x; k = \a. \b. a in k id", ":type x", ":help subst", r"\x1.\x1. x1 x100000000000"]
EXAMPLES = [chunk for name in FILES
            for _, chunk in split_terms((ROOT / "data" / "lambda-n-ways" / f"{name}.lam").read_text())]
EXAMPLES += README + COMMANDS


def check(text: str) -> None:
    answer_located("foil", text)


@fuzzing(100)
@given(inputs(EXAMPLES))
def test_fuzzed_inputs_end_in_foil_errors_with_positions(text: str) -> None:
    check(text)


@pytest.mark.slow
@fuzzing(2_000)
@given(inputs(EXAMPLES))
def test_many_fuzzed_inputs_end_in_foil_errors_with_positions(text: str) -> None:
    check(text)


def _answer(*lines: str, fuel: int = 20_000) -> str:
    answers = feed("foil", list(lines), fuel=fuel)
    assert unlocated(answers) == []
    return answers[-1].printed


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["x100000000000"], "x100000000000"),
        ([r"(\x100000000000. x100000000000) y"], "y"),
        (["9" * 4301], "<input>:1:1: syntax error: unexpected character '9'"),
        ([":set fuel ²"], "usage: :set fuel N"),
        ([":set fuel -5"], "usage: :set fuel N"),
        ([":load ~nosuchuser/x"], "usage: cannot read ~nosuchuser/x"),
        ([r":alpha (\x.x) (\y.y) (\z.z)"], "usage: :alpha A B takes two terms"),
        ([r":alpha (f x) y"], "not α-equivalent"),
        ([r":alpha (\x. x) (\y. x)"], "not α-equivalent"),
        ([r":subst x [x := a, x := b]"], "x is given twice"),
        ([":set fuel 7", r":trace (\x. x x) (\x. x x)"], "<input>:1:1: out of fuel: no result after 7 steps"),
        ([":set fuel 50", r"(\x. x x) (\x. x x)"], "<input>:1:12: out of fuel: no result after 50 steps"),
    ],
)
def test_the_cases_fuzzing_found(lines: list[str], expected: str) -> None:
    assert expected in _answer(*lines)


def test_a_trace_stops_at_its_own_limit_below_the_fuel(monkeypatch: pytest.MonkeyPatch) -> None:
    from calculi.foil import semantics

    monkeypatch.setattr(semantics, "TRACE_STEPS", 40)
    out = _answer(r":trace (\x. x x) (\x. x x)").splitlines()
    assert len(out) == 1 + 40 + 3
    assert out[-3].startswith("<input>:1:1: out of fuel: no normal form after 40 steps; a trace shows at "
                              "most 40")


@pytest.mark.slow
def test_a_trace_of_omega_ends_after_ten_thousand_steps() -> None:
    out = _answer(r":trace (\x. x x) (\x. x x)").splitlines()
    assert len(out) == 1 + 10_000 + 3
    assert "no normal form after 10,000 steps" in out[-3]


def test_a_huge_numbered_name_is_one_more_dense_name() -> None:
    from calculi.foil.names import SPELLINGS, intern

    assert intern("x100000000000") <= len(SPELLINGS)
    assert _answer(r"\x100000000000. \x99999999999999999999. x100000000000").splitlines() == [
        r"\x100000000000. \x99999999999999999999. x100000000000"]
