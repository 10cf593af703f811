"""The typing rules of the collectives, their costs, and the simulator on worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from calculi.core.errors import TypeCheckError, UnboundError
from calculi.core.syntax import Source
from calculi.redistribution.check import check_program, check_type
from calculi.redistribution.costs import profile
from calculi.redistribution.parse import parse_program, parse_type
from calculi.redistribution.pretty import show_type
from calculi.redistribution.simulator import misplaced, simulate
from calculi.redistribution.syntax import Mesh

MESH = Mesh.of(x=2, y=3)


def types_after(source: str, program: str) -> list[str]:
    src = check_type(parse_type(Source(source)), MESH)
    return [show_type(t) for t in check_program(src, parse_program(Source(program)), MESH)]


def test_dyn_slice_makes_its_axis_minor_most() -> None:
    assert types_after("[3{x}6]", "DynSlice(0, y)") == ["[3{x}6]", "[1{x,y}6]"]


def test_all_gather_removes_the_minor_most_axis() -> None:
    assert types_after("[1{x,y}6]", "AllGather(0, y)") == ["[1{x,y}6]", "[3{x}6]"]


def test_all_to_all_moves_the_minor_most_axis() -> None:
    assert types_after("[3{x}6, 6]", "AllToAll(0 -> 1, x)") == ["[3{x}6, 6]", "[6, 3{x}6]"]


def test_all_permute_between_equal_local_shapes() -> None:
    assert types_after("[1{x,y}6]", "AllPermute([1{y,x}6])")[-1] == "[1{y,x}6]"


@pytest.mark.parametrize(
    ("source", "program", "rule", "reason"),
    [
        ("[3{x}6]", "DynSlice(0, x)", "DynSlice", "does not use, but 'x' is used"),
        ("[3{x}6, 4]", "DynSlice(1, y)", "DynSlice", "|y| = 3 to divide the local size 4"),
        ("[1{x,y}6]", "AllGather(0, x)", "AllGather", "needs 'x' minor-most"),
        ("[6]", "AllGather(0, x)", "AllGather", "it is not split"),
        ("[3{x}6, 6]", "AllToAll(0 -> 0, x)", "AllToAll", "two different dimensions"),
        ("[3{x}6, 3]", "AllToAll(0 -> 1, x)", "AllToAll", "|x| = 2 to divide the local size 3"),
        ("[3{x}6]", "AllPermute([2{y}6])", "AllPermute", "equal local shapes"),
        ("[3{x}6]", "AllPermute([3{x}6, 1])", "AllPermute", "equal global shapes"),
        ("[3{x}6]", "AllGather(2, x)", "AllGather", "dimension 2 does not exist"),
    ],
)
def test_ill_typed_steps_name_the_rule(source: str, program: str, rule: str, reason: str) -> None:
    with pytest.raises(TypeCheckError) as info:
        types_after(source, program)
    assert info.value.rule == rule
    assert reason in info.value.reason
    assert info.value.span is not None


def test_unknown_axis_in_an_op() -> None:
    with pytest.raises(UnboundError, match="'q' is not on the mesh"):
        types_after("[3{x}6]", "DynSlice(0, q)")


def test_the_error_names_the_step() -> None:
    with pytest.raises(TypeCheckError, match=r"step 2 \(AllGather\(0, x\)\) from \[1\{x,y\}6\]"):
        types_after("[3{x}6]", "DynSlice(0, y); AllGather(0, x)")


def test_costs_and_simulation_of_the_x_to_y_example() -> None:
    src = check_type(parse_type(Source("[3{x}6]")), MESH)
    program = parse_program(Source("DynSlice(0, y); AllPermute([1{y,x}6]); AllGather(0, x)"))
    prof = profile(src, program, MESH)
    assert prof.local_sizes == [3, 1, 1, 2]
    # devices (0,0) and (1,2) keep their block through the permutation; each gather receives 1 element
    assert [prof.received[c] for c in MESH.devices()] == [1, 2, 2, 2, 2, 1]
    data = np.arange(6)
    run = simulate(data, src, program, MESH)
    assert not misplaced(run, data, check_type(parse_type(Source("[2{y}6]")), MESH), MESH)
    assert run.buffers[(1, 0)].tolist() == [0, 1]
    assert run.collective_peak == 4


def test_axes_are_listed_major_to_minor_as_in_jax() -> None:
    from calculi.redistribution.blocks import block

    t = check_type(parse_type(Source("[1{x,y}6]")), MESH)
    # device (x, y) holds element 3x + y: x is the major axis
    assert [block(t, MESH, c)[0][0] for c in MESH.devices()] == [0, 1, 2, 3, 4, 5]
    t = check_type(parse_type(Source("[1{y,x}6]")), MESH)
    assert [block(t, MESH, c)[0][0] for c in MESH.devices()] == [0, 2, 4, 1, 3, 5]
