"""Second order through the embedding: every stage fed to the stages again, checked exactly.

The Hessian oracle is sympy's ``hessian`` of the source function evaluated on symbols; the
derivative programs run in the sympy domain at a rational point and are compared at 50 digits
(``near``), as P3 compares first derivatives.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from fractions import Fraction
from typing import Any

import sympy

from calculi.core.mutants import Mutant, patch
from calculi.linear_ad import embed
from calculi.linear_ad.ad import stages
from calculi.linear_ad.check import check_program
from calculi.linear_ad.embed import embed_program, is_ordinary, missing_rows, readings
from calculi.linear_ad.eval import Cost
from calculi.linear_ad.primitives import FRACTION, LADD, PRIMITIVES, SCALE, SYMPY
from calculi.linear_ad.second_order import SecondOrder, dir_name, grad_name, second_order
from calculi.linear_ad.strategies import show
from calculi.linear_ad.syntax import Block, Drop, Expr, LetB, Program
from proofs.linear_ad.fixtures import LINEAR, NONLIN, SYMBOLIC, YOLO, constants, main_of, near, point, run
from proofs.registry import register_mutants, theorem

WORK_FACTOR = 6
"""work(J(f.grad)) ≤ WORK_FACTOR · work(f.grad) + |x| on every generated program (measured: at most 4)."""


def _setup(program: Program) -> tuple[SecondOrder, list[sympy.Rational], list[sympy.Rational]]:
    typing, name = main_of(program)
    so = second_order(typing, name)
    x = [sympy.Rational(q.numerator, q.denominator) for q in point(typing, name)]
    v = [sympy.Rational(q.numerator, q.denominator) for q in constants(len(x))]
    return so, x, v


def symbolic_hvp(so: SecondOrder, x: list[Any], v: list[Any]) -> list[Any]:
    """H(x) v from sympy's Hessian of the source function, evaluated on symbols."""
    xs = sympy.symbols(f"x0:{so.n}", real=True)
    (primal,), _ = run(so.first.source, so.name, list(xs), [], SYMPY)
    h = sympy.hessian(primal, xs).subs(dict(zip(xs, x, strict=True)))
    return list(h * sympy.Matrix(v))


def _agree(got: Any, want: Any, what: str) -> None:
    assert len(got) == len(want), f"{what}: {len(got)} entries, {len(want)} wanted"
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        assert near(a, b), f"{what}[{i}] = {sympy.N(a, 20)} ≠ {sympy.N(b, 20)}"


@theorem("linear_ad.second_order.embedding_typed", paper=YOLO, section="Embed", label="derived",
         statement="⌊·⌋ of every stage (J, U, T of a non-linear program; a generated linear program) is "
                   "ordinary and accepted by the checker, and ⟦⌊e⌋⟧(γ, δ) = ⟦e⟧(γ ; δ) in Fractions",
         given=LINEAR, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    embedded = check_program(embed_program(program))
    assert is_ordinary(embedded.program)
    d = typing.signatures[name]
    gamma = constants(len(d.params))
    delta = [Fraction(2 * k - 1, 3) for k in range(len(d.lparams))]
    want = run(typing, name, gamma, delta, FRACTION)
    got = run(embedded, name, [*gamma, *delta], [], FRACTION)
    assert got == ((*want[0], *want[1]), ()), f"⌊{name}⌋ gives {got}, {name} gives {want}"


@theorem("linear_ad.second_order.stages_embed", paper=YOLO, section="Embed", label="derived",
         statement="every stage of reverse mode (J f, U(J f), T(lin)) embeds to an ordinary program the "
                   "checker accepts, and every linear primitive of the table has a non-linear reading",
         given=NONLIN, show=show)
def _(program: Program) -> None:
    missing = missing_rows(list(PRIMITIVES.values()))
    assert not missing, f"rows missing: {missing}"
    typing, name = main_of(program)
    st = stages(typing, name)
    for stage in ("jvp", "unzip", "transpose"):
        embedded = check_program(embed_program(st.program(stage)))
        assert is_ordinary(embedded.program), stage


@theorem("linear_ad.second_order.forward_over_reverse", paper=YOLO, section="Hessian", label="derived",
         statement="J(⌊grad f⌋)(x ; v) = H(x) v, H sympy's Hessian of f (exact values, 50 digits)",
         given=NONLIN, show=show, max_examples=SYMBOLIC)
def _(program: Program) -> None:
    so, x, v = _setup(program)
    _agree(so.hvp(x, v, SYMPY), symbolic_hvp(so, x, v), "forward over reverse")


@theorem("linear_ad.second_order.over_forward", paper=YOLO, section="Hessian", label="derived",
         statement="reverse over forward (grad of ⌊J f⌋·v) and forward over forward (J of ⌊J f⌋·v) "
                   "equal H(x) v, sympy's Hessian (exact values, 50 digits)",
         given=NONLIN, show=show, max_examples=SYMBOLIC)
def _(program: Program) -> None:
    so, x, v = _setup(program)
    want = symbolic_hvp(so, x, v)
    _agree(so.hvp_reverse_over_forward(x, v, SYMPY), want, "reverse over forward")
    _agree(so.hvp_forward_over_forward(x, v, SYMPY), want, "forward over forward")


@theorem("linear_ad.second_order.hessian_symmetric", paper=YOLO, section="Hessian", label="derived",
         statement="the Hessian built from J(⌊grad f⌋) is symmetric, exactly over rationals' images "
                   "(sympy values, 50 digits): H[i][j] = H[j][i]",
         given=NONLIN, show=show, max_examples=SYMBOLIC)
def _(program: Program) -> None:
    so, x, _ = _setup(program)
    h = so.hessian(x, SYMPY)
    for i in range(so.n):
        for j in range(i):
            assert near(h[i][j], h[j][i]), f"H[{i}][{j}] = {h[i][j]} ≠ H[{j}][{i}] = {h[j][i]}"


def _work(t: Any, name: str, args: list[Any], largs: list[Any]) -> int:
    cost = Cost()
    run(t, name, args, largs, cost=cost)
    return sum(cost.work.values())


@theorem("linear_ad.second_order.work", paper=YOLO, section="Hessian", label="derived",
         statement=f"work(J(⌊grad f⌋)) ≤ {WORK_FACTOR}·work(⌊grad f⌋) + |x|, and the same bound for "
                   "reverse over forward against ⌊J f⌋ (cost semantics, floats)",
         given=NONLIN, show=show, max_examples=SYMBOLIC)
def _(program: Program) -> None:
    so, x, v = _setup(program)
    xs, vs = [float(a) for a in x], [float(a) for a in v]
    first = _work(so.gradient, grad_name(so.name), xs, [])
    second = _work(so.over_reverse, f"{grad_name(so.name)}.jvp", xs, vs)
    assert second <= WORK_FACTOR * first + so.n, f"forward over reverse: {second} > {WORK_FACTOR}·{first}"
    st = so.over_forward
    directional = _work(so.directional, dir_name(so.name), [*xs, *vs], [])
    (*_, tape), _ = run(st.unzipped, st.nonlin_fn, [*xs, *vs], [])
    back = (_work(st.unzipped, st.nonlin_fn, [*xs, *vs], [])
            + _work(st.transposed, st.transposed_fn, [tape], [1.0]))
    assert back <= WORK_FACTOR * directional + 2 * so.n, \
        f"reverse over forward: {back} > {WORK_FACTOR}·{directional}"


# -- mutants ---------------------------------------------------------------------------------------


@contextmanager
def _without(p: Any) -> Iterator[None]:
    old = readings.pop(p)
    try:
        yield
    finally:
        readings[p] = old


def _first_only(args: tuple[Expr, ...], largs: tuple[Expr, ...], ps: dict[str, Any]) -> Expr:
    """⌊ė1 ⊕ ė2⌋ = ⌊ė1⌋, ⌊ė2⌋ dropped: well-typed, wrong."""
    return Block((LetB((), (), Drop(largs[1])),), largs[0])


@contextmanager
def _ladd_first() -> Iterator[None]:
    old = readings[LADD]
    readings[LADD] = _first_only
    try:
        yield
    finally:
        readings[LADD] = old


def _missing_scale() -> AbstractContextManager[None]:
    return _without(SCALE)


register_mutants([
    Mutant("linear_ad.embed_drops_scale", "linear_ad", "the embedding has no non-linear reading of ⊙ "
           "(its row is missing)", _missing_scale, theorems="linear_ad.second_order"),
    Mutant("linear_ad.embed_ladd_first", "linear_ad", "the embedding reads ė1 ⊕ ė2 as ė1 (the second "
           "summand dropped)", _ladd_first, theorems="linear_ad.second_order"),
    Mutant("linear_ad.embed_tuples_whole", "linear_ad", "the embedding reads ⊕, ⊙ and lneg of a tuple as + × "
           "and - of it (not item by item)", lambda: patch(embed, "LEAFWISE", frozenset()),
           theorems="linear_ad.second_order"),
])
