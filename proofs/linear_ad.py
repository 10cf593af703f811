"""Linear A's theorems (YOLO, POPL 2023; LAFI 2021), checked exactly on generated programs.

Labels P1–P17 are those of reference/linear_ad.md §3; [paper-claim] means the abstract states
it, [derived] that it follows from the authors' rules. Exact means: sympy (symbolic, or 50-digit
evaluation of symbolic values), exact rationals (``Fraction``), or bit-identical floats.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from fractions import Fraction
from functools import partial
from typing import Any

import sympy
from hypothesis import strategies as st

from calculi.core.errors import TypeCheckError
from calculi.core.mutants import Mutant, patch, patch_entry
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.linear_ad import mutants as linear_mutants
from calculi.linear_ad import semantics
from calculi.linear_ad.ad import Stages, grad, stages
from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.eval import Cost, Evaluator, function_work
from calculi.linear_ad.laws import (
    close,
    dot,
    homogeneous_linear,
    is_nonlinear_code,
    linear_uses,
    residuals_only,
)
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.primitives import COMPLEX, FLOAT, FRACTION, SYMPY
from calculi.linear_ad.strategies import linear_programs, nonlinear_programs, rationals, show
from calculi.linear_ad.syntax import Program, Zero, program_size
from calculi.linear_ad.transpose import transpose_name, transpose_program
from calculi.linear_ad.unzip import POLICIES, lin_name, nonlin_name
from proofs.registry import Paper, register_mutants, theorem

YOLO = Paper("YOLO", "You Only Linearize Once: Tangents Transpose to Gradients", "POPL 2023")
LAFI = Paper("LAFI", "Decomposing reverse-mode automatic differentiation", "LAFI 2021")

NONLIN = {"program": nonlinear_programs()}
LINEAR = {"program": linear_programs()}
SYMBOLIC = 30


def main_of(program: Program) -> tuple[Typing, str]:
    return check_program(program), program.defs[-1].name


def point(typing: Typing, name: str, seed: int = 1) -> list[Fraction]:
    """A deterministic rational point in [-1, 1] for ``name``'s parameters."""
    n = len(typing.signatures[name].params)
    return [Fraction((3 * i + seed) % 7 - 3, 4) for i in range(n)]


def run(typing: Typing, name: str, args: list[Any], largs: list[Any], domain: Any = FLOAT,
        cost: Cost | None = None) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    return Evaluator(typing, domain, cost=cost).call(name, args, largs)


def near(a: Any, b: Any, digits: int = 50) -> bool:
    """Two sympy constants agree to ``digits`` significant digits (used after exact derivation)."""
    x, y = sympy.N(a, digits), sympy.N(b, digits)
    return bool(abs(x - y) <= sympy.Float(10) ** (-(digits - 15)) * max(1, abs(x), abs(y)))


# -- the small-step semantics against the evaluator (first: cheap, and the only theorem that sees it) --


def small_step_agrees(typing: Typing, name: str, args: list[Any], largs: list[Any], domain: Any) -> None:
    """Run both interpreters; the values must be equal, the run finite and every step a named rule."""
    state = semantics.start(typing, name, args, largs, domain)
    fuel = Fuel(100_000)
    rules: list[str] = []
    last = state
    for s in semantics.steps(state, fuel):
        rules.append(s.rule)
        last = s.term
    got = semantics.value(last)
    expected = run(typing, name, args, largs, domain)
    assert got == expected, f"small-step {got} ≠ eval {expected}"
    unnamed = [r for r in rules if not semantics.is_rule(r)]
    assert not unnamed, f"steps without a rule of the semantics: {unnamed}"
    assert rules[0] == "call" and fuel.used == len(rules) < fuel.limit


@theorem("linear_ad.semantics.agrees_with_eval", paper=YOLO, section="§1.2 (semantics)", label="derived",
         statement="the small-step semantics (substitution, one named rule per step) reaches a value in "
                   "finitely many steps, and it equals eval.py's: exactly in Fractions for linear "
                   "programs, bit-identical in floats for non-linear ones (sin, cos, exp)",
         given={"nonlinear": nonlinear_programs(), "linear": linear_programs()}, show=show)
def _(nonlinear: Program, linear: Program) -> None:
    typing, name = main_of(nonlinear)
    small_step_agrees(typing, name, [float(v) for v in point(typing, name)], [], FLOAT)
    typing, name = main_of(linear)
    d = typing.signatures[name]
    gamma = [Fraction(k + 2, 3) for k in range(len(d.params))]
    small_step_agrees(typing, name, gamma, [Fraction(2 * k - 1, 3) for k in range(len(d.lparams))], FRACTION)


# -- P1, P2: typing of the passes ------------------------------------------------------------------


@theorem("linear_ad.types.passes_preserve_typing", paper=YOLO, section="P1", label="derived",
         statement="⊢ p ⇒ ⊢ J(p), ⊢ U(J p), ⊢ T(U(J p)), and ⊢ T(T(U(J p))) (every stage re-checked)",
         given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    st_ = stages(typing, name)
    check_program(transpose_program(st_.transposed, st_.transposed_fn))


@theorem("linear_ad.jvp.structurally_linear", paper=YOLO, section="P2",
         statement="Γ;· ⊢ e:(τ̄;) ⇒ Γ;Γ̇ ⊢ J(e):(τ̄;τ̄), every tangent variable used exactly once",
         given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    j = stages(typing, name).jvp
    for d in j.program.defs:
        counts = linear_uses(d)
        assert all(n == 1 for n in counts.values()), f"{d.name}: linear uses {counts}"
        source = typing.signatures[d.name.removesuffix(".jvp")]
        assert d.lparam_types == source.param_types and d.result.lin == source.result.nonlin


# -- the cheapest strong checks first (the mutant hunt runs theorems in this order) ------------


@theorem("linear_ad.jvp.complex_step", paper=YOLO, section="P3", label="derived",
         statement="J agrees with the complex-step derivative Im f(x + ih·e_i)/h, h = 1e-20, to 1e-12",
         given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    j = stages(typing, name).jvp
    xs = [float(v) for v in point(typing, name, seed=2)]
    for i in range(len(xs)):
        basis = [1.0 if k == i else 0.0 for k in range(len(xs))]
        _, (tangent,) = run(j, f"{name}.jvp", xs, basis)
        shifted = [complex(x, 1e-20 if k == i else 0.0) for k, x in enumerate(xs)]
        (value,), _ = run(typing, name, shifted, [], COMPLEX)
        assert close(tangent, value.imag / 1e-20, 1e-12), f"∂f/∂x{i}: {tangent} vs {value.imag / 1e-20}"


def linear_fixture(program: Program) -> tuple[Typing, str, Typing, list[Fraction]]:
    typing, name = main_of(program)
    t = check_program(transpose_program(typing, name))
    gamma = [Fraction(k + 2, 3) for k in range(len(typing.signatures[name].params))]
    return typing, name, t, gamma


@theorem("linear_ad.transpose.dot_product", paper=YOLO, section="P8",
         statement="⟨c, L(δ)⟩ = ⟨Lᵀ(c), δ⟩ exactly, in Fractions, for random rational δ and c",
         given={**LINEAR, "seed": st.integers(0, 10**6)}, show=show)
def _(program: Program, seed: int) -> None:
    typing, name, t, gamma = linear_fixture(program)
    d = typing.signatures[name]
    delta = [Fraction((seed >> k) % 9 - 4, 3) for k in range(len(d.lparams))]
    c = [Fraction((seed >> (2 * k + 1)) % 7 - 3, 2) for k in range(len(d.result.lin))]
    out = run(typing, name, gamma, delta, FRACTION)[1]
    back = run(t, transpose_name(name), gamma, c, FRACTION)[1]
    assert dot(c, out) == dot(back, delta), f"⟨c, Lδ⟩ = {dot(c, out)} ≠ ⟨Lᵀc, δ⟩ = {dot(back, delta)}"


def costs(s: Stages, xs: list[float]) -> dict[str, Cost]:
    out = {k: Cost() for k in ("f", "jvp", "nonlin", "lin", "T")}
    ones = [1.0] * len(xs)
    run(s.source, s.name, xs, [], cost=out["f"])
    run(s.jvp, s.jvp_fn, xs, ones, cost=out["jvp"])
    (*_, tape), _ = run(s.unzipped, s.nonlin_fn, xs, [], cost=out["nonlin"])
    run(s.unzipped, s.lin_fn, [tape], ones, cost=out["lin"])
    run(s.transposed, s.transposed_fn, [tape], [1.0], cost=out["T"])
    return out


SWAP = {"⊕": "dup", "dup": "⊕", "tupL": "unpackL", "unpackL": "tupL"}


@theorem("linear_ad.cost.transpose_conserves_work", paper=YOLO, section="P13",
         statement="W(T e) = W(e); #⊕(Te) = #dup(e), #dup(Te) = #⊕(e), #tupL ↔ #unpackL, #⊙ equal, "
                   "W₀ + W_drop equal, every other class equal",
         given=LINEAR, show=show)
def _(program: Program) -> None:
    typing, name, t, gamma = linear_fixture(program)
    n, m = len(typing.signatures[name].lparams), len(typing.signatures[name].result.lin)
    ce, ct = Cost(), Cost()
    run(typing, name, gamma, [Fraction(1)] * n, FRACTION, ce)
    run(t, transpose_name(name), gamma, [Fraction(1)] * m, FRACTION, ct)
    assert ce.total == ct.total, f"W(e) = {ce.total}, W(T e) = {ct.total}"
    for op in ("⊕", "dup", "tupL", "unpackL"):
        assert ct.ops[op] == ce.ops[SWAP[op]], op
    assert ct.ops["⊙"] == ce.ops["⊙"] and ct.work["⊙"] == ce.work["⊙"]
    assert ct.work["0"] + ct.work["drop"] == ce.work["0"] + ce.work["drop"]
    rest = set(ce.work) | set(ct.work)
    for op in rest - {"⊕", "dup", "tupL", "unpackL", "⊙", "0", "drop"}:
        assert ce.work[op] == ct.work[op], op


def _nonzero(c: Counter[str]) -> Counter[str]:
    return Counter({k: v for k, v in c.items() if v})


# -- P3: JVP correctness ---------------------------------------------------------------------------


@theorem("linear_ad.jvp.correct", paper=YOLO, section="P3", label="derived",
         statement="⟦J e⟧(x, ẋ) = (⟦e⟧x, D⟦e⟧(x)·ẋ): sympy's exact derivative at a rational point "
                   "(compared at 50 digits) and the primal bit-identical to ⟦e⟧x in floats",
         given=NONLIN, show=show, max_examples=SYMBOLIC)
def _(program: Program) -> None:
    typing, name = main_of(program)
    j = stages(typing, name).jvp
    d = typing.signatures[name]
    xs = sympy.symbols(f"x0:{len(d.params)}")
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
    gamma = [Fraction(k + 2, 3) for k in range(len(typing.signatures[name].params))]
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
    gamma = [sympy.Rational(k + 2, 3) for k in range(len(typing.signatures[name].params))]
    assert_linear(t, transpose_name(name), gamma)


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
    symbols = sympy.symbols(f"x0:{len(xs)}")
    (primal,), _ = run(typing, name, list(symbols), [], SYMPY)
    _, gradient = grad(typing, name, xs, domain=SYMPY)
    j = stages(typing, name).jvp
    for i, x in enumerate(symbols):
        basis = [sympy.Integer(int(k == i)) for k in range(len(xs))]
        _, (column,) = run(j, f"{name}.jvp", xs, basis, SYMPY)
        exact = sympy.diff(primal, x).subs(dict(zip(symbols, xs, strict=True)))
        assert near(gradient[i], column) and near(gradient[i], exact), f"∂/∂{x}"


# -- P13–P17: cost and size ------------------------------------------------------------------------


@theorem("linear_ad.cost.unzip_splits_work", paper=YOLO, section="P14",
         statement="work(f.nonlin) + work(f.lin) = work(J f) per operation class (save-all; the tape's "
                   "tup/unpack cost 0)", given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    c = costs(stages(typing, name), [float(v) for v in point(typing, name)])
    assert _nonzero(c["nonlin"].work + c["lin"].work) == _nonzero(c["jvp"].work)


@theorem("linear_ad.cost.checkpoint_policies", paper=YOLO, section="P14",
         statement="save-all and recompute-all give identical gradients; their total work differs by "
                   "exactly the recomputed minus the eliminated work, and their tapes by the residuals "
                   "that recomputation replaced", given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    xs = [float(v) for v in point(typing, name)]
    save, rc = stages(typing, name, POLICIES["save-all"]), stages(typing, name, POLICIES["recompute-all"])
    assert grad(typing, name, xs, POLICIES["save-all"]) == grad(typing, name, xs, POLICIES["recompute-all"])
    for g in rc.report.residuals:
        own = [function_work(s.unzipped, nonlin_name(g), calls=False) +
               function_work(s.unzipped, lin_name(g), calls=False) for s in (save, rc)]
        assert own[1] - own[0] == rc.report.recomputed_work[g] - rc.report.eliminated_work[g], g
        assert save.report.recomputed_work[g] == save.report.eliminated_work[g] == 0
        k = rc.report.recomputed_names[g]
        assert rc.report.residuals[g] == (save.report.residuals[g] - k) | rc.report.recomputed_inputs[g], g


@theorem("linear_ad.cost.jvp_work_bound", paper=YOLO, section="P15", label="derived",
         statement="W(J e) ≤ 4·W(e) + W_dup(J e) + W_0(J e): four per operation, plus J's dups and the "
                   "zero tangents of literals (which cost 0 themselves)", given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    c = costs(stages(typing, name), [float(v) for v in point(typing, name)])
    extra = c["jvp"].work["dup"] + c["jvp"].work["0"]
    assert c["jvp"].total <= 4 * c["f"].total + extra, (c["jvp"].total, c["f"].total, extra)


@theorem("linear_ad.cost.cheap_gradient", paper=YOLO, section="P17", label="derived",
         statement="W(grad f) = W(f.nonlin) + W(T f.lin) = W(J f) ≤ 4·W(f) + W_dup(J f) + W_0(J f)",
         given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    c = costs(stages(typing, name), [float(v) for v in point(typing, name)])
    extra = c["jvp"].work["dup"] + c["jvp"].work["0"]
    assert c["nonlin"].total + c["T"].total == c["jvp"].total <= 4 * c["f"].total + extra


FAMILIES = {
    "chain": lambda n: "def f(x: R) -> R = " + "".join(
        f"let x{i + 1} = sin(x{i}) * x{i} in " for i in range(n)).replace("x0", "x") + f"x{n}",
    "fan-out": lambda n: "def f(x: R) -> R = let y0 = x in " + "".join(
        f"let y{i + 1} = y{i} + x * {i + 1}.0 in " for i in range(n)) + f"y{n}",
    "diamonds": lambda n: "def f(x: R) -> R = let z0 = x in " + "".join(
        f"let a{i} = sin(z{i}) in let b{i} = cos(z{i}) in let z{i + 1} = a{i} * b{i} + z{i} in "
        for i in range(n)) + f"z{n}",
}


def family_ratios(kind: str, n: int) -> list[float]:
    typing = check_program(parse_program(Source(FAMILIES[kind](n))))
    s = stages(typing, "f")
    base = program_size(typing.program)
    return [program_size(p) / base for p in (s.jvp.program, s.unzipped.program, s.transposed.program)]


@theorem("linear_ad.size.linear", paper=YOLO, section="P16",
         statement="|J e|, |U e|, |T e| ∈ O(|e|): on chains, fan-out and nested diamonds of 10 to 160 "
                   "operations, each size ratio stays within 10% of its value at n = 10 and below 12 (the "
                   "benchmark goes to 10^5)")
def _() -> None:
    for kind in FAMILIES:
        small = family_ratios(kind, 10)
        for n in (40, 160):
            big = family_ratios(kind, n)
            for s, b in zip(small, big, strict=True):
                assert b <= 12 and b <= 1.1 * s, f"{kind} at n = {n}: ratio {b:.2f} (n = 10: {s:.2f})"


# -- negative type checks --------------------------------------------------------------------------

REJECTED = {
    "implicit linear dup": ("def f(x: R ; dx: R) -> (R ; R, R) = (x ; dx, dx)", "used twice (use dup)"),
    "implicit linear drop": ("def f(x: R ; dx: R) -> (R ;) = (x ;)", "never used (use drop)"),
    "implicit non-linear drop": ("def f(x: R, y: R) -> R = x", "y never used (use drop)"),
    "product of two linear values": ("def f(; dx: R, dy: R) -> (; R) = dx * dy", "applied to a linear"),
    "sin of a linear value": ("def f(; dx: R) -> (; R) = sin(dx)", "sin applied to a linear value"),
    "dup in an application": ("def g(; a: R, b: R) -> (; R) = a (+) b\n"
                              "def f(; x: R) -> (; R) = g(; x, x)", "used twice (use dup)"),
    "non-linear value added linearly": ("def f(x: R) -> (; R) = x (+) x", "applied to a non-linear value"),
}


@theorem("linear_ad.types.rejects", paper=YOLO, section="§3 (typing)", label="derived",
         statement="the checker rejects implicit linear dup and drop, implicit non-linear drop, products "
                   "of linear values, sin of a linear value, and transposing non-linear results")
def _() -> None:
    for what, (text, message) in REJECTED.items():
        err = rejection(partial(check_program_text, text))
        assert err is not None, f"accepted {what}: {text}"
        assert message in err.reason and err.span is not None, f"{what}: {err.reason}"
    typing = check_program(parse_program(Source("def f(x: R ; dx: R) -> (R ; R) = (x ; dx)")))
    err = rejection(lambda: transpose_program(typing, "f"))
    assert err is not None and "non-linear results" in err.reason


def check_program_text(text: str) -> Typing:
    return check_program(parse_program(Source(text)))


def rejection(action: Callable[[], object]) -> TypeCheckError | None:
    try:
        action()
    except TypeCheckError as err:
        return err
    return None


register_mutants(linear_mutants.MUTANTS)


def _bind_reversed(subst: Any, binders: Any, values: Any, atom: Any) -> Any:
    return _correct_bind(subst, binders, tuple(reversed(values)), atom)


_correct_bind = semantics.bind


def _zero_is_one(m: Any, e: Any, subst: Any) -> Any:
    return "0", semantics.lval(e.type.zero(m.domain) + 1), subst


register_mutants([
    Mutant("linear_ad.semantics_bind_reversed", "linear_ad",
           "the small-step let/unpack/call binds a list of values in reverse order",
           lambda: patch(semantics, "bind", _bind_reversed)),
    Mutant("linear_ad.semantics_zero_is_one", "linear_ad", "the small-step rule 0 yields ⟨1⟩",
           lambda: patch_entry(semantics.RULES, Zero, _zero_is_one)),
])
