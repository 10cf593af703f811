"""``jvp``, ``vjp`` and ``grad --wrt`` on the command line, each answer checked against an oracle:
sympy's derivatives (exact), central differences (floats), and ⟨vjp(c), t⟩ = ⟨c, jvp(t)⟩ over
exact rationals."""

from __future__ import annotations

import ast
import math
import random
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import sympy

from calculi.linear_ad.ad import jvp_values, load, vjp_values
from calculi.linear_ad.eval import Evaluator
from calculi.linear_ad.primitives import FLOAT, FRACTION, SYMPY
from calculi.linear_ad.types import TupleType, Type
from calculi.linear_ad.unzip import POLICIES
from tests.linear_ad.test_cli import cli

PROGRAM = """\
def f(x: R, y: R) -> (R, R ;) =
  let a = sin(x) * y in
  let b = x * y + exp(y) in
  (a, b ;)
def g(p: (R, R), s: R) -> (R, R) =
  let (x, y) = unpack p in
  let u = x * y * s in
  let c = cos(x) in
  tup(u, c)
def h(x: R, y: R, z: R) -> R = x * y * z + sin(z)
def poly(p: (R, R), s: R) -> ((R, R), R ;) =
  let (x, y) = unpack p in
  let u = x * y * s in
  let v = x * x + 3.0 * s in
  let t = tup(u, v) in
  let w = s * s * y in
  (t, w ;)
def k(x: R) -> (;) = drop(x)
"""
TYPING = load(PROGRAM)
POINTS = {"f": ["1.5", "-0.25"], "g": ["(0.5, -2)", "1.25"], "h": ["0.5", "2", "-1.5"],
          "poly": ["(2, 3)", "-0.5"]}
DIRECTIONS = {"f": ["1", "-2"], "g": ["(1, 0.5)", "-1"], "h": ["1", "0", "2"], "poly": ["(0.5, 1)", "3"]}
COTANGENTS = {"f": ["1", "-3"], "g": ["(2, -1)"], "h": ["1"], "poly": ["(1, 2)", "-1"]}


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ad") / "program.la"
    path.write_text(PROGRAM)
    return str(path)


def leaves(v: Any) -> list[Any]:
    return [x for item in v for x in leaves(item)] if isinstance(v, tuple | list) else [v]


def symbols(ty: Type, prefix: str) -> Any:
    if isinstance(ty, TupleType):
        return tuple(symbols(t, f"{prefix}_{i}") for i, t in enumerate(ty.items))
    return sympy.Symbol(prefix)


def read(text: str) -> Any:
    """A value as the command line prints it (numbers in nested tuples)."""
    value = ast.literal_eval(text)
    return value if isinstance(value, tuple) else (value,)


def printed(out: str) -> dict[str, list[float]]:
    """``value … / tangent …`` lines: each label and the numbers of its values."""
    rows = dict(line.split(None, 1) for line in out.splitlines())
    return {label: [float(x) for x in leaves(read(text))] for label, text in rows.items()}


def exact(name: str) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """Symbolic arguments, tangents and cotangents of ``name``, and its symbolic results."""
    d = TYPING.signatures[name]
    xs = [symbols(ty, b.hint) for b, ty in zip(d.params, d.param_types, strict=True)]
    ts = [symbols(ty, f"t{b.hint}") for b, ty in zip(d.params, d.param_types, strict=True)]
    cs = [symbols(ty, f"c{i}") for i, ty in enumerate(d.result.nonlin)]
    out = Evaluator(TYPING, SYMPY).call(name, xs)[0]
    return xs, ts, cs, list(out)


def same(a: Any, b: Any) -> bool:
    return all(sympy.expand(x - y) == 0 for x, y in zip(leaves(a), leaves(b), strict=True))


@pytest.mark.parametrize("name", ["f", "g", "h", "poly"])
def test_jvp_and_vjp_are_sympys_derivatives_exactly(name: str) -> None:
    xs, ts, cs, out = exact(name)
    x, t, c, y = leaves(tuple(xs)), leaves(tuple(ts)), leaves(tuple(cs)), leaves(tuple(out))
    values, tangents = jvp_values(TYPING, name, xs, ts, SYMPY)
    assert same(values, tuple(out))
    assert same(tangents, tuple(sum(sympy.diff(yj, xk) * tk for xk, tk in zip(x, t, strict=True))
                                for yj in y))
    values, cotangents = vjp_values(TYPING, name, xs, cs, domain=SYMPY)
    assert same(values, tuple(out))
    assert same(cotangents, tuple(sum(sympy.diff(yj, xk) * cj for yj, cj in zip(y, c, strict=True))
                                  for xk in x))


@pytest.mark.parametrize("name", ["f", "g", "h", "poly"])
def test_the_command_line_prints_sympys_numbers(program: str, name: str) -> None:
    xs, ts, cs, out = exact(name)
    x, t, c, y = leaves(tuple(xs)), leaves(tuple(ts)), leaves(tuple(cs)), leaves(tuple(out))
    at = dict(zip(x, leaves(tuple(read(a) for a in POINTS[name])), strict=True))
    along = dict(zip(t, leaves(tuple(read(v) for v in DIRECTIONS[name])), strict=True))
    back = dict(zip(c, leaves(tuple(read(v) for v in COTANGENTS[name])), strict=True))

    def num(e: Any) -> float:
        return float(sympy.sympify(e).subs({**at, **along, **back}))

    jvp = cli("jvp", program, name, *POINTS[name], "--tangent", *DIRECTIONS[name])
    assert jvp.returncode == 0, jvp.stderr
    rows = printed(jvp.stdout)
    assert rows["value"] == pytest.approx([num(yj) for yj in y], rel=1e-12)
    assert rows["tangent"] == pytest.approx(
        [num(sum(sympy.diff(yj, xk) * tk for xk, tk in zip(x, t, strict=True))) for yj in y], rel=1e-12)
    vjp = cli("vjp", program, name, *POINTS[name], "--cotangent", *COTANGENTS[name])
    assert vjp.returncode == 0, vjp.stderr
    rows = printed(vjp.stdout)
    assert rows["value"] == pytest.approx([num(yj) for yj in y], rel=1e-12)
    assert rows["cotangent"] == pytest.approx(
        [num(sum(sympy.diff(yj, xk) * cj for yj, cj in zip(y, c, strict=True))) for xk in x], rel=1e-12)


def test_jvp_agrees_with_central_differences(program: str) -> None:
    x, v, h = [0.5, 2.0, -1.5], [1.0, -0.5, 2.0], 1e-6
    ev = Evaluator(TYPING, FLOAT)
    plus = ev.call("h", [a + h * b for a, b in zip(x, v, strict=True)])[0][0]
    minus = ev.call("h", [a - h * b for a, b in zip(x, v, strict=True)])[0][0]
    rows = printed(cli("jvp", program, "h", "0.5", "2", "-1.5", "--tangent", "1", "-.5", "2").stdout)
    assert rows["tangent"][0] == pytest.approx((plus - minus) / (2 * h), rel=1e-7)


def dot(a: Any, b: Any) -> Any:
    return sum(x * y for x, y in zip(leaves(a), leaves(b), strict=True))


def test_vjp_is_the_transpose_of_jvp_exactly_over_rationals() -> None:
    """⟨vjp(x)(c), t⟩ = ⟨c, jvp(x)(t)⟩, in Fractions, at random points."""
    rng = random.Random(13)
    d = TYPING.signatures["poly"]

    def draw(ty: Type) -> Any:
        if isinstance(ty, TupleType):
            return tuple(draw(t) for t in ty.items)
        return Fraction(rng.randint(-50, 50), rng.randint(1, 9))

    for _ in range(20):
        x = [draw(ty) for ty in d.param_types]
        t = [draw(ty) for ty in d.param_types]
        c = [draw(ty) for ty in d.result.nonlin]
        _, jt = jvp_values(TYPING, "poly", x, t, FRACTION)
        _, vc = vjp_values(TYPING, "poly", x, c, domain=FRACTION)
        assert dot(vc, t) == dot(c, jt)
        assert isinstance(dot(vc, t), Fraction)


def test_grad_wrt_keeps_the_listed_arguments_counted_from_one(program: str) -> None:
    whole = printed(cli("grad", program, "h", "0.5", "2", "-1.5").stdout)["gradient"]
    some = cli("grad", program, "h", "0.5", "2", "-1.5", "--wrt", "3,1")
    assert some.returncode == 0, some.stderr
    assert printed(some.stdout)["gradient"] == [whole[2], whole[0]]
    one = cli("grad", program, "h", "0.5", "2", "-1.5", "--wrt", "2")
    assert printed(one.stdout)["gradient"] == [whole[1]]
    # ∂h/∂x = y z at (0.5, 2, -1.5)
    assert whole[0] == -3.0


RANGE = "usage: --wrt takes positions of h's arguments counted from 1, each from 1 to 3; got"


@pytest.mark.parametrize(("wrt", "error"), [
    ("0", f"--wrt:1:1: {RANGE} '0'"),
    ("4", f"--wrt:1:1: {RANGE} '4'"),
    ("1,x", "--wrt:1:3: usage: --wrt takes positions"),
    ("1,", "--wrt:1:2: usage: --wrt takes positions"),
    ("2,2", "--wrt:1:3: usage: --wrt lists argument 2 twice"),
])
def test_grad_wrt_refuses_positions_out_of_range_or_repeated(program: str, wrt: str, error: str) -> None:
    out = cli("grad", program, "h", "0.5", "2", "-1.5", "--wrt", wrt)
    assert out.returncode == 1 and out.stderr.startswith(error), out.stderr


@pytest.mark.parametrize(("args", "error"), [
    (("jvp", "f", "1", "2", "--tangent", "1"),
     "usage: f takes 2 tangents (--tangent V...), one per argument (x: ℝ, y: ℝ); got 1"),
    (("jvp", "f", "1", "2"), "usage: f takes 2 tangents"),
    (("jvp", "f", "1", "2", "--tangent", "1", "0", "3"), "<tangent>:1:1: usage: f takes 2 tangents"),
    (("jvp", "f", "1", "2", "3", "--tangent", "1", "0"),
     "<argument>:1:1: usage: f takes 2 non-linear and 0 linear arguments (x: ℝ, y: ℝ); got 3"),
    (("jvp", "f", "1", "--tangent", "1", "0"), "usage: f takes 2 non-linear and 0 linear arguments"),
    (("jvp", "g", "1.5", "2", "--tangent", "1", "0"),
     "<argument>:1:1: usage: argument 1 of g should be of type (ℝ, ℝ), got 1.5"),
    (("jvp", "g", "(1, 2)", "2", "--tangent", "1", "0"),
     "<tangent>:1:1: usage: tangent 1 of g (for p) should be of type (ℝ, ℝ), got 1"),
    (("jvp", "g", "(1, 2)", "2", "--tangent", "(1, 2)", "(0, 1)"),
     "<tangent>:1:1: usage: tangent 2 of g (for s) should be of type ℝ, got (0, 1)"),
    (("vjp", "g", "(1, 2)", "2", "--cotangent", "1"),
     "<cotangent>:1:1: usage: cotangent 1 of g should be of type (ℝ, ℝ), got 1"),
    (("vjp", "f", "1", "2", "--cotangent", "1"),
     "usage: f takes 2 cotangents (--cotangent C...), one per result (result 1: ℝ, result 2: ℝ); got 1"),
    (("vjp", "f", "1", "2", "--cotangent", "1", "(2,"), "<cotangent>:1:3: syntax error: expected a number"),
    (("grad", "f", "1", "2", "--tangent", "1"), "usage: --tangent is for jvp, not grad"),
    (("jvp", "f", "1", "2", "--cotangent", "1"), "usage: --cotangent is for vjp, not jvp"),
    (("vjp", "h", "1", "2", "3", "--wrt", "1"), "usage: --wrt is for grad, not vjp"),
])
def test_every_mismatch_is_one_located_usage_error(program: str, args: tuple[str, ...], error: str) -> None:
    out = cli(args[0], program, *args[1:])
    assert out.returncode == 1 and out.stderr.startswith(error), out.stderr
    assert "Traceback" not in out.stderr


def test_grad_of_several_results_gives_the_vjp_and_jvp_commands_that_work(program: str) -> None:
    for name, args in (("f", ["1.5", "-1e-3"]), ("g", ["(1, 2)", "-1."]), ("k", ["-2"])):
        out = cli("grad", program, name, *args)
        assert out.returncode == 1 and "grad needs a function with one ℝ result" in out.stderr
        commands = re.findall(r"^  python -m calculi\.linear_ad (.*)$", out.stderr, re.MULTILINE)
        assert [c.split()[0] for c in commands] == ["vjp", "jvp"], out.stderr
        for command in commands:
            import shlex

            again = cli(*shlex.split(command))
            assert again.returncode == 0, again.stderr


def test_linear_functions_are_not_differentiated_but_transposed(tmp_path: Path) -> None:
    linear = str(Path(__file__).resolve().parents[2] / "examples" / "linear_ad" / "linear.la")
    out = cli("show", linear, "g", "--stage", "transpose", "--ascii")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("def g.T(s: R ; ")
    for stage in ("jvp", "unzip"):
        out = cli("show", linear, "g", "--stage", stage)
        assert out.returncode == 1 and "g is linear" in out.stderr and "--stage transpose" in out.stderr
    for command in ("grad", "jvp", "vjp"):
        out = cli(command, linear, "g", "1.0")
        assert out.returncode == 1 and f"{command} differentiates non-linear functions" in out.stderr
        assert "show" in out.stderr and "--stage transpose" in out.stderr


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_vjp_and_grad_give_sympys_numbers_under_every_policy(program: str, policy: str) -> None:
    xs, _, cs, out = exact("f")
    x, c, y = leaves(tuple(xs)), leaves(tuple(cs)), leaves(tuple(out))
    at = {**dict(zip(x, [1.5, -0.25], strict=True)), **dict(zip(c, [1.0, -3.0], strict=True))}
    want = [float(sympy.sympify(sum(sympy.diff(yj, xk) * cj for yj, cj in zip(y, c, strict=True))).subs(at))
            for xk in x]
    vjp = cli("vjp", program, "f", *POINTS["f"], "--cotangent", *COTANGENTS["f"], "--policy", policy)
    assert vjp.returncode == 0, vjp.stderr
    assert printed(vjp.stdout)["cotangent"] == pytest.approx(want, rel=1e-12)
    grad = cli("grad", program, "h", "0.5", "2", "-1.5", "--policy", policy, "--wrt", "3")
    assert printed(grad.stdout)["gradient"] == pytest.approx([0.5 * 2 + math.cos(-1.5)], rel=1e-15)
