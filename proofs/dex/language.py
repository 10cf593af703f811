"""Theorems of the language: the printer and parser agree; well-typed programs run to a value of
their type; a literal index is accepted exactly when it is in range; a parallel ``for`` gives the
same table whatever the order of its iterations (with exact, rational arithmetic)."""

from __future__ import annotations

import random
from dataclasses import fields

from hypothesis import strategies as st

from calculi.core.errors import CalculusError, TypeCheckError
from calculi.core.syntax import Source
from calculi.dex.check import check
from calculi.dex.mutants import MUTANTS
from calculi.dex.mutants_inference import INFERENCE_MUTANT
from calculi.dex.parse import parse_program
from calculi.dex.pretty import show, show_type
from calculi.dex.semantics import evaluate
from calculi.dex.strategies import (
    Program,
    histogram_programs,
    loop_bodies,
    programs,
    state_programs,
)
from calculi.dex.strategies_effects import effect_programs
from calculi.dex.strategies_inference import uninferable_programs
from calculi.dex.syntax import REAL, Accum, App, Expr, For, Handle, Omitted, Type, Var
from calculi.dex.values import has_type, show_value
from proofs.quality import distribution, every_rule_fires, sample
from proofs.registry import Paper, register_mutants, theorem

DEX = Paper("dex", "Getting to the Point: Index Sets and Parallelism-Preserving Autodiff for "
            "Pointful Array Programming (Paszke, Johnson, Duvenaud, Vytiniotis, Radul, Johnson, "
            "Ragan-Kelley, Maclaurin)", "ICFP 2021")

register_mutants(MUTANTS)
register_mutants([INFERENCE_MUTANT])


@theorem("dex.syntax.round_trip", paper=DEX, section="§2", label="derived",
         statement="printing a program and parsing it back gives the same program",
         given={"program": programs()})
def _(program: Program) -> None:
    text = show(program.expr)
    assert parse_program(Source(text)) == program.expr, text


@theorem("dex.types.inference_elaborates", paper=DEX, section="§2.2", label="derived",
         statement="checking for i. e writes the inferred index set into the program: printing the "
                   "elaborated program gives text with every index set written out, which parses "
                   "and checks to the same type",
         given={"program": programs() | effect_programs()})
def _(program: Program) -> None:
    text = show(program.expr)
    parsed = parse_program(Source(text))
    checked = check(parsed)
    elaborated = show(parsed)
    again = parse_program(Source(elaborated))
    assert not _omits(again), f"{text} elaborates to {elaborated}, which still omits an index set"
    assert check(again).type == checked.type, f"{text} : {show_type(checked.type)}, {elaborated}"


@theorem("dex.types.inference_errors", paper=DEX, section="§2.2", label="derived",
         statement="a for i. e whose index set no use of i fixes, or whose uses disagree on it, "
                   "is a type error at a position (T-For, or the rule of the disagreeing use)",
         given={"program": uninferable_programs()})
def _(program: Expr) -> None:
    text = show(program)
    failure: TypeCheckError | None = None
    try:
        check(parse_program(Source(text)))
    except TypeCheckError as err:
        failure = err
    assert failure is not None, f"{text} was accepted"
    assert failure.span is not None and failure.rule, f"{text}: {failure.render()} has no position"


def _omits(e: object) -> bool:
    """Does ``e`` leave out the index set of some ``for``?"""
    if isinstance(e, For) and isinstance(e.type, Omitted):
        return True
    if isinstance(e, tuple):
        return any(_omits(part) for part in e)
    return isinstance(e, Expr) and any(_omits(getattr(e, f.name)) for f in fields(e))


@theorem("dex.types.progress", paper=DEX, section="§3", label="derived",
         statement="a well-typed closed program runs to a value: it never gets stuck (index "
                   "out of range, a missing rule, a reference out of scope)",
         given={"program": programs()})
def _(program: Program) -> None:
    checked = check(program.expr)
    try:
        evaluate(program.expr, parallel=checked.parallel)
    except CalculusError as err:
        raise AssertionError(f"stuck: {err.render()}") from None


@theorem("dex.types.preservation", paper=DEX, section="§3", label="derived",
         statement="the value of a well-typed program has the program's type (tables have one "
                   "entry per index of their index set; indices are in range)",
         given={"program": programs()})
def _(program: Program) -> None:
    checked = check(program.expr)
    value = evaluate(program.expr, parallel=checked.parallel)
    assert has_type(value, checked.type), f"{value!r} is not a {show_type(checked.type)}"


@theorem("dex.types.index_range", paper=DEX, section="§2.2",
         statement="Fin n indices are typed: the literal k@Fin n is accepted exactly when "
                   "0 ≤ k < n, so indexing a table never goes out of range",
         given={"n": st.integers(0, 6), "k": st.integers(0, 8)})
def _(n: int, k: int) -> None:
    text = f"let x = for i:Fin {n}. to_real (ordinal i) in x.({k}@Fin {n})"
    try:
        check(parse_program(Source(text)))
        accepted = True
    except TypeCheckError:
        accepted = False
    assert accepted == (k < n), f"{text}: accepted={accepted}"


@theorem("dex.effects.parallel_for_order", paper=DEX, section="§4",
         statement="a for whose body only reads and accumulates is parallel: visiting its indices "
                   "in any order gives the same value (exact arithmetic)",
         given={"program": programs() | state_programs(), "seed": st.integers(0, 2**32 - 1)})
def _(program: Program, seed: int) -> None:
    checked = check(program.expr)
    expected = evaluate(program.expr, parallel=checked.parallel)
    rng = random.Random(seed)

    def shuffled(n: int) -> list[int]:
        order = list(range(n))
        rng.shuffle(order)
        return order

    for order in (shuffled, lambda n: range(n - 1, -1, -1)):
        got = evaluate(program.expr, parallel=checked.parallel, order=order)
        assert got == expected, (f"{show_value(got, checked.type)} in another order, "
                                 f"{show_value(expected, checked.type)} in order")


@theorem("dex.effects.accum_is_sum", paper=DEX, section="§4",
         statement="accumulating e into a real over every index of n gives the sum of the table "
                   "of e: snd (run_accum Real \\r. for i:n. r += e) = sum (for i:n. e)",
         given={"loop": loop_bodies()})
def _(loop: tuple[str, Type, Expr]) -> None:
    index, n, body = loop
    ref = "acc" if index != "acc" else "acc2"
    accumulated = App(Var("snd"), Handle("run_accum", None, REAL, ref,
                                         For(index, n, Accum(Var(ref), body))))
    summed = App(Var("sum"), For(index, n, body))
    values = []
    for program in (accumulated, summed):
        values.append(evaluate(program, parallel=check(program).parallel))
    assert values[0] == values[1], (f"{show(accumulated)} gives {show_value(values[0], REAL)}, "
                                    f"the sum {show_value(values[1], REAL)}")


def _exercise() -> None:
    drawn = programs() | state_programs() | histogram_programs()
    exprs = [p.expr for p in sample(drawn, 100, seed=1)]
    exprs += [parse_program(Source(text)) for text in WORKED]
    for expr in exprs:
        evaluate(expr, parallel=check(expr).parallel)


WORKED = [
    "let relu = \\v:Real. if v < 0.0 then 0.0 else v in for i:Fin 3. relu (to_real (ordinal i) - 1.0)",
    "with_reader 2.0 \\r. run_state 0.0 \\s. for i:Fin 3. s := get s + ask r; get s",
]
"""Worked programs run beside the generated ones (the relu takes both branches)."""


every_rule_fires("dex", DEX, "§3", _exercise)

distribution("dex", "programs", programs(), {
    "has a sequential for (State)": lambda p: bool(check(p.expr).sequential),
    "has a parallel for": lambda p: bool(check(p.expr).parallel),
    "accumulates": lambda p: "+=" in show(p.expr),
    "shadows a name": lambda p: show(p.expr).count("let x ") > 1 or "\\sum" in show(p.expr),
})
