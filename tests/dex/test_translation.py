"""Dex translated into λp: worked programs give the same value in both calculi, the effects become
the prelude's handlers and λp's ``for``, and what cannot be translated is refused with a reason."""

from __future__ import annotations

from fractions import Fraction

import pytest

from calculi.core.syntax import Source
from calculi.dex.check import check
from calculi.dex.parse import parse_program
from calculi.dex.semantics import evaluate
from calculi.dex.to_lambda_p import Untranslatable, run_in_lambda_p, translate
from calculi.dex.values import show_value

AGREE = [
    ("1.5 + 2.0 * 3.0 - 0.25", "7.25"),
    ("let x = for i:Fin 3. to_real (ordinal i) in for i. x.i * 2.0", "[0.0, 2.0, 4.0]"),
    ("run_accum Real \\r. for i:Fin 3. r += 1.5", "([(), (), ()], 4.5)"),
    ("run_state 0 \\s. for i:Fin 3. s := get s + 1", "([(), (), ()], 3)"),
    ("with_reader 2.0 \\r. run_state 0.0 \\s. for i:Fin 3. s := get s + ask r; get s",
     "([2.0, 4.0, 6.0], 6.0)"),
    ("run_accum (Fin 2=>Real) \\r. run_state 1.0 \\s. for i:Fin 2. r!i += get s; s := get s * 2.0",
     "(([(), ()], 4.0), [1.0, 2.0])"),
    ("snd (run_accum (Fin 3=>Real) \\r. for i:(Fin 2, Fin 3). r!(snd i) += 1.0)", "[2.0, 2.0, 2.0]"),
    ("let t = for p:(Fin 2, Fin 3). to_real (ordinal (fst p)) - to_real (ordinal (snd p)) in "
     "for i. for j. t.(i, j)", "[[0.0, -1.0, -2.0], [1.0, 0.0, -1.0]]"),
    ("case blue@{red|blue} of red -> 1 | blue -> 2", "2"),
    ("snd (run_accum (Fin 2=>Fin 2=>Real) \\r. for i:Fin 2. for j:Fin 2. r!i!j += 1.0; "
     "r!j!i += 0.5)", "[[1.5, 1.5], [1.5, 1.5]]"),
    ("if 1.0 < 2.0 then -3 else 4 % 3", "-3"),
    ("snd (run_accum Real \\r. with_reader 3.0 \\q. for i:Fin 4. r += ask q)", "12.0"),
    ("for i:Fin 3. snd (run_state 1.0 \\s. for j:Fin 2. s := get s * to_real (ordinal i))",
     "[0.0, 1.0, 4.0]"),
    ("let f = \\x:Real. x / 4.0 in (f 1.0, (floor (f 10.0), (3 == 3, 1.0 / (0.0 - 8.0))))",
     "(0.25, (2, (True, -0.125)))"),
]


@pytest.mark.parametrize(("text", "value"), AGREE, ids=[t for t, _ in AGREE])
def test_both_calculi_give_the_same_value(text: str, value: str) -> None:
    expr = parse_program(Source(text))
    checked = check(expr)
    want = evaluate(expr, parallel=checked.parallel)
    assert show_value(want, checked.type) == value
    assert run_in_lambda_p(expr, checked) == want
    assert run_in_lambda_p(expr, checked, machine="small-step") == want


def test_handlers_become_the_preludes_and_accumulation_lambda_ps_for() -> None:
    text = translate(parse_program(Source("run_accum Real \\r. for i:Fin 3. r += 1.0")))
    assert text.startswith("(runAccum dexAdd (0, 1) ") and "(for k:3. " in text
    text = translate(parse_program(Source("run_state 0.0 \\s. for i:Fin 3. s := get s + 1.0")))
    assert text.startswith("(runState ") and "(for k:" not in text and "(generate " in text
    assert "dexPut" in text and "dexGet" in text
    text = translate(parse_program(Source("with_reader 1.0 \\r. ask r")))
    assert text.startswith("(runReader ") and "dexAsk" in text


def test_an_accumulation_under_run_state_is_translated_sequentially() -> None:
    """λp's runState keeps its parameter per iteration of a for it traverses (and runAccum runs
    its iterations in a for): so under a run_state an accumulating for becomes ``generate``."""
    text = "run_state 1.0 \\s. snd (run_accum Real \\r. for k:Fin 2. r += 3.5)"
    expr = parse_program(Source(text))
    assert "(for k:" not in translate(expr)
    assert run_in_lambda_p(expr) == (Fraction(7), Fraction(1))


REFUSED = [
    ("exp 1.0", "exp has no exact value"),
    ("let x = 2.0 in for i:Fin 2. sqrt x", "sqrt has no exact value"),
    ("run_accum Real \\r. run_accum Real \\s. r += 1.0", "r is used under run_accum \\s"),
    ("with_reader 1.0 \\r. with_reader 2.0 \\q. ask r", "r is used under with_reader \\q"),
    ("run_state 1.0 \\r. let f = \\x:Real. r := x in run_state 2.0 \\s. f 3.0",
     "r is used under run_state \\s"),
]


@pytest.mark.parametrize(("text", "reason"), REFUSED, ids=[t for t, _ in REFUSED])
def test_what_has_no_translation_is_refused_with_a_reason(text: str, reason: str) -> None:
    expr = parse_program(Source(text))
    with pytest.raises(Untranslatable) as info:
        translate(expr)
    assert reason in info.value.reason, info.value.render()
    assert info.value.span is not None
