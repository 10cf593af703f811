"""Reverse mode (§5 of the paper): gradients are right (exactly on polynomial programs, against
central differences on the rest), transposition is linear and conserves work, and the transposed
program of a parallel program stays parallel: no ``State``, no sequential ``for``. The programs
have pairs, ``case``, readers and accumulation; programs that thread a ``State`` through a
sequential loop are checked forward against differences and backward against forward."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from hypothesis import strategies as st

from calculi.core.trace import Fuel
from calculi.dex.ad import run_vjp, tangent, vjp
from calculi.dex.check import check
from calculi.dex.commands import describe
from calculi.dex.jvp import jvp
from calculi.dex.mutants_ad import MUTANTS
from calculi.dex.pretty import show
from calculi.dex.semantics import evaluate
from calculi.dex.strategies_ad import AdProgram, ad_programs, environments
from calculi.dex.syntax import (
    Accum,
    App,
    BinOp,
    Case,
    Expr,
    For,
    Handle,
    If,
    Index,
    Let,
    Neg,
    Pair,
    RefIndex,
    Seq,
    Var,
)
from calculi.dex.values import Table, Value
from proofs.dex.language import DEX
from proofs.registry import register_mutants, theorem

register_mutants(MUTANTS)

WORK_CONSTANT = 20
"""The transposed program does at most this many times the primal's evaluation steps, plus the
size of the inputs (their cotangent accumulators start at zero). Measured: about 10 on nested
loops whatever their depth (residuals, not recomputation), at most 17 over 1,500 generated
programs of depth 5."""


def flat(value: Value) -> list[Fraction | float]:
    if isinstance(value, Table):
        return [x for v in value.elems for x in flat(v)]
    assert isinstance(value, Fraction | float)
    return [value]


def axpy(t: Fraction | float, v: Value, x: Value) -> Value:
    """``x + t v`` entrywise."""
    if isinstance(x, Table):
        assert isinstance(v, Table)
        return Table(x.index, tuple(axpy(t, a, b) for a, b in zip(v.elems, x.elems, strict=True)))
    return x + t * v  # type: ignore[operator]


def dot(a: Value, b: Value) -> Fraction | float:
    return sum((p * q for p, q in zip(flat(a), flat(b), strict=True)), Fraction(0))


def degree(e: Expr, env: dict[str, int]) -> int:
    """A bound on the degree of a polynomial program (without ``State``) in its parameters; a
    reader's reference has its value's degree, an accumulation its summands'."""
    match e:
        case Var(name=x):
            return env.get(x, 0)
        case BinOp(op="*", left=a, right=b):
            return degree(a, env) + degree(b, env)
        case BinOp(left=a, right=b) | Pair(fst=a, snd=b) | Seq(first=a, then=b):
            return max(degree(a, env), degree(b, env))
        case Neg(arg=a) | App(arg=a) | Index(table=a) | For(body=a) | RefIndex(ref=a):
            return degree(a, env)
        case Accum(value=a):
            return degree(a, env)
        case Let(name=y, bound=a, body=b):
            bound = degree(a, env)
            return max(bound, degree(b, {**env, y: bound}))
        case If(then=a, orelse=b):
            return max(degree(a, env), degree(b, env))
        case Case(alts=alts):
            return max(degree(b, env) for _, b in alts)
        case Handle(init=init, ref=r, body=b):
            start = 0 if init is None else degree(init, env)
            return max(start, degree(b, {**env, r: start}))
    return 0


def derivative_at_zero(f: Callable[[Fraction], Fraction], deg: int) -> Fraction:
    """``p'(0)`` for a polynomial ``p`` of degree at most ``deg``, exactly, by interpolation."""
    nodes = [Fraction(k) for k in range(-(deg // 2) - 1, deg // 2 + 2)]
    total = Fraction(0)
    for k, tk in enumerate(nodes):
        others = [tj for j, tj in enumerate(nodes) if j != k]
        weight = Fraction(0)
        for m, tm in enumerate(others):
            term = 1 / (tk - tm)
            for j, tj in enumerate(others):
                if j != m:
                    term *= (0 - tj) / (tk - tj)
            weight += term
        total += f(tk) * weight
    return total


def _evaluate(program: AdProgram, env: dict[str, Value]) -> Value:
    return evaluate(program.expr, env, parallel=check(program.expr, program.params).parallel)


@theorem("dex.ad.grad_exact", paper=DEX, section="§5", label="derived",
         statement="on polynomial programs the gradient from the transposed program is exact: "
                   "⟨∇f(x), v⟩ = d/dt f(x + t v) at 0, in rational arithmetic",
         given={"program": ad_programs(polynomial=True), "data": st.data()})
def _(program: AdProgram, data: st.DataObject) -> None:
    x = data.draw(environments(program.params))
    v = data.draw(environments(program.params))
    grads = run_vjp(vjp(program.expr, program.params), x)
    want = derivative_at_zero(
        lambda t: _evaluate(program, {k: axpy(t, v[k], x[k]) for k in x}),  # type: ignore[arg-type, return-value]
        degree(program.expr, dict.fromkeys(program.params, 1)))
    got = sum((dot(grads[k], v[k]) for k in x), Fraction(0))
    assert got == want, f"⟨∇f, v⟩ = {got}, d/dt f(x + t v) = {want} for {show(program.expr)}"


@theorem("dex.ad.grad_fd", paper=DEX, section="§5", label="derived",
         statement="the gradient of a program with exp, log, sqrt and / agrees with central "
                   "finite differences along a random direction",
         given={"program": ad_programs(), "data": st.data()})
def _(program: AdProgram, data: st.DataObject) -> None:
    x = data.draw(environments(program.params))
    v = data.draw(environments(program.params))
    grads = run_vjp(vjp(program.expr, program.params), x)
    h = 1e-6
    up = _evaluate(program, {k: axpy(h, v[k], x[k]) for k in x})
    down = _evaluate(program, {k: axpy(-h, v[k], x[k]) for k in x})
    fd = (float(up) - float(down)) / (2 * h)  # type: ignore[arg-type]
    got = float(sum((dot(grads[k], v[k]) for k in x), Fraction(0)))
    assert abs(got - fd) <= 1e-5 * max(1.0, abs(fd)), f"grad gives {got}, differences {fd}"


@theorem("dex.ad.transpose_linear", paper=DEX, section="§5", label="derived",
         statement="transposition is the adjoint: ⟨Tᵀ c, u⟩ = ⟨c, T u⟩ for the linear map T of "
                   "a table-valued program (the dot-product test, in rational arithmetic)",
         given={"program": ad_programs(polynomial=True, table=True), "data": st.data()})
def _(program: AdProgram, data: st.DataObject) -> None:
    x = data.draw(environments(program.params))
    u = data.draw(environments(program.params))
    ty = check(program.expr, program.params).type
    c = data.draw(environments({"ct": ty}))["ct"]
    v = vjp(program.expr, program.params, ct=Var("ct"))
    back = run_vjp(v, {**x, "ct": c})
    _, forward = tangent(v.linearized, x, u)
    left = sum((dot(back[k], u[k]) for k in x), Fraction(0))
    assert left == dot(c, forward), f"⟨Tᵀc, u⟩ = {left}, ⟨c, Tu⟩ = {dot(c, forward)}"


@theorem("dex.ad.transpose_parallel", paper=DEX, section="§5", label="paper-claim",
         statement="the transposed program of a parallel program has no State and no sequential "
                   "for: each read x.i of a table in a for becomes r!i += c in a parallel for",
         given={"program": ad_programs()})
def _(program: AdProgram) -> None:
    checked = vjp(program.expr, program.params).checked
    state = [loop for loop, row in checked.loops if any(e.kind == "State" for e in row)]
    assert not state and not checked.sequential and not checked.row, describe(checked)


@theorem("dex.ad.work", paper=DEX, section="§5", label="derived",
         statement=f"the transposed program's evaluation steps are at most {WORK_CONSTANT} times "
                   "the primal program's, plus the size of the inputs",
         given={"program": ad_programs(), "data": st.data()})
def _(program: AdProgram, data: st.DataObject) -> None:
    x = data.draw(environments(program.params))
    primal, reverse = Fuel(), Fuel()
    evaluate(program.expr, dict(x), fuel=primal)
    run_vjp(vjp(program.expr, program.params), x, fuel=reverse)
    inputs = sum(len(flat(value)) for value in x.values())
    assert reverse.used <= WORK_CONSTANT * primal.used + inputs, \
        f"{reverse.used} steps against {primal.used} for the primal"


@theorem("dex.ad.jvp_state_fd", paper=DEX, section="§5", label="derived",
         statement="forward mode through a State threaded by a sequential for (s := get s * a + b) "
                   "agrees with central finite differences",
         given={"program": ad_programs(polynomial=True, state=True), "data": st.data()})
def _(program: AdProgram, data: st.DataObject) -> None:
    x = data.draw(environments(program.params))
    v = data.draw(environments(program.params))
    _, forward = tangent(jvp(program.expr, program.params), x, v)
    h = Fraction(1, 10**6)
    up = _evaluate(program, {k: axpy(h, v[k], x[k]) for k in x})
    down = _evaluate(program, {k: axpy(-h, v[k], x[k]) for k in x})
    assert isinstance(forward, Fraction) and isinstance(up, Fraction) and isinstance(down, Fraction)
    fd = (up - down) / (2 * h)
    assert abs(forward - fd) <= Fraction(1, 10**4) * max(Fraction(1), abs(fd)), \
        f"jvp gives {forward}, differences {fd}"


@theorem("dex.ad.state_backwards", paper=DEX, section="§5", label="derived",
         statement="reverse mode through a State loop (its transpose runs the loop backwards, the "
                   "state's cotangent in a State of its own) is the adjoint of forward mode: "
                   "⟨∇f(x), v⟩ = ∂f(x)·v exactly",
         given={"program": ad_programs(polynomial=True, state=True), "data": st.data()})
def _(program: AdProgram, data: st.DataObject) -> None:
    x = data.draw(environments(program.params))
    v = data.draw(environments(program.params))
    _, forward = tangent(jvp(program.expr, program.params), x, v)
    grads = run_vjp(vjp(program.expr, program.params), x)
    got = sum((dot(grads[k], v[k]) for k in x), Fraction(0))
    assert got == forward, f"⟨∇f, v⟩ = {got}, ∂f·v = {forward}"


__all__ = ["WORK_CONSTANT", "degree", "derivative_at_zero"]
