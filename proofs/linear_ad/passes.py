"""What each pass means, checked exactly: JVP correctness (P3), linearity (P4, P7, P11), unzip (P5,
P6), transposition (P9, P10) and reverse mode (P12); and that J and T write canonical names.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy

from calculi.core.syntax import Source
from calculi.linear_ad.ad import grad, stages
from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.jvp import jvp_name, jvp_program
from calculi.linear_ad.laws import homogeneous_linear, is_nonlinear_code, residuals_only
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.pretty import show_program
from calculi.linear_ad.primitives import FRACTION, SYMPY
from calculi.linear_ad.rename import canonical
from calculi.linear_ad.strategies import rationals, show
from calculi.linear_ad.syntax import Prim, Program, subexpressions
from calculi.linear_ad.transpose import transpose_name, transpose_program
from calculi.linear_ad.unzip import POLICIES, lin_name, recompute_all, save_all
from proofs.linear_ad.fixtures import (
    LINEAR,
    NONLIN,
    SYMBOLIC,
    YOLO,
    constants,
    linear_fixture,
    main_of,
    near,
    point,
    run,
)
from proofs.registry import theorem

# -- P3: JVP correctness ---------------------------------------------------------------------------


@theorem("linear_ad.jvp.correct", paper=YOLO, section="P3", label="derived",
         statement="⟦J e⟧(x, ẋ) = (⟦e⟧x, D⟦e⟧(x)·ẋ): sympy's exact derivative at a rational point "
                   "(compared at 50 digits) and the primal bit-identical to ⟦e⟧x in floats",
         given=NONLIN, show=show, max_examples=SYMBOLIC)
def _(program: Program) -> None:
    typing, name = main_of(program)
    j = stages(typing, name).jvp
    d = typing.signatures[name]
    xs = sympy.symbols(f"x0:{len(d.params)}", real=True)
    dxs = sympy.symbols(f"dx0:{len(d.params)}")
    pt = {x: sympy.Rational(q.numerator, q.denominator) for x, q in zip(xs, point(typing, name), strict=True)}
    (primal,), _ = run(typing, name, list(xs), [], SYMPY)
    (jp,), (jt,) = run(j, f"{name}.jvp", list(pt.values()), list(dxs), SYMPY)
    assert near(jp, primal.subs(pt)), f"primal {jp} ≠ {primal.subs(pt)}"
    for x, dx in zip(xs, dxs, strict=True):
        assert near(sympy.expand(jt).coeff(dx), sympy.diff(primal, x).subs(pt)), f"∂/∂{x}"
    floats = [float(v) for v in point(typing, name)]
    ones = [1.0] * len(floats)
    assert run(j, f"{name}.jvp", floats, ones)[0] == run(typing, name, floats, [])[0]


# -- P4, P7, P11: linearity --------------------------------------------------------------------------


def assert_linear(typing: Typing, name: str, nonlin: list[Any]) -> None:
    d = typing.signatures[name]
    deltas = sympy.symbols(f"d0:{len(d.lparams)}")
    _, out = run(typing, name, nonlin, list(deltas), SYMPY)
    assert homogeneous_linear(out, deltas), f"{name} is not linear: {out}"


@theorem("linear_ad.linearity.structural_implies_algebraic", paper=YOLO, section="P4",
         statement="Γ;Δ ⊢ e:(;σ̄) ⇒ δ ↦ ⟦e⟧(γ,δ) is linear: every output is a homogeneous degree-1 "
                   "polynomial in sympy symbols for Δ; and L(aδ1 + bδ2) = aL(δ1) + bL(δ2) in Fractions",
         given={**LINEAR, "a": rationals(), "b": rationals()}, show=show)
def _(program: Program, a: Fraction, b: Fraction) -> None:
    typing, name = main_of(program)
    gamma = constants(len(typing.signatures[name].params))
    assert_linear(typing, name, [sympy.Rational(q.numerator, q.denominator) for q in gamma])
    n = len(typing.signatures[name].lparams)
    d1 = [Fraction(k + 1, 2) for k in range(n)]
    d2 = [Fraction(1 - 2 * k, 5) for k in range(n)]
    mixed = [a * x + b * y for x, y in zip(d1, d2, strict=True)]
    lhs = run(typing, name, gamma, mixed, FRACTION)[1]
    l1, l2 = run(typing, name, gamma, d1, FRACTION)[1], run(typing, name, gamma, d2, FRACTION)[1]
    assert lhs == tuple(a * x + b * y for x, y in zip(l1, l2, strict=True))


@theorem("linear_ad.unzip.conserves_linearity", paper=YOLO, section="P7",
         statement="both halves of U(J e) type-check, and the linear half is algebraically linear (sympy)",
         given=NONLIN, show=show, max_examples=SYMBOLIC)
def _(program: Program) -> None:
    typing, name = main_of(program)
    s = stages(typing, name)
    xs = [sympy.Float(float(v)) for v in point(typing, name)]
    (*_, tape), _ = run(s.unzipped, s.nonlin_fn, xs, [], SYMPY)
    assert_linear(s.unzipped, s.lin_fn, [tape])


@theorem("linear_ad.transpose.conserves_linearity", paper=YOLO, section="P11",
         statement="⊢ T(e) for every linear e, and T(e) is algebraically linear (sympy)",
         given=LINEAR, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    t = check_program(transpose_program(typing, name))
    gamma = constants(len(typing.signatures[name].params))
    assert_linear(t, transpose_name(name), [sympy.Rational(q.numerator, q.denominator) for q in gamma])


# -- P5, P6: unzip -------------------------------------------------------------------------------


@theorem("linear_ad.unzip.preserves_semantics", paper=YOLO, section="P5",
         statement="⟦e⟧(γ,δ) = (π_ȳ⟦eN⟧γ, ⟦eL⟧(π_t⟦eN⟧γ, δ)), bit-identical in floats, for save-all, "
                   "recompute-all and save-sin",
         given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    xs = [float(v) for v in point(typing, name)]
    dxs = [0.5 - k for k in range(len(xs))]
    for policy in POLICIES.values():
        s = stages(typing, name, policy)
        expected = run(s.jvp, s.jvp_fn, xs, dxs)
        (*ys, tape), _ = run(s.unzipped, s.nonlin_fn, xs, [])
        assert (tuple(ys), run(s.unzipped, s.lin_fn, [tape], dxs)[1]) == expected


@theorem("linear_ad.unzip.separation", paper=YOLO, section="P6", label="derived",
         statement="f.nonlin has no linear variables or operations; f.lin mentions non-linearly only "
                   "the residuals it unpacks from its tape",
         given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    for policy in POLICIES.values():
        u = stages(typing, name, policy).unzipped.program
        for d in u.defs:
            if d.name.endswith(".nonlin"):
                assert is_nonlinear_code(d.body) and not d.lparams, d.name
            else:
                assert residuals_only(d), d.name


# -- P8, P9, P10: transpose ------------------------------------------------------------------------


@theorem("linear_ad.transpose.involution", paper=YOLO, section="P9", label="derived",
         statement="⟦T(T e)⟧ = ⟦e⟧ (exactly, in Fractions, on the basis vectors)",
         given=LINEAR, show=show)
def _(program: Program) -> None:
    typing, name, t, gamma = linear_fixture(program)
    tt = check_program(transpose_program(t, transpose_name(name)))
    n = len(typing.signatures[name].lparams)
    for i in range(n):
        e = [Fraction(int(k == i)) for k in range(n)]
        assert run(tt, transpose_name(transpose_name(name)), gamma, e, FRACTION) == \
            run(typing, name, gamma, e, FRACTION)


@theorem("linear_ad.transpose.jacobian", paper=YOLO, section="P10", label="derived",
         statement="the matrix of T e, column by column from basis vectors, is the transpose of e's",
         given=LINEAR, show=show)
def _(program: Program) -> None:
    typing, name, t, gamma = linear_fixture(program)
    d = typing.signatures[name]
    n, m = len(d.lparams), len(d.result.lin)

    def basis(k: int, size: int) -> list[Fraction]:
        return [Fraction(int(j == k)) for j in range(size)]

    forward = [run(typing, name, gamma, basis(j, n), FRACTION)[1] for j in range(n)]
    backward = [run(t, transpose_name(name), gamma, basis(i, m), FRACTION)[1] for i in range(m)]
    assert all(forward[j][i] == backward[i][j] for i in range(m) for j in range(n))


# -- P12: reverse mode ---------------------------------------------------------------------------


@theorem("linear_ad.reverse.equals_forward", paper=YOLO, section="P12",
         statement="grad f(x)_i = ⟦J f⟧(x, e_i) = ∂f/∂x_i (sympy), compared at 50 digits at a rational point",
         given=NONLIN, show=show, max_examples=SYMBOLIC)
def _(program: Program) -> None:
    typing, name = main_of(program)
    xs = [sympy.Rational(q.numerator, q.denominator) for q in point(typing, name)]
    symbols = sympy.symbols(f"x0:{len(xs)}", real=True)
    (primal,), _ = run(typing, name, list(symbols), [], SYMPY)
    _, gradient = grad(typing, name, xs, domain=SYMPY)
    j = stages(typing, name).jvp
    for i, x in enumerate(symbols):
        basis = [sympy.Integer(int(k == i)) for k in range(len(xs))]
        _, (column,) = run(j, f"{name}.jvp", xs, basis, SYMPY)
        exact = sympy.diff(primal, x).subs(dict(zip(symbols, xs, strict=True)))
        assert near(gradient[i], column) and near(gradient[i], exact), f"∂/∂{x}"


# -- J and T write canonical names -----------------------------------------------------------------

NESTED_LINEAR = """def l(x : R ; dy : R) -> (; R) =
  let z = (let w = sin(x) in let v = cos(w) in v * w) in
  let u = (let a = exp(z) in a) in
  let (; dq) = scale(u ; dy) in
  let (; dr) = scale(z ; dq) in
  (; dr)
"""
"""Linear code with non-linear blocks nested in right-hand sides, which T copies forward (the
generated linear programs have none)."""


def assert_canonical(program: Program) -> None:
    """Every function of ``program`` is ``canonical`` of itself, printed hints included."""
    for d in program.defs:
        reference = canonical(d)
        assert d == reference, f"{d.name} is not canonical"
        assert show_program(Program((d,))) == show_program(Program((reference,))), f"{d.name}'s hints"


@theorem("linear_ad.jvp.canonical", paper=YOLO, section="§2 (the passes' output)", label="derived",
         statement="J writes every function with canonical names, as it builds it: J(e) = canonical(J(e)), "
                   "printed hints included, with the scale expressions inline and let-bound",
         given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    for bind_scales in (False, True):
        assert_canonical(jvp_program(typing, name, bind_scales))


@theorem("linear_ad.transpose.canonical", paper=YOLO, section="§2 (the passes' output)", label="derived",
         statement="T writes every function with canonical names, as it builds it: T(e) = canonical(T(e)), "
                   "printed hints included, for the linear halves U(J e) (save-all, recompute-all), "
                   "T(T of them), and linear code with non-linear blocks nested in right-hand sides",
         given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    for policy in (save_all, recompute_all):
        unzipped = stages(typing, name, policy).unzipped
        lin = lin_name(jvp_name(name))
        t = transpose_program(unzipped, lin)
        assert_canonical(t)
        assert_canonical(transpose_program(check_program(t), transpose_name(lin)))
    nested = check_program(parse_program(Source(NESTED_LINEAR)))
    assert_canonical(transpose_program(nested, "l"))


@theorem("linear_ad.jvp.located", paper=YOLO, section="§2 (the passes' output)", label="derived",
         statement="every application J builds is placed at the source operation its rule was applied to: "
                   "of f printed and parsed, each application in J(f) carries the span of an application of "
                   "f, with the scale expressions inline and let-bound",
         given=NONLIN, show=show)
def _(program: Program) -> None:
    parsed = parse_program(Source(show_program(program)))
    typing, name = main_of(parsed)
    operations = {(p.span.start, p.span.end) for d in parsed.defs for p in subexpressions(d.body)
                  if isinstance(p, Prim) and p.span is not None}
    for bind_scales in (False, True):
        for d in jvp_program(typing, name, bind_scales).defs:
            for p in subexpressions(d.body):
                if isinstance(p, Prim):
                    assert p.span is not None, f"{p.prim.name} in {d.name} has no span"
                    assert (p.span.start, p.span.end) in operations, f"{p.prim.name} in {d.name}"
