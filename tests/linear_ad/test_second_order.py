"""Second order through the embedding: the embedded stages are programs the checker accepts, and
``hvp``/``hessian`` on the command line and ``:hvp``/``:hessian`` in the REPL give sympy's Hessian."""

from __future__ import annotations

import re
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import pytest
import sympy

from calculi.core.errors import CalculusError, TypeCheckError
from calculi.core.fuzz import feed
from calculi.core.syntax import Source
from calculi.linear_ad.ad import load, stages
from calculi.linear_ad.check import check_program
from calculi.linear_ad.embed import embed_program, is_ordinary, readings
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.primitives import FRACTION, SCALE
from calculi.linear_ad.second_order import second_order
from calculi.linear_ad.types import TupleType, Type
from proofs.linear_ad.fixtures import run
from tests.linear_ad.test_cli import cli

SOURCE = """\
def g(u: R, v: R) -> (R, R ;) = let a = tanh(u) * v in let b = u * u in (a, b ;)
def f(x: R, y: R, z: R) -> R =
  let (p, q ;) = g(x, y) in
  let r = exp(p) * z + q / (1.5 + y * y) in
  r * z + max(x, z) * sin(y)
"""
X = [sympy.Rational(1, 3), sympy.Rational(-1, 2), sympy.Rational(3, 4)]


def _symbolic_hessian() -> sympy.Matrix:
    x, y, z = sympy.symbols("x y z", real=True)
    p, q = sympy.tanh(x) * y, x * x
    r = sympy.exp(p) * z + q / (sympy.Rational(3, 2) + y * y)
    f = r * z + sympy.Max(x, z) * sympy.sin(y)
    return sympy.hessian(f, (x, y, z)).subs(dict(zip((x, y, z), X, strict=True)))


def _cli(*args: str) -> tuple[int, str, str]:
    o = cli(*args)
    return o.returncode, o.stdout, o.stderr


def _floats(text: str) -> list[float]:
    return [float(t) for t in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text)]


def test_every_stage_embeds_to_a_checked_ordinary_program() -> None:
    typing = load(SOURCE)
    st = stages(typing, "f")
    for stage in ("jvp", "unzip", "transpose"):
        embedded = check_program(embed_program(st.program(stage)))
        assert is_ordinary(embedded.program)
    assert not is_ordinary(st.program("transpose"))


def test_second_order_programs_give_sympys_hessian_exactly() -> None:
    so = second_order(load(SOURCE), "f")
    want = _symbolic_hessian()
    got = so.hessian(X, sympy_domain())
    for i in range(3):
        for j in range(3):
            assert sympy.N(got[i][j] - want[i, j], 40) == pytest.approx(0, abs=1e-30)
    v = [sympy.Integer(1), sympy.Rational(-2), sympy.Rational(1, 2)]
    hv = want * sympy.Matrix(v)
    for route in (so.hvp, so.hvp_reverse_over_forward, so.hvp_forward_over_forward):
        for a, b in zip(route(X, v, sympy_domain()), hv, strict=True):
            assert sympy.N(a - b, 40) == pytest.approx(0, abs=1e-30)


def sympy_domain() -> object:
    from calculi.linear_ad.primitives import SYMPY

    return SYMPY


def test_cli_hvp_and_hessian_match_sympy(tmp_path: object) -> None:
    path = tmp_path / "f.la"  # type: ignore[operator]
    path.write_text(SOURCE)
    xs = [str(float(x)) for x in X]
    code, out, _ = _cli("hessian", str(path), "f", *xs)
    assert code == 0 and out.startswith("hessian")
    want = _symbolic_hessian()
    assert _floats(out) == pytest.approx([float(want[i, j]) for i in range(3) for j in range(3)], rel=1e-12)
    code, out, _ = _cli("hvp", str(path), "f", *xs, "1.0", "-2.0", "0.5")
    assert code == 0
    hv = want * sympy.Matrix([1, -2, sympy.Rational(1, 2)])
    assert _floats(out.splitlines()[2]) == pytest.approx([float(h) for h in hv], rel=1e-12)
    code, out, _ = _cli("show", str(path), "f", "--stage", "hvp", "--ascii")
    assert code == 0 and "def f.grad.jvp(" in out


@pytest.mark.parametrize(("args", "reason"), [
    (["hvp", "f", "1.0", "2.0", "3.0", "1.0"], "takes 3 arguments and then 3 direction components; got 4"),
    (["hvp", "f", "1.0", "2.0", "3.0", "1.0", "(1.0, 2.0)", "1.0"], "direction 2 of f"),
    (["hessian", "g", "1.0", "2.0"], "one ℝ result"),
])
def test_cli_refuses_bad_input_with_a_reason(tmp_path: object, args: list[str], reason: str) -> None:
    path = tmp_path / "f.la"  # type: ignore[operator]
    path.write_text(SOURCE)
    code, _, err = _cli(args[0], str(path), *args[1:])
    assert code == 1 and reason in err


def test_repl_hessian_and_hvp() -> None:
    lines = ["def f(x: R, y: R) -> R = sin(x) * y * y", ":hessian f 1.0 2.0", ":hvp f 1.0 2.0 ; 1.0 0.0",
             ":hessian f 1.0", ":hvp f 1.0 2.0 ; 1.0"]
    out = [a.printed.rstrip("\n") for a in feed("linear_ad", lines)][1:]
    s, c = float(sympy.sin(1.0)), float(sympy.cos(1.0))
    assert _floats(out[0]) == pytest.approx([-s * 4, 4 * c, 4 * c, 2 * s], rel=1e-12)
    assert _floats(out[1].splitlines()[2]) == pytest.approx([-4 * s, 4 * c], rel=1e-12)
    assert "f takes 2 arguments" in out[2] or "takes 2" in out[2]
    assert "direction component" in out[3]


def test_a_missing_reading_is_an_error_naming_the_primitive() -> None:
    st = stages(load(SOURCE), "f")
    old = readings.pop(SCALE)
    try:
        with pytest.raises(TypeCheckError, match="scale has no non-linear reading"):
            embed_program(st.program("transpose"))
    finally:
        readings[SCALE] = old


def test_errors_are_calculus_errors() -> None:
    with pytest.raises(CalculusError, match="one ℝ result"):
        second_order(load(SOURCE), "g")


def _value(t: Type, ks: Iterator[int]) -> Any:
    """A value of type ``t``: distinct thirds at its leaves."""
    return tuple(_value(u, ks) for u in t.items) if isinstance(t, TupleType) else Fraction(next(ks), 3)


@pytest.mark.parametrize("text", [
    "def g(x: R ; a: (R, R)) -> ( ; (R, R)) = let (; b, c) = dup(a) in let (; d) = x *. b in "
    "let (; e) = d (+) c in (; e)",
    "def g(x: R ; a: ((R,), R)) -> ( ; ((R,), R)) = let (; b) = (x * 2.0) *. a in (; b)",
    "def g(x: R ; a: ()) -> ( ; ()) = let (; b) = x *. a in (; b)",
])
def test_leafwise_primitives_embed_at_tuple_types(text: str) -> None:
    program = parse_program(Source(text))
    embedded = check_program(embed_program(program))
    assert is_ordinary(embedded.program)
    a = _value(check_program(program).signatures["g"].lparam_types[0], iter(range(1, 9)))
    got = run(embedded, "g", [Fraction(3), a], [], FRACTION)
    want = run(check_program(program), "g", [Fraction(3)], [a], FRACTION)
    assert got == ((*want[0], *want[1]), ())
