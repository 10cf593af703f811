"""Sub-axes: how they are written, what they mean, their rules and costs, and running them."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from calculi.core.errors import CalculusError, TypeCheckError, UnboundError, UsageError
from calculi.core.syntax import Source
from calculi.redistribution.blocks import block
from calculi.redistribution.check import check_program, check_type
from calculi.redistribution.costs import profile
from calculi.redistribution.engine import plan
from calculi.redistribution.parse import parse_program, parse_type
from calculi.redistribution.pretty import show_program, show_type
from calculi.redistribution.simulator import misplaced, simulate
from calculi.redistribution.subaxes import candidate_ops, free_axes, refine, sub_axes
from calculi.redistribution.subaxes_cases import cases, measure
from calculi.redistribution.syntax import AllGather, DistType, DynSlice, Mesh

Y4 = Mesh.of(x=2, y=4)


def ty(text: str, mesh: Mesh = Y4) -> DistType:
    return check_type(parse_type(Source(text)), mesh)


def test_the_major_factor_is_written_y_colon_size_and_the_minor_one_with_its_pre_size() -> None:
    # y:2 is the major half of y=4 (as Shardy writes it); the minor half is y:(2)2, Shardy's
    # "y":(2)2; y:(1)2 is y:2 and prints so
    assert parse_type(Source("[2{y:(1)2}8]")) == parse_type(Source("[2{y:2}8]"))
    assert show_type(parse_type(Source("[2{y:(1)2}8]"))) == "[2{y:2}8]"
    assert show_type(parse_type(Source("[1{y:2, y:(2)2}4]"))) == "[1{y:2,y:(2)2}4]"
    assert [Y4.coordinate("y:2", (0, c)) for c in range(4)] == [0, 0, 1, 1]
    assert [Y4.coordinate("y:(2)2", (0, c)) for c in range(4)] == [0, 1, 0, 1]


def test_ops_over_sub_axes_parse_and_print_back() -> None:
    text = "DynSlice(0, y:2); AllGather(0, y:(2)2); AllToAll(1 -> 0, y:(2)2); AllPermute([1{x,y:2}8])"
    program = parse_program(Source(text))
    assert program[0] == DynSlice(0, "y:2") and program[1] == AllGather(0, "y:(2)2")
    assert parse_program(Source(show_program(program))) == program


def test_a_type_written_with_the_factors_of_an_axis_holds_the_blocks_of_the_axis() -> None:
    whole, halves = ty("[2{y}8, 3]"), ty("[2{y:2,y:(2)2}8, 3]")
    assert whole != halves
    assert all(block(whole, Y4, c) == block(halves, Y4, c) for c in Y4.devices())
    # the minor half alone: devices 0 and 2 of y hold the first half
    minor = ty("[4{y:(2)2}8, 3]")
    assert [block(minor, Y4, (0, c))[0] for c in range(4)] == [(0, 4), (4, 8), (0, 4), (4, 8)]


@pytest.mark.parametrize(("text", "kind", "reason"), [
    ("[1{y,y:2}8]", TypeCheckError, "'y:2' overlaps 'y'"),
    ("[4{y:2}8, 4{y:(1)2}8]", TypeCheckError, "is used twice"),
    ("[2{y:4}8]", TypeCheckError, "write y for all of it"),
    ("[1{y:(2)4}8]", TypeCheckError, "2·4 does not divide |y| = 4"),
    ("[8{y:1}8]", TypeCheckError, "at least 2 coordinates"),
    ("[4{z:2}8]", UnboundError, "axis 'z' of dimension 0 is not on the mesh"),
])
def test_ill_formed_sub_axes_are_located_and_name_the_rule(text: str, kind: type[TypeCheckError],
                                                           reason: str) -> None:
    with pytest.raises(kind) as info:
        ty(text)
    assert reason in info.value.reason and info.value.span is not None and info.value.rule == "Type-Wf"


def test_sub_axes_of_one_axis_must_be_independent_factors() -> None:
    y12 = Mesh.of(y=12)
    ty("[3{y:2,y:(2)2}12]", y12)
    ty("[2{y:(4)3,y:2}12]", y12)
    with pytest.raises(TypeCheckError, match="overlaps"):
        ty("[3{y:2,y:(3)2}12]", y12)  # y:(3)2 straddles the halves that y:2 tells apart


def test_dyn_slice_needs_a_sub_axis_that_overlaps_nothing_used() -> None:
    with pytest.raises(TypeCheckError, match="'y:2' overlaps 'y', used") as info:
        check_program(parse_type(Source("[8{y}32]")), parse_program(Source("DynSlice(0, y:2)")), Y4)
    assert info.value.rule == "DynSlice"
    types = check_program(parse_type(Source("[16{y:2}32]")), parse_program(Source("DynSlice(0, y:(2)2)")), Y4)
    assert show_type(types[-1]) == "[8{y:2,y:(2)2}32]"


def test_gathering_a_sub_axis_costs_its_size_not_the_axis_size() -> None:
    source, program = parse_type(Source("[4{y:2,y:(2)2}16]")), parse_program(Source("AllGather(0, y:(2)2)"))
    prof = profile(source, program, Y4)
    assert prof.local_sizes == [4, 8] and set(prof.received.values()) == {4}


def test_the_sub_axes_a_dyn_slice_may_use_are_those_that_overlap_nothing() -> None:
    assert sub_axes(Mesh.of(y=8), "y") == ["y:2", "y:4", "y:(2)2", "y:(2)4", "y:(4)2"]
    assert free_axes(parse_type(Source("[16{y:2}32]")), Y4) == ["x", "y:(2)2"]
    ops = list(candidate_ops(parse_type(Source("[16{y:2}32]")), Y4))
    assert DynSlice(0, "y:(2)2") in ops and AllGather(0, "y:2") in ops and DynSlice(0, "y") not in ops


def test_the_refined_mesh_splits_each_axis_at_its_sub_axes() -> None:
    ref = refine(Y4, (parse_type(Source("[2{y:2,x}8]")),))
    assert ref.mesh == Mesh.of(x=2, y_0=2, y_1=2)
    assert ref.factors("y") == ("y_0", "y_1") and ref.factors("y:(2)2") == ("y_1",)
    assert show_type(ref.expand_type(parse_type(Source("[1{y,x}8]")))) == "[1{y_0,y_1,x}8]"


def test_an_axis_of_size_one_stays_on_the_refined_mesh() -> None:
    mesh = Mesh.of(x=4, z=1)
    ref = refine(mesh, (parse_type(Source("[2{x:2}4, 2]")),))
    assert ref.mesh == Mesh.of(x_0=2, x_1=2, z=1) and ref.factors("z") == ("z",)


def test_sub_axes_that_cut_an_axis_two_ways_have_no_refined_mesh() -> None:
    y6 = Mesh.of(y=6)
    with pytest.raises(UsageError, match="not a chain of divisors"):
        refine(y6, (parse_type(Source("[3{y:2}6]")), parse_type(Source("[2{y:3}6]"))))


@pytest.mark.parametrize("case", cases(64), ids=lambda c: c.name)
def test_sub_axes_move_fewer_elements_than_the_paper_where_xla_splits_an_axis(case: object) -> None:
    row = measure(case, engine=False)  # type: ignore[arg-type]
    assert row.sub_elements < row.paper_elements


def test_a_gather_over_an_axis_and_then_its_major_factor_is_one_all_gather() -> None:
    source = parse_type(Source("[2{y:2,y:(2)2}8]"))
    steps = plan(source, parse_program(Source("AllGather(0, y:(2)2); AllGather(0, y:2)")), Y4)
    assert len(steps) == 1


def test_a_program_over_sub_axes_runs_on_jax_as_on_the_simulator() -> None:
    pytest.importorskip("jax")
    script = textwrap.dedent("""
        import numpy as np
        from calculi.core.syntax import Source
        from calculi.redistribution import engine
        from calculi.redistribution.parse import parse_mesh, parse_program, parse_type
        from calculi.redistribution.simulator import simulate
        engine.ensure_devices(8)
        mesh = parse_mesh(Source("x=2,y=4"))
        src = parse_type(Source("[4{x}8, 2{y}8]"))
        prog = parse_program(Source("AllPermute([4{x}8, 2{y:2,y:(2)2}8]); AllToAll(1 -> 0, y:(2)2); "
                                    "AllGather(0, y:(2)2); DynSlice(0, y:(2)2); AllGather(1, y:2)"))
        data = np.arange(64, dtype=np.int32).reshape(8, 8)
        out, sim = engine.run(data, src, prog, mesh), simulate(data, src, prog, mesh)
        assert all(np.array_equal(out.buffers[c], sim.buffers[c]) for c in mesh.devices())
        assert out.compiled.received_bytes == 4 * sum(sim.received.values())
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.stdout.strip() == "ok", proc.stderr[-2000:]


def test_a_program_over_sub_axes_is_correct_on_the_simulator() -> None:
    src = parse_type(Source("[12{y}48]"))
    program = parse_program(Source("AllPermute([12{x,y:(2)2}48]); AllGather(0, y:(2)2)"))
    target = check_program(src, program, Y4)[-1]
    assert show_type(target) == "[24{x}48]"
    data = np.arange(48)
    assert misplaced(simulate(data, src, program, Y4), data, target, Y4) == []


def test_errors_about_sub_axes_are_calculus_errors() -> None:
    for text in ["[2{y:(0)2}8]", "[2{y:}8]", "[2{y:(2}8]"]:
        with pytest.raises(CalculusError) as info:
            ty(text)
        assert info.value.span is not None
