"""The REPL's forward and reverse mode at a point: ``:jvp f X… ; V…`` and ``:vjp f X… ; C…``."""

from __future__ import annotations

import math
import re

import pytest

from calculi.core.fuzz import feed

PRELUDE = ["def f(x: R, y: R) -> (R, R ;) = let a = sin(x) * y in let b = x * y in (a, b ;)",
           "def p(q: (R, R)) -> R = let (x, y) = unpack q in x * y",
           "def g(s: R ; dx: R) -> (; R) = s *. dx",
           "def t(x: R) -> (R, (R, R) ;) = let y = sin(x) in let z = tup(x, y) in (y, z ;)",
           "def h(x: R, y: R, z: R) -> R = x * y * z + sin(z)"]


def answers(*lines: str) -> list[str]:
    out = feed("linear_ad", [*PRELUDE, *lines])[len(PRELUDE):]
    return [a.printed.rstrip("\n") for a in out]


def numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+\.\d*(?:e-?\d+)?", text)]


def test_jvp_and_vjp_at_a_point_are_the_derivatives_of_sin_x_times_y() -> None:
    x, y, t, u, c, d = 1.5, -2.0, 1.0, 0.5, 3.0, -1.0
    jvp, vjp, pj = answers(f":jvp f {x} {y} ; {t} {u}", f":vjp f {x} {y} ; {c} {d}", ":jvp p (2, 3) ; (1, 0)")
    value = [math.sin(x) * y, x * y]
    assert jvp.splitlines()[0].startswith("value    ") and jvp.splitlines()[1].startswith("tangent  ")
    assert numbers(jvp) == pytest.approx([*value, math.cos(x) * y * t + math.sin(x) * u, y * t + x * u],
                                         rel=1e-12)
    assert vjp.splitlines()[1].startswith("cotangent ")
    assert numbers(vjp) == pytest.approx([*value, math.cos(x) * y * c + y * d, math.sin(x) * c + x * d],
                                         rel=1e-12)
    assert numbers(pj) == [6.0, 3.0]


def test_without_a_point_jvp_and_vjp_still_print_the_programs() -> None:
    jvp, vjp = answers(":jvp f", ":vjp f save-sin")
    assert jvp.startswith("def f.jvp(x: ℝ, y: ℝ ; ẋ: ℝ, ẏ: ℝ)")
    assert "def f.jvp.nonlin(" in vjp and "def f.jvp.lin.T(" in vjp


@pytest.mark.parametrize(("line", "error"), [
    (":jvp f 1.0 2.0 ; 1.0",
     "<input>:1:3: usage: f takes 2 tangents after ';', one per argument (ℝ, ℝ); got 1"),
    (":jvp f 1.0 2.0", "<input>:1:3: usage: f takes 2 tangents after ';'"),
    (":jvp f 1.0 ; 1.0 2.0", "<input>:1:3: usage: f takes 2 non-linear and 0 linear arguments, got 1 ; 0"),
    (":jvp p 1.0 ; 1.0", "<input>:1:3: usage: argument 1 of p should be a value of type (ℝ, ℝ), got 1.0"),
    (":jvp p (1, 2) ; 1.0", "<input>:1:3: usage: tangent 1 of p should be of type (ℝ, ℝ), got 1.0"),
    (":vjp f 1.0 2.0 ; 1.0 (1, 2)",
     "<input>:1:3: usage: cotangent 2 of f should be of type ℝ, got (1.0, 2.0)"),
    (":vjp p (1, 2) ; 1.0 2.0",
     "<input>:1:3: usage: p takes 1 cotangent after ';', one per result (ℝ); got 2"),
    (":vjp f 1.0 2.0 ; 1.0 x", "<input>:1:17: syntax error: expected a number or a tuple of numbers"),
    (":jvp f f", "<input>:1:3: usage: unexpected f; usage: :jvp f [X1 X2 ... ; V1 V2 ...]"),
    (":jvp g 1.0 ; 1.0", "<input>:1:1: usage: g is linear (it has linear parameters or results); :jvp "
                         "differentiates non-linear functions (:transpose g transposes it)"),
    (":vjp nope 1.0 ; 1.0", "<input>:1:1: unbound name: no function named nope (defined: f, p, g, t, h)"),
])
def test_every_mismatch_is_located(line: str, error: str) -> None:
    (answer,) = feed("linear_ad", [*PRELUDE, line])[len(PRELUDE):]
    assert answer.error is not None and answer.error.span is not None, answer.printed
    assert answer.printed.startswith(error), answer.printed


@pytest.mark.parametrize("line", [":grad f 1.5 -2", ":grad t -1e-3"])
def test_grad_of_several_results_suggests_vjp_and_jvp_lines_that_work(line: str) -> None:
    (answer,) = answers(line)
    assert "grad needs a function with one ℝ result" in answer
    name = line.split()[1]
    suggested = re.findall(rf"  (:(?:vjp|jvp) {name} .*?)  \(a", answer)
    assert [s.split()[0] for s in suggested] == [":vjp", ":jvp"], answer
    for line, label in zip(suggested, ("cotangent", "tangent"), strict=True):
        (out,) = answers(line)
        assert out.splitlines()[1].startswith(label), out


def test_help_explains_the_point_and_the_tangents() -> None:
    jvp, vjp = answers(":help jvp", ":help vjp")
    assert jvp.startswith(":jvp f [X1 ... ; V1 ...]") and "a tangent per argument" in jvp
    assert vjp.startswith(":vjp f [policy | X1 ... ; C1 ...]") and "a cotangent per result" in vjp


def test_grad_wrt_keeps_the_listed_arguments_counted_from_one() -> None:
    whole, some, one, twice, past = answers(
        ":grad h 0.5 2 -1.5", ":grad h 0.5 2 -1.5 --wrt 3,1", ":grad h 0.5 2 -1.5 --wrt=2",
        ":grad h 0.5 2 -1.5 --wrt 2,2", ":grad h 0.5 2 -1.5 --wrt 4")
    gradient = numbers(whole)[1:]
    assert gradient[:2] == [2.0 * -1.5, 0.5 * -1.5]  # ∂/∂x = y z, ∂/∂y = x z
    assert gradient[2] == pytest.approx(0.5 * 2.0 + math.cos(-1.5), rel=1e-15)
    assert numbers(some)[1:] == [gradient[2], gradient[0]]
    assert numbers(one)[1:] == [gradient[1]]
    assert twice.startswith("<input>:1:22: usage: --wrt lists argument 2 twice")
    assert past.startswith("<input>:1:20: usage: --wrt takes positions of h's arguments counted from 1, "
                           "each from 1 to 3; got '4'")
