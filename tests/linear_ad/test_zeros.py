"""Symbolic zeros and saved pullback coefficients: golden rewrites, and the work they save."""

from __future__ import annotations

import math

import pytest

from calculi.linear_ad.ad import grad, jvp, linearize, load, stages, vjp
from calculi.linear_ad.bench import chain, fan_out
from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.eval import evaluate, function_work
from calculi.linear_ad.pretty import show_program
from calculi.linear_ad.unzip import POLICIES, lin_name
from calculi.linear_ad.zeros import leftover_zeros, zeros_program


def zeroed(text: str) -> tuple[Typing, Typing]:
    before = load(text)
    return before, check_program(zeros_program(before))


@pytest.mark.parametrize(("text", "expected", "leftover"), [
    ("def f(s: R ; dx: R) -> (; R) = let (; z) = 0 in let (; a) = s *. z in a (+) dx",
     "def f(s: R ; dx: R) -> ( ; R) = let (;) = drop((s ;)) in dx", "f: scale of a zero"),
    ("def f(s: R ; dx: R) -> (; R) = let (; z) = 0 in let (; a) = s *. dx in z (+) a",
     "def f(s: R ; dx: R) -> ( ; R) = let (; a) = s *. dx in a", "f: ladd of a zero"),
    ("def f(s: R ; dx: R) -> (; R, R) = let (; z) = 0 in let (; a, b) = dup(z) in let (;) = drop(a) in "
     "let (; c) = s *. dx in (; b, c)",
     "def f(s: R ; dx: R) -> ( ; R, R) = let (; c) = s *. dx in let (; dz) = 0 in (; dz, c)",
     "f: dup of a zero"),
    ("def f(s: R ; dx: R) -> (; R, R) = let (; z) = 0 in let (; w) = 0 in let (; t) = tupL(z, w) in "
     "let (p, q) = unpackL t in let (; r) = 2.0 *. p (+) q in let (; c) = s *. dx in (; r, c)",
     "def f(s: R ; dx: R) -> ( ; R, R) = let (; c) = s *. dx in let (; dz) = 0 in (; dz, c)",
     "f: tupL of zeros"),
])
def test_golden_rewrites(text: str, expected: str, leftover: str) -> None:
    before, after = zeroed(text)
    assert show_program(after.program, unicode=False) == expected
    assert leftover in leftover_zeros(before)
    assert leftover_zeros(after) == []
    n = len(before.signatures["f"].lparams)
    assert evaluate(after, "f", [1.5], [2.0] * n) == evaluate(before, "f", [1.5], [2.0] * n)
    assert function_work(after, "f") < function_work(before, "f")


def test_a_call_keeps_its_zero_argument() -> None:
    """Calls are left alone: the zero argument is instantiated where the call needs a variable."""
    text = "def g(s: R ; dx: R, dy: R) -> (; R) = s *. dx (+) dy\n" \
           "def f(s: R ; dx: R) -> (; R) = let (; z) = 0 in g(s ; dx, z)"
    before, after = zeroed(text)
    assert show_program(after.program) == show_program(before.program)


def test_literal_tangents_vanish_from_the_jvp() -> None:
    typing = load("def f(x: R) -> R = let c = 3.0 in x * c + sin(c)")
    j = jvp(typing, "f")
    z = jvp(typing, "f", zeros=True)
    shown = show_program(z.program, unicode=False)
    assert " 0 " not in shown and "cos" not in shown and "(+)" not in shown
    assert function_work(z, "f.jvp") < function_work(j, "f.jvp")
    assert evaluate(z, "f.jvp", [0.5], [1.0]) == evaluate(j, "f.jvp", [0.5], [1.0])


def test_zeros_in_the_pipeline_keep_the_gradient() -> None:
    typing = load("def f(x: R, y: R) -> R = let c = 2.0 in let t = tup(c, x) in let (a, b) = unpack t in "
                  "sin(a * b) * y + exp(c)")
    xs = [0.7, -1.25]
    plain, zero = vjp(typing, "f", xs), vjp(typing, "f", xs, st=stages(typing, "f", zeros=True))
    assert plain.value == zero.value
    assert plain.pull([1.0]) == zero.pull([1.0])


def test_fan_out_work_ratio_before_and_after() -> None:
    """fan-out has a literal per step: W(J)/W is exactly 4 without the zero pass and 5/2 with it."""
    typing = check_program(fan_out(300))
    w = function_work(typing, "f")
    assert function_work(jvp(typing, "f"), "f.jvp") == 4 * w
    assert 2 * function_work(jvp(typing, "f", zeros=True), "f.jvp") == 5 * w


def test_chain_with_literals_work_ratio_before_and_after() -> None:
    """x_{i+1} = sin(x_i) × x_i + x_i × 0.5: four operations and a literal per step, W(J)/W exactly 4;
    the zero pass removes the literal's 0, its ⊙ and its ⊕: 13/4."""
    steps = 50
    body = "".join(f"let x{i + 1} = sin(x{i}) * x{i} + x{i} * 0.5 in " for i in range(steps))
    typing = load(f"def f(x0: R) -> R = {body}x{steps}")
    w = function_work(typing, "f")
    assert w == 4 * steps
    assert function_work(jvp(typing, "f"), "f.jvp") == 4 * w
    assert 4 * function_work(jvp(typing, "f", zeros=True), "f.jvp") == 13 * w


def test_chain_save_coefficients_trade() -> None:
    """chain(n): n/2 steps of sin(x) × x. save-coefficients moves the n/2 cos out of the linear half
    (W(lin) 3n → 5n/2) and puts them on the tape (|t| n → 3n/2); recompute-all keeps a tape of 1."""
    n = 200
    typing = check_program(chain(n))
    lin, tape = {}, {}
    for policy in ("save-all", "recompute-all", "save-coefficients"):
        _, u, report = linearize(typing, "f", POLICIES[policy])
        lin[policy], tape[policy] = function_work(u, lin_name("f.jvp")), report.tape_size["f.jvp"]
    assert lin == {"save-all": 3 * n, "recompute-all": 4 * n - 1, "save-coefficients": 5 * n // 2}
    assert tape == {"save-all": n, "recompute-all": 1, "save-coefficients": 3 * n // 2}
    value, gradient = grad(typing, "f", [0.5], POLICIES["save-coefficients"])
    assert (value, gradient) == grad(typing, "f", [0.5], POLICIES["save-all"])
    assert math.isfinite(value)


def test_save_coefficients_saves_the_cosine() -> None:
    typing = load("def f(x: R) -> R = sin(x)")
    st = stages(typing, "f", POLICIES["save-coefficients"])
    lin = st.unzipped.signatures[st.lin_fn]
    assert "cos" not in show_program(type(st.unzipped.program)((lin,)))
    assert "save-coefficients" in POLICIES
