"""The optimal strategy: worked examples, its tie-breaks, its limits, and the paper's known misses."""

from __future__ import annotations

import math

import numpy as np
import pytest

from calculi.core.errors import CalculusError
from calculi.core.syntax import Source
from calculi.redistribution import optimal, shapebound, synth
from calculi.redistribution.baselines import optimal_subaxes, synthesize
from calculi.redistribution.check import check_type
from calculi.redistribution.costs import profile
from calculi.redistribution.misses import lacking
from calculi.redistribution.parse import parse_mesh, parse_type
from calculi.redistribution.pretty import show_program
from calculi.redistribution.simulator import misplaced, simulate
from calculi.redistribution.strategies import Problem
from calculi.redistribution.subaxes import candidate_ops as sub_axis_candidates
from calculi.redistribution.syntax import AllGather, AllPermute, AllToAll, DistType, DynSlice, Mesh, Program
from proofs.redistribution.optimal import least_moved_count, oracle


def problem(mesh: str, source: str, target: str) -> tuple[Mesh, DistType, DistType]:
    m = parse_mesh(Source(mesh))
    return m, check_type(parse_type(Source(source)), m), check_type(parse_type(Source(target)), m)


def cost(m: Mesh, src: DistType, program: Program) -> tuple[int, int]:
    prof = profile(src, program, m)
    return prof.peak, sum(prof.received.values())


@pytest.mark.parametrize(
    ("mesh", "source", "target", "program", "peak", "moved"),
    [
        ("x=2, y=3", "[3{x}6]", "[2{y}6]", "DynSlice(0, y); AllPermute([1{y,x}6]); AllGather(0, x)", 3, 10),
        ("a=4", "[2{a}8, 8]", "[8, 2{a}8]", "AllToAll(0 -> 1, a)", 16, 48),
        # the easy program peaks at the whole array, 144, and the valley's premise fails (4 does not divide 6)
        ("x=4, y=2", "[3{x}12, 6{y}12]", "[12, 3{x}12]", "AllGather(1, y); AllToAll(0 -> 1, x)", 36, 360),
        ("x=2, y=3", "[3{x}6]", "[3{x}6]", "", 3, 0),
    ],
)
def test_optimal_golden(mesh: str, source: str, target: str, program: str, peak: int, moved: int) -> None:
    m, src, tgt = problem(mesh, source, target)
    found = optimal.optimum(src, tgt, m)
    assert show_program(found.program) == program
    assert (found.peak, found.moved) == (peak, moved) == cost(m, src, found.program)
    assert synthesize(src, tgt, m, "optimal") == found.program


def test_the_paper_no_longer_misses_the_stuck_valley() -> None:
    m, src, tgt = problem("x=4, y=2", "[3{x}12, 6{y}12]", "[12, 3{x}12]")
    assert cost(m, src, synth.easy_program(src, tgt, m))[0] == 144
    paper = synth.paper(src, tgt, m)
    assert paper == optimal.optimal(src, tgt, m)
    assert lacking(paper, paper, src, tgt, m) == ""


@pytest.mark.parametrize(
    ("mesh", "source", "target", "lacks"),
    [
        ("x=2, y=4, z=2", "[4{z,x}16, 4{y}16]", "[2{x,y}16, 8{z}16]", "a second AllPermute"),
        ("x=2, y=4, z=2", "[16{x}32, 16]", "[8{y}32, 16]", "slice by an axis neither type uses"),
        ("x=2, y=4, z=2", "[16, 4{x,z}16]", "[16, 4{y}16]", "one AllPermute between types of equal"),
        ("x=4, y=2, z=2", "[4{x}16] ", "[8{y}16]", "permute onto an axis that is then gathered"),
        ("x=2, y=2", "[6, 2{x}4]", "[3{x}6, 2{y}4]", "slice the other dimension and permute"),
        ("x=4, y=2", "[4{y}8, 2{x}8, 8]", "[2{x}8, 4{y}8, 8]", "AllToAlls through a third dimension"),
    ],
)
def test_the_rewrites_the_paper_lacks_are_named(mesh: str, source: str, target: str, lacks: str) -> None:
    m, src, tgt = problem(mesh, source, target)
    paper, best = synth.paper(src, tgt, m), optimal.optimal(src, tgt, m)
    assert cost(m, src, best) < cost(m, src, paper)
    assert lacking(paper, best, src, tgt, m).startswith(lacks)


def test_ties_prefer_fewer_ops_then_slices_first_then_lower_dimensions() -> None:
    # [8, 8] -> [4{x}8, 4{y}8] moves nothing either way; both slice orders cost (64, 0) and have two ops:
    # the lower dimension is sliced first
    m, src, tgt = problem("x=2, y=2", "[8, 8]", "[4{x}8, 4{y}8]")
    assert show_program(optimal.optimal(src, tgt, m)) == "DynSlice(0, x); DynSlice(1, y)"
    # two gathers of equal cost: the lower dimension first
    m, src, tgt = problem("x=2, y=2", "[4{x}8, 4{y}8]", "[8, 8]")
    assert show_program(optimal.optimal(src, tgt, m)) == "AllGather(0, x); AllGather(1, y)"
    # the order of the keys themselves: DynSlice < AllToAll < AllPermute < AllGather
    keys = [optimal.op_key(op, m) for op in (DynSlice(1, "y"), AllToAll(0, 1, "x"), AllPermute(tgt),
                                             AllGather(0, "x"))]
    assert keys == sorted(keys)


def test_ties_are_independent_of_the_order_types_are_found_in() -> None:
    m, src, tgt = problem("x=2, y=2, z=2", "[4{x}8, 4{y}8, 8]", "[8, 2{z,x}8, 4{y}8]")
    forward = optimal.optimal(src, tgt, m)
    optimal._graph.cache_clear()
    optimal.build_graph(tgt, m)  # the same graph, built from the other end
    assert optimal.optimal(src, tgt, m) == forward


@pytest.mark.parametrize(
    ("mesh", "source", "target"),
    [
        ("x=2, y=3", "[3{x}6, 6]", "[6, 2{y}6]"),
        ("x=2, y=2", "[2{x,y}8, 8]", "[8, 2{y,x}8]"),
        ("x=4, y=2", "[12{x}48, 24{y}48]", "[48, 12{x}48]"),
        ("x=2, y=1, z=2", "[2{x}4, 4]", "[4, 1{z,y,x}4]"),
    ],
)
def test_optimal_agrees_with_the_exhaustive_oracle(mesh: str, source: str, target: str) -> None:
    m, src, tgt = problem(mesh, source, target)
    found = optimal.optimum(src, tgt, m)
    assert (found.peak, found.moved) == oracle(Problem(m, src, tgt))


def test_two_permutes_are_sometimes_the_only_least_traffic() -> None:
    m, src, tgt = problem("x=2, y=4, z=2", "[4{z,x}16, 4{y}16]", "[2{x,y}16, 8{z}16]")
    found = optimal.optimum(src, tgt, m)
    assert sum(isinstance(op, AllPermute) for op in found.program) == 2
    assert least_moved_count(Problem(m, src, tgt)) == (found.moved, 1)
    one = optimal.search(src, tgt, m, bound=16 * 16, most_permutes=1)
    assert one is not None and one.moved > found.moved


@pytest.mark.parametrize(
    ("mesh", "source", "target", "plain", "split"),
    [
        ("x=2, y=4", "[2{y}8]", "[4{x}8]", 30, 24),
        ("data=2, model=4", "[4{data}8, 2{model}8]", "[2{model}8, 4{data}8]", 128, 64),
    ],
)
def test_sub_axes_let_the_search_move_less(mesh: str, source: str, target: str, plain: int,
                                           split: int) -> None:
    m, src, tgt = problem(mesh, source, target)
    assert optimal.optimum(src, tgt, m).moved == plain
    program = optimal_subaxes(src, tgt, m)
    assert cost(m, src, program) == (max(src.local_size, tgt.local_size), split)
    data = np.arange(math.prod(src.global_shape)).reshape(src.global_shape)
    assert not misplaced(simulate(data, src, program, m), data, tgt, m)


def test_huge_sizes_cost_nothing_to_search() -> None:
    n = 2**300
    m, src, tgt = problem("x=2, y=2", f"[{n // 2}{{x}}{n}, {n}]", f"[{n}, {n // 2}{{x}}{n}]")
    found = optimal.optimum(src, tgt, m)
    assert show_program(found.program) == "AllToAll(0 -> 1, x)"
    assert found.moved == 4 * (n // 2 * n) // 2


@pytest.mark.parametrize(
    ("mesh", "source", "target"),
    [
        ("a=2, b=2, c=2, d=2, e=2, f=2, g=2, h=2", "[1{a,b,c}8, 1{d,e,f}8, 4{g,h}16]",
         "[1{h,g,f}8, 1{e,d,c}8, 4{b,a}16]"),
        ("x=128, y=64", "[1{x}128, 64]", "[128, 1{y}64]"),
    ],
)
def test_past_the_limits_a_located_refusal(mesh: str, source: str, target: str) -> None:
    m, src, tgt = problem(mesh, source, target)
    with pytest.raises(CalculusError, match="optimal search would") as err:
        optimal.optimum(src, tgt, m)
    assert err.value.span is not None and err.value.rule == "optimal"


def test_what_the_whole_graph_refused_the_fast_search_solves() -> None:
    m, src, tgt = problem("a=2, b=2, c=2, d=2, e=2", "[64{a}128, 128, 128]", "[128, 128, 64{b}128]")
    with pytest.raises(CalculusError, match="optimal search would"):
        optimal.reference(src, tgt, m)
    found = optimal.optimum(src, tgt, m)
    assert (found.peak, found.moved) == cost(m, src, found.program) <= cost(m, src, synth.paper(src, tgt, m))
    assert profile(src, found.program, m).types[-1] == tgt


def test_the_sub_axis_search_reaches_types_over_an_axis_of_size_one() -> None:
    m = parse_mesh(Source("x=2, y=1"))
    src, tgt = check_type(parse_type(Source("[1{x,y}2]")), m), check_type(parse_type(Source("[2{y}2]")), m)
    program = optimal_subaxes(src, tgt, m)
    assert profile(src, program, m).types[-1] == tgt
    assert show_program(program) == show_program(optimal.optimal(src, tgt, m))


def test_the_shape_bound_is_the_whole_cost_of_moving_every_axis() -> None:
    """4x4x4, all axes from dimension 0 to 2: three AllToAlls by 4, each moving 3/4 of every block;
    the bound of the traffic the change of local shape forces is that much already, so the search
    settles no ties among the types of the source's local shape."""
    m, src, tgt = problem("x=4, y=4, z=4", "[2{x,y,z}128, 128, 128]", "[128, 128, 2{z,y,x}128]")
    table = shapebound.table((128, 128, 128), (1, 1, 64), frozenset({2, 4}), 64, src.local_size)
    assert table is not None
    found = optimal.optimum(src, tgt, m, sub_axis_candidates)
    assert table[src.local_shape] == (found.moved, 3) == (3 * 64 * (3 * 32768 // 4), 3)
    assert show_program(found.program) == "AllToAll(0 -> 2, z); AllToAll(0 -> 2, y); AllToAll(0 -> 2, x)"
    assert table[tgt.local_shape] == (0, 0)


def test_the_shape_bound_stands_aside_where_it_cannot_name_the_parts() -> None:
    """Uneven parts (6 elements over 4) or more moves than ``MAX_MOVES``: no table, and
    the search keeps the bound of the elements each device lacks alone."""
    assert shapebound.table((6,), (4,), frozenset({4}), 4, 6) is None
    many = shapebound.table((2**12,) * 8, (1,) * 8, frozenset({2}), 2**12, 2**96)
    assert many is None
