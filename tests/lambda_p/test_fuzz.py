"""The REPL under fuzzed input (``calculi.core.fuzz``): random text, mutations of the example files'
items, of the README's inputs and of λp's commands, deep nesting and huge numbers. Every input ends
in an answer or in λp's own error (never an internal one), every error about a term points into
it, and every input finishes within its fuel."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given

from calculi.core.fuzz import answer_located, feed, fuzzing, inputs, unlocated
from calculi.core.syntax import Source
from calculi.lambda_p.program import items
from calculi.lambda_p.tree import MAX_DEPTH

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "examples" / "lambda_p").glob("*.lp"))
README = [
    'runAmb (\\_. cs <- (for i:3. amb <"H", "T">); reduce (++) cs)',
    ':trace runReader 1 (\\_. for i:2. ask () + i)',
    ":desugar x <- 1; if x == 1 then <x, 2> else <>",
    ":variant pepm22",
    ":load examples/lambda_p/sum.lp",
]
COMMANDS = [":set jobs 2", ":set machine small-step", ":set fuel 100", ":defs", ":step 1 + 2", ":step",
            ":fulltrace (\\x. x) 1", ":type 1", ":help trace", ":variant icfp24",
            "def f x = case x of {Left a -> a | Right b -> b + 1}", "f (Right 2)",
            "handle {return -> \\s x. (s, x), tick -> \\s _ k. k (s + 1) ()} 0 (perform tick (); 5)",
            "runState 0 (\\_. for i:3. set i)", "<1, 2, 3>.(length <1, 2>)", 'show 12 ++ "!"']
EXAMPLES = [chunk.text for path in FILES for chunk in items(Source(path.read_text(encoding="utf-8")))]
EXAMPLES += README + COMMANDS


def check(text: str) -> None:
    answer_located("lambda_p", text)


@fuzzing(100)
@given(inputs(EXAMPLES))
def test_fuzzed_inputs_end_in_lambda_p_errors_with_positions(text: str) -> None:
    check(text)


@pytest.mark.slow
@fuzzing(2_000)
@given(inputs(EXAMPLES))
def test_many_fuzzed_inputs_end_in_lambda_p_errors_with_positions(text: str) -> None:
    check(text)


def _answer(*lines: str, fuel: int = 20_000) -> str:
    answers = feed("lambda_p", list(lines), fuel=fuel)
    assert unlocated(answers) == []
    return answers[-1].printed


BIG = "9" * 4301


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([BIG], "<input>:1:1: syntax error: integer literal of 4,301 digits is too long (at most 4,300)"),
        ([f"(-{BIG})"], "syntax error: integer literal of 4,301 digits is too long"),
        ([f":set jobs {BIG}"], "usage: :set jobs N"),
        ([":set jobs ²"], "usage: :set jobs N"),
        ([":set jobs 0"], "usage: :set jobs N"),
        (["def pow b n = if n == 0 then 1 else b * pow b (n - 1)", "pow 10 4400"], "1" + "0" * 4400),
        (["def pow b n = if n == 0 then 1 else b * pow b (n - 1)", "<1>.(pow 10 4400)"],
         "index 1" + "0" * 4400 + " out of range"),
        (["def pow b n = if n == 0 then 1 else b * pow b (n - 1)", "show (pow 10 4400)"],
         '"1' + "0" * 4400 + '"'),
        (["iota 100000000"], "out of fuel: no result after 20,000 steps"),
        (["for i:100000000. i"], "out of fuel: no result after 20,000 steps"),
        (["(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1)],
         f"<input>:1:{MAX_DEPTH + 1}: syntax error: nested too deeply (more than {MAX_DEPTH:,} levels)"),
        (["handle {return -> \\x. x} (" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1)],
         "syntax error: nested too deeply"),
        ([":load ~nosuchuser/x.lp"], "usage: cannot read ~nosuchuser/x.lp"),
    ],
    ids=["literal", "negative literal", "jobs huge", "jobs superscript", "jobs zero", "huge result",
         "huge index", "huge shown", "iota past the fuel", "for past the fuel", "parentheses too deep",
         "handlers too deep", "no such user"],
)
def test_huge_and_deep_inputs_get_located_errors(lines: list[str], expected: str) -> None:
    assert expected in _answer(*lines)


NESTINGS = {"binders": ("\\x. ", "x", ""), "conditionals": ("if True then ", "1", " else 0"),
            "sums": ("1 + ", "1", "")}


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(NESTINGS))
def test_nesting_past_the_limit_is_a_located_error_and_just_below_it_runs(shape: str) -> None:
    opening, inner, closing = NESTINGS[shape]
    for n, runs in ((MAX_DEPTH - 5, True), (MAX_DEPTH + 5, False)):
        printed = _answer(opening * n + inner + closing * n, fuel=10**7)
        assert ("nested too deeply" not in printed) == runs, printed[:200]
