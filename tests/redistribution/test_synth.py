"""Synthesis: the easy program, the normalising rewrites, and the two baselines on worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from calculi.core.errors import FuelExhausted, TypeCheckError
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.redistribution import synth
from calculi.redistribution.baselines import naive, synthesize, xla_like
from calculi.redistribution.check import check_type
from calculi.redistribution.costs import profile
from calculi.redistribution.parse import parse_mesh, parse_program, parse_type
from calculi.redistribution.pretty import show_program
from calculi.redistribution.simulator import misplaced, simulate
from calculi.redistribution.syntax import DistType, Mesh


def arange(ty: DistType) -> np.ndarray:
    return np.arange(math.prod(ty.global_shape)).reshape(ty.global_shape)


def problem(mesh: str, source: str, target: str) -> tuple[Mesh, DistType, DistType]:
    m = parse_mesh(Source(mesh))
    return m, check_type(parse_type(Source(source)), m), check_type(parse_type(Source(target)), m)


@pytest.mark.parametrize(
    ("mesh", "source", "target", "program", "profile_"),
    [
        ("x=2, y=3", "[3{x}6]", "[2{y}6]",
         "DynSlice(0, y); AllPermute([1{y,x}6]); AllGather(0, x)", [3, 1, 1, 2]),
        ("a=4", "[2{a}8, 8]", "[8, 2{a}8]", "AllToAll(0 -> 1, a)", [16, 16]),
        ("a=2, b=2", "[2{a,b}8]", "[2{b,a}8]", "AllPermute([2{b,a}8])", [2, 2]),
        ("x=2, y=3", "[6{x}12, 12]", "[12, 2{y,x}12]", "DynSlice(1, y); AllToAll(0 -> 1, x)", [72, 24, 24]),
        ("x=2, y=2", "[8, 8]", "[4{x}8, 4{y}8]", "DynSlice(0, x); DynSlice(1, y)", [64, 32, 16]),
        ("x=2, y=2", "[4{x}8, 4{y}8]", "[8, 8]", "AllGather(0, x); AllGather(1, y)", [16, 32, 64]),
        ("x=2, y=2, z=2", "[4{x}8, 4{y}8, 8]", "[8, 2{z,x}8, 4{y}8]",
         "DynSlice(2, z); AllToAll(0 -> 1, x); AllPermute([8, 2{z,x}8, 4{y}8])", [128, 64, 64, 64]),
        # axes of unequal sizes: the flat run is searched for, with its one permutation in the middle
        # (the AllToAll(1 -> 0, z); AllGather(0, z) it used to end with is one AllGather(1, z))
        ("x=2, y=4, z=2", "[16{z}32, 4{y,x}32]", "[8{y}32, 16{x}32]",
         "AllToAll(1 -> 0, x); AllPermute([8{y}32, 8{x,z}32]); AllGather(1, z)", [64, 64, 64, 128]),
    ],
)
def test_paper_synthesis_golden(
    mesh: str, source: str, target: str, program: str, profile_: list[int]
) -> None:
    m, src, tgt = problem(mesh, source, target)
    synthesised = synth.paper(src, tgt, m)
    assert show_program(synthesised) == program
    assert profile(src, synthesised, m).local_sizes == profile_
    assert synth.is_normal(synthesised)


def test_a_stuck_valley_goes_through_another_dimension() -> None:
    # |x| = 4 does not divide 6, so AllGather(1, y); DynSlice(1, x) has no valley: the slice goes to
    # dimension 0 and comes back by an AllToAll (peak 36, not the whole array's 144)
    m, src, tgt = problem("x=4, y=2", "[3{x}12, 6{y}12]", "[12, 3{x}12]")
    program = synth.paper(src, tgt, m)
    assert show_program(program) == "AllGather(1, y); AllToAll(0 -> 1, x)"
    assert profile(src, program, m).local_sizes == [18, 36, 36]
    run = simulate(arange(src), src, program, m)
    assert not misplaced(run, arange(src), tgt, m)


def test_an_all_to_all_then_its_gather_is_one_gather() -> None:
    m, src, _ = problem("x=2, y=2", "[4{x}8, 8]", "[8, 8]")
    program = parse_program(Source("AllToAll(0 -> 1, x); AllGather(1, x)"))
    assert show_program(synth.normalize(program, src, m)) == "AllGather(0, x)"


def test_the_easy_program_gathers_everything_then_slices() -> None:
    m, src, tgt = problem("x=2, y=3", "[1{x,y}6]", "[2{y}6]")
    assert show_program(synth.easy_program(src, tgt, m)) == "AllGather(0, y); AllGather(0, x); DynSlice(0, y)"
    assert show_program(naive(src, tgt, m)) == show_program(synth.easy_program(src, tgt, m))


@pytest.mark.parametrize(
    ("source", "target", "program"),
    [
        ("[3{x}6]", "[3{x}6]", ""),
        ("[2{y}6, 6]", "[6, 2{y}6]", "AllToAll(0 -> 1, y)"),
        ("[3{x}6, 6]", "[1{x,y}6, 6]", "DynSlice(0, y)"),
        ("[1{x,y}6, 6]", "[3{x}6, 6]", "AllGather(0, y)"),
        # XLA's "first replicate and then reshard": the whole array on every device
        ("[3{x}6, 6]", "[2{y}6, 6]", "AllGather(0, x); DynSlice(0, y)"),
    ],
)
def test_xla_like_decision_list(source: str, target: str, program: str) -> None:
    m, src, tgt = problem("x=2, y=3", source, target)
    assert show_program(xla_like(src, tgt, m)) == program


def test_xla_like_permutes_when_only_the_device_order_differs() -> None:
    m, src, tgt = problem("a=2, b=2", "[2{a,b}8]", "[2{b,a}8]")
    assert show_program(xla_like(src, tgt, m)) == "AllPermute([2{b,a}8])"


def test_normalisation_spends_fuel() -> None:
    m, src, tgt = problem("x=2, y=2, z=2", "[4{x}8, 4{y}8, 8]", "[8, 2{z,x}8, 4{y}8]")
    with pytest.raises(FuelExhausted):
        synth.normalize(synth.easy_program(src, tgt, m), src, m, Fuel(2))


def test_mismatched_global_shapes_are_rejected() -> None:
    m, src, tgt = problem("x=2, y=3", "[3{x}6]", "[2{y}6, 4]")
    with pytest.raises(TypeCheckError, match="different global shapes"):
        synthesize(src, tgt, m)


def test_outside_the_divisible_regime_the_program_is_still_correct() -> None:
    # 3 is not divisible by |y| = 2 after gathering x, so the peak cannot be flattened: the rewrite
    # system keeps the (correct) program and reports it as not in normal form.
    m, src, tgt = problem("x=2, y=2", "[3{x}6, 3{y}6]", "[3{y}6, 3{x}6]")
    program = synth.paper(src, tgt, m)
    assert profile(src, program, m).types[-1] == tgt
    assert show_program(program) == "AllGather(0, x); AllToAll(1 -> 0, y); DynSlice(1, x)"
    assert not synth.is_normal(program)
