"""The cheap, strong checks, registered first: the mutant hunt runs a calculus's theorems in
registration order and stops at the first that fails, so these catch most seeded bugs quickly.
The small-step semantics against the evaluator (the only theorem that runs the semantics), the
typing of the passes (P1, P2), the complex-step derivative (P3), the dot-product test of
transposition (P8) and its conservation of work (P13).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from calculi.core.trace import Fuel
from calculi.linear_ad import semantics
from calculi.linear_ad.ad import stages
from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.eval import Cost
from calculi.linear_ad.laws import close, dot, linear_uses
from calculi.linear_ad.primitives import COMPLEX, FLOAT, FRACTION
from calculi.linear_ad.strategies import linear_programs, nonlinear_programs, show
from calculi.linear_ad.syntax import Program
from calculi.linear_ad.transpose import transpose_name, transpose_program
from proofs.linear_ad.fixtures import LINEAR, NONLIN, YOLO, constants, linear_fixture, main_of, point, run
from proofs.registry import theorem


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
    deltas = [Fraction(2 * k - 1, 3) for k in range(len(d.lparams))]
    small_step_agrees(typing, name, constants(len(d.params)), deltas, FRACTION)


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
