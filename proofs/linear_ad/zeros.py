"""Symbolic zeros (``calculi.linear_ad.zeros``) and saved pullback coefficients
(``calculi.linear_ad.coefficients``): what each rewrite keeps (meaning, typing, the gradient),
what it saves (work), and that it is finished (idempotent, no removable zero left).

The zero pass is checked on J of generated non-linear programs (where J's zero tangents of literals
are) and on generated linear programs (zeros, dups, tuples and drops of every kind).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy
from hypothesis import strategies as st

from calculi.linear_ad.ad import jvp, stages, vjp
from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.coefficients import coefficient_bound, coefficient_work
from calculi.linear_ad.eval import function_work
from calculi.linear_ad.jvp import jvp_name
from calculi.linear_ad.names import Supply
from calculi.linear_ad.primitives import FLOAT, FRACTION, MUL, SIN, SYMPY
from calculi.linear_ad.rename import canonical, canonical_program
from calculi.linear_ad.strategies import LITERALS, linear_programs, nonlinear_programs, show
from calculi.linear_ad.syntax import (
    Binding,
    Expr,
    FuncDef,
    LetB,
    Lit,
    Prim,
    Program,
    Tup,
    UnpackB,
    block,
    var_of,
)
from calculi.linear_ad.types import REAL, Mixed
from calculi.linear_ad.unzip import POLICIES, lin_name, nonlin_name
from calculi.linear_ad.zeros import leftover_zeros, zeros_program
from proofs.linear_ad.fixtures import NONLIN, SYMBOLIC, YOLO, constants, main_of, point, run
from proofs.quality import sample
from proofs.registry import theorem

SECTION = "§2.1, symbolic zeros"


@st.composite
def literal_tuples(draw: Any) -> Program:
    """f(x) = let r̄ = literals in let t = tup(r̄ and maybe x, shuffled) in let (p̄) = unpack t in
    sin(p1) × (… × (sin(pn) × x)): tuples all or partly of literals, whose tangent J builds as a
    tupL of zeros (rare in the general generator)."""
    s = Supply()
    x = s.binder("x")
    out: list[Binding] = []
    parts = []
    for text in draw(st.lists(st.sampled_from(LITERALS), min_size=1, max_size=3)):
        r = s.binder("r")
        out.append(LetB((r,), (), Lit(text)))
        parts.append(var_of(r))
    parts = draw(st.permutations(parts + [var_of(x)] * draw(st.integers(0, 1))))
    t = s.binder("t")
    out.append(LetB((t,), (), Tup(tuple(parts))))
    ps = s.binders(("p",) * len(parts))
    out.append(UnpackB(ps, var_of(t)))
    acc: Expr = var_of(x)
    for p in ps:
        v = s.binder("v")
        out.append(LetB((v,), (), Prim(MUL, (Prim(SIN, (var_of(p),)), acc))))
        acc = var_of(v)
    return Program((canonical(FuncDef("f", (x,), (REAL,), (), (), Mixed((REAL,), ()), block(out, acc))),))


BOTH = {"program": st.one_of(nonlinear_programs(), literal_tuples()), "linear": linear_programs()}


def jvp_of(program: Program, bind_scales: bool = False) -> tuple[Typing, str]:
    """J of a generated non-linear program's main function (and its callees), checked."""
    typing, name = main_of(program)
    return jvp(typing, name, bind_scales), jvp_name(name)


def zeroed(typing: Typing) -> Typing:
    return check_program(zeros_program(typing))


def _rational(q: Fraction) -> Any:
    return sympy.Rational(q.numerator, q.denominator)


def same(a: Any, b: Any) -> bool:
    """Exactly equal sympy values: identical, or a difference that expands to 0."""
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(same, a, b))
    return bool(a == b or sympy.expand(a - b) == 0)


@theorem("linear_ad.zeros.preserves_meaning", paper=YOLO, section=SECTION, label="derived",
         statement="⟦Z(p)⟧ = ⟦p⟧ exactly: J of a non-linear program in sympy at a rational point with "
                   "symbolic tangents, and a linear program in Fractions",
         given=BOTH, show=show, max_examples=SYMBOLIC)
def _(program: Program, linear: Program) -> None:
    j, name = jvp_of(program)
    z = zeroed(j)
    n = len(j.signatures[name].params)
    xs = [_rational(q) for q in point(j, name)]
    dxs = list(sympy.symbols(f"dx0:{n}"))
    before, after = run(j, name, xs, dxs, SYMPY), run(z, name, xs, dxs, SYMPY)
    assert same(before, after), f"{before} ≠ {after}"
    typing, lname = main_of(linear)
    d = typing.signatures[lname]
    args = constants(len(d.params))
    largs = [Fraction(2 * k - 3, 5) for k in range(len(d.lparams))]
    assert run(typing, lname, args, largs, FRACTION) == run(zeroed(typing), lname, args, largs, FRACTION)


@theorem("linear_ad.zeros.preserves_typing", paper=YOLO, section=SECTION, label="derived",
         statement="Z(p) type-checks, every function with the signature it had in p (J of a non-linear "
                   "program; a linear program)", given=BOTH, show=show)
def _(program: Program, linear: Program) -> None:
    for typing in (jvp_of(program)[0], main_of(linear)[0]):
        z = zeroed(typing)
        for d in typing.program.defs:
            e = z.signatures[d.name]
            assert (e.param_types, e.lparam_types, e.result) == (d.param_types, d.lparam_types, d.result)


@theorem("linear_ad.zeros.never_adds_work", paper=YOLO, section=SECTION, label="derived",
         statement="W(Z(f)) ≤ W(f) for every function f (the cost semantics, read off the program)",
         given=BOTH, show=show)
def _(program: Program, linear: Program) -> None:
    for typing in (jvp_of(program)[0], main_of(linear)[0]):
        z = zeroed(typing)
        for d in typing.program.defs:
            assert function_work(z, d.name) <= function_work(typing, d.name), d.name


@theorem("linear_ad.zeros.idempotent_and_complete", paper=YOLO, section=SECTION, label="derived",
         statement="Z(Z(p)) = Z(p), and no removable zero remains in Z(p): no s ⊙ 0, 0 ⊕ ė, ė ⊕ 0, "
                   "dup(0), tupL(0̄), unpackL 0, drop of a zero, or let of a zero", given=BOTH, show=show)
def _(program: Program, linear: Program) -> None:
    for typing in (jvp_of(program)[0], main_of(linear)[0]):
        z = zeroed(typing)
        assert leftover_zeros(z) == [], leftover_zeros(z)
        assert canonical_program(zeros_program(z)) == canonical_program(z.program)


@theorem("linear_ad.zeros.same_gradient", paper=YOLO, section=SECTION, label="derived",
         statement="reverse mode through Z (T ∘ U ∘ Z ∘ J) gives the gradient of T ∘ U ∘ J exactly "
                   "(sympy, rational point)", given=NONLIN, show=show, max_examples=SYMBOLIC)
def _(program: Program) -> None:
    typing, name = main_of(program)
    xs = [_rational(q) for q in point(typing, name)]
    ones = [SYMPY.literal("1")] * len(typing.signatures[name].result.nonlin)
    plain = vjp(typing, name, xs, domain=SYMPY)
    zero = vjp(typing, name, xs, domain=SYMPY, st=stages(typing, name, zeros=True))
    assert same(plain.value, zero.value)
    assert same(plain.pull(ones), zero.pull(ones))


# -- saving pullback coefficients ---------------------------------------------------------------


@theorem("linear_ad.cost.save_coefficients", paper=YOLO, section="§2.2, the free choice in unzip",
         label="derived",
         statement="save-coefficients against save-all, per function g: the same results and gradient "
                   "(bit-identical floats); W_own(g.lin) falls and W_own(g.nonlin) rises by exactly "
                   "W(coefficients of g); |tape(g)| grows by at most B(g), the size of g's coefficients "
                   "and of its callees' B", given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    xs = [float(v) for v in point(typing, name)]
    save = stages(typing, name, POLICIES["save-all"])
    coeff = stages(typing, name, POLICIES["save-coefficients"])
    ones = [FLOAT.literal("1")] * len(typing.signatures[name].result.nonlin)
    a, b = vjp(typing, name, xs, st=save), vjp(typing, name, xs, st=coeff)
    assert (a.value, a.pull(ones)) == (b.value, b.pull(ones))
    memo: dict[str, int] = {}
    for g in save.report.residuals:
        work = coefficient_work(save.jvp, g)
        lin = [function_work(s.unzipped, lin_name(g), calls=False) for s in (save, coeff)]
        nonlin = [function_work(s.unzipped, nonlin_name(g), calls=False) for s in (save, coeff)]
        assert lin[0] - lin[1] == nonlin[1] - nonlin[0] == work, (g, lin, nonlin, work)
        bound = coefficient_bound(save.jvp, g, memo)
        assert coeff.report.tape_size[g] <= save.report.tape_size[g] + bound, g


# -- rule coverage -------------------------------------------------------------------------------


def exercise() -> None:
    """Samples of both generators through the zero pass (part of ``linear_ad``'s rule coverage)."""
    for program in sample(nonlinear_programs(), 40, seed=3):
        zeros_program(jvp_of(program, bind_scales=True)[0])
    for program in sample(literal_tuples(), 10, seed=5):
        zeros_program(jvp_of(program, bind_scales=True)[0])
    for program in sample(linear_programs(), 40, seed=4):
        zeros_program(main_of(program)[0])
