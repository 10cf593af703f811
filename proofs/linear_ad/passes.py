"""What each pass means, checked exactly: JVP correctness (P3), linearity (P4, P7, P11), unzip (P5,
P6), transposition (P9, P10) and reverse mode (P12).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy

from calculi.linear_ad.ad import grad, stages
from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.laws import homogeneous_linear, is_nonlinear_code, residuals_only
from calculi.linear_ad.primitives import FRACTION, SYMPY
from calculi.linear_ad.strategies import rationals, show
from calculi.linear_ad.syntax import Program
from calculi.linear_ad.transpose import transpose_name, transpose_program
from calculi.linear_ad.unzip import POLICIES
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
