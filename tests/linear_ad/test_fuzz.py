"""The REPL under fuzzed input (``calculi.core.fuzz``): random text, mutations of the example files
(whole and line by line), of the README's inputs, of the golden programs and of Linear A's
commands, deep nesting and huge numbers. Every input ends in an answer or in Linear A's own error
(never an internal one), every error about input text points into it, and every input finishes
within its fuel."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given

from calculi.core.fuzz import answer_located, feed, fuzzing, inputs, unlocated
from calculi.core.registry import open_session
from calculi.linear_ad.syntax import MAX_DEPTH
from calculi.repl import Repl

ROOT = Path(__file__).resolve().parents[2]
FILES = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples" / "linear_ad").glob("*.la"))]
LINES = [line for text in FILES for line in text.splitlines() if line.strip() and not line.startswith("#")]
README = ["def f(x: R, y: R) -> R = sin(x) * y", ":jvp f", ":grad f 1.5 2.0", ":unzip f recompute-all",
          ":load examples/linear_ad/tour.la"]
GOLDEN = ["def f(x: R, y: R) -> R = let (;) = drop(y) in 3.0 * x + 2.0",
          "def f(x: R ; dx: R) -> (R ; R) = let (; dy) = sin(x) *. dx (+) 0 in (x ; dy)",
          "def f(x: ℝ ; ẋ: ℝ) → (ℝ ; ℝ) = let (; ẏ) = sin(x) ⊙ ẋ ⊕ 0 in (x ; ẏ)",
          "def g(s: R ; dx: R, dy: R) -> (; R, R) = let (; a, b) = dup(dx) in (; s *. a (+) dy, b)"]
COMMANDS = [":transpose g", ":vjp f save-sin", ":cost f 0.5 0.25", ":step g 1.0 ; 2.0", ":step",
            ":trace g(1.0 ; 2.0)", "g(1.0 ; 2.0)", "f 1.5 2.0", ":type g", ":defs", ":help grad",
            ":set ascii on", ":set fuel 100", ":grad f (1.0, 2.0)", ":jvp f 1.5 2.0 ; 1.0 0.0",
            ":vjp f 1.5 -2e-3 ; 1.0", ":grad f 1.5 2.0 --wrt 2,1"]
DEEP = ["def h(x: R) -> R = " + " + ".join(["x"] * (MAX_DEPTH + 50)),
        "def h(x: R) -> R = " + "sin(" * (MAX_DEPTH + 50) + "x" + ")" * (MAX_DEPTH + 50),
        "def h(x: R) -> R = " + "let y = " * (MAX_DEPTH + 50) + "x" + " in y" * (MAX_DEPTH + 50),
        "def h(x: " + "(" * (MAX_DEPTH + 50) + "R" + ",)" * (MAX_DEPTH + 50) + ") -> (;) = drop(x)",
        "f(" + "(" * (MAX_DEPTH + 50) + "1.0" + ")" * (MAX_DEPTH + 50) + ", 2.0)",
        "def h(x: R) -> R = " + "".join(f"let x{i + 1} = sin(x{i}) in " for i in range(300)).replace(
            "(x0)", "(x)") + "x300"]
HUGE = ["def h(x: R) -> R = x * " + "9" * 4301, "f(" + "9" * 4301 + ", 1.0)", ":grad f 1e99999 2",
        ":cost f 0.5 " + "9" * 4301]
EXAMPLES = FILES + LINES + README + GOLDEN + COMMANDS + DEEP + HUGE
PRELUDE = ["def f(x: R, y: R) -> R = sin(x) * y", "def g(s: R ; dx: R) -> (; R) = s *. dx"]


def check(text: str) -> None:
    answer_located("linear_ad", text, PRELUDE)


@fuzzing(100)
@given(inputs(EXAMPLES))
def test_fuzzed_inputs_end_in_linear_ad_errors_with_positions(text: str) -> None:
    check(text)


@pytest.mark.slow
@fuzzing(2_000)
@given(inputs(EXAMPLES))
def test_many_fuzzed_inputs_end_in_linear_ad_errors_with_positions(text: str) -> None:
    check(text)


def _answer(*lines: str, fuel: int = 20_000) -> str:
    answers = feed("linear_ad", [*PRELUDE, *lines], fuel=fuel)
    assert unlocated(answers) == [], [a.printed for a in unlocated(answers)]
    return answers[-1].printed


BIG = "9" * 4301
CHAIN = "def h0(x: R) -> R = sin(x)\n" + "".join(
    f"def h{i}(x: R) -> R = let y = h{i - 1}(x) in y * x\n" for i in range(1, MAX_DEPTH // 2 + 10))


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([f"def h(x: R) -> R = x * {BIG}"],
         "<input>:1:24: syntax error: integer literal of 4,301 digits is too long (at most 4,300)"),
        ([f"def h(x: R) -> R = x * {BIG}.5"], "<input>:1:24: syntax error: number literal of 4,302 digits"),
        (["def h(x: R) -> R = x * 1e99999"], "<input>:1:24: syntax error: the exponent e99999 of a number"),
        ([f"f({BIG}, 1.0)"], "<input>:1:3: syntax error: integer literal of 4,301 digits is too long"),
        ([f":grad f {BIG} 1.0"], "<input>:1:3: syntax error: integer literal of 4,301 digits is too long"),
        ([":grad f 1.0"], "<input>:1:3: usage: f takes 2 non-linear and 0 linear arguments, got 1 ; 0"),
        ([":grad g 1.0"], "<input>:1:1: usage: grad needs a function with one ℝ result"),
        ([":grad nope 1.0"], "<input>:1:1: unbound name: no function named nope (defined: f, g)"),
        ([":unzip f nonsense"], "<input>:1:3: usage: unknown policy nonsense"),
        ([":jvp f f"], "<input>:1:3: usage: unexpected f; usage: :jvp f"),
        ([":cost g"], "<input>:1:1: usage: g is linear; :cost measures the stages of a non-linear function"),
        ([":step f 1.0 x"], "<input>:1:7: syntax error: expected a number or a tuple of numbers"),
        (["x + y"], "<input>:1:1: unbound name: no function named x (defined: f, g)"),
        (["(x ; dx)"], "<input>:1:1: syntax error: expected a definition 'def f(...) -> ... = ...', a call"),
        (["let y = f(x) in y"], "<input>:1:1: syntax error: expected a definition"),
        (["f(1.0, 2.0"], "<input>:1:10: syntax error: expected ')'"),
        (["sin(1.0)"], "<input>:1:1: unbound name: no function named sin (defined: f, g)"),
        ([":type nope"], "<input>:1:1: unbound name: no function named nope"),
        ([":set fuel ²"], "usage: :set fuel N"),
        ([":load ~nosuchuser/x.la"], "usage: cannot read ~nosuchuser/x.la"),
        ([":set fuel 3", "f(1.0, 2.0)"], "<input>:1:35: out of fuel: no result after 3 steps"),
        (["def h(x: R) -> R = " + "sin(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1)],
         f"syntax error: expression nested too deeply (more than {MAX_DEPTH:,} levels); bind"),
        (["def h(x: " + "(" * (MAX_DEPTH + 1) + "R" + ")" * (MAX_DEPTH + 1) + ") -> (;) = drop(x)"],
         "syntax error: type nested too deeply"),
        (["f(" + "(" * (MAX_DEPTH + 1) + "1.0" + ")" * (MAX_DEPTH + 1) + ", 2.0)"],
         "syntax error: value nested too deeply"),
        ([CHAIN], "type error [App]: the call of h499 nests too deeply"),
    ],
    ids=["literal", "decimal literal", "exponent", "call argument", "grad argument", "grad arity",
         "grad of a linear function", "grad of nothing", "policy", "extra word", "cost of a linear function",
         "step argument", "expression", "tuple", "let", "unclosed call", "primitive", "type of nothing",
         "fuel setting", "no such user", "out of fuel", "nesting", "type nesting", "value nesting",
         "call chain"],
)
def test_huge_deep_and_mistyped_inputs_get_located_errors(lines: list[str], expected: str) -> None:
    assert expected in _answer(*lines)


def test_tab_completion_offers_the_functions_defined() -> None:
    repl = Repl(open_session("linear_ad"), io.StringIO(), strict=True)
    assert list(repl.session.names()) == []
    for line in [*PRELUDE, "def square(x: R) -> R = x * x", "def sum2(x: R, y: R) -> R = x + y"]:
        repl.handle(line)
    assert sorted(repl.session.names()) == ["f", "g", "square", "sum2"]
    assert repl.completions("sq") == ["square"]
    assert repl.completions(":grad s") == ["square", "sum2"]
    assert repl.completions(":vjp q") == []
