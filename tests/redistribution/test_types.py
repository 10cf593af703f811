"""Meshes and distributed array types: parse, print, check, PartitionSpec; bad input is a CalculusError."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from calculi.core.errors import CalculusError, ParseError, TypeCheckError, UnboundError, UsageError
from calculi.core.syntax import Source
from calculi.redistribution.check import check_mesh, check_type
from calculi.redistribution.parse import parse_mesh, parse_program, parse_type
from calculi.redistribution.pretty import show_mesh, show_program, show_type
from calculi.redistribution.spec import from_partition_spec, spec_of, to_partition_spec, type_of_spec
from calculi.redistribution.syntax import AllGather, AllPermute, AllToAll, Dim, DistType, DynSlice, Mesh

MESH = Mesh.of(x=2, y=3)


def ty(text: str) -> DistType:
    return check_type(parse_type(Source(text)), MESH)


def test_types_parse_as_the_paper_writes_them() -> None:
    assert ty("[3{x}6, 4]") == DistType((Dim(3, ("x",), 6), Dim(4, (), 4)))
    assert ty("[1{x,y}6]").dims[0].axes == ("x", "y")
    assert ty("[4{}4]") == ty("[4]")
    assert show_type(ty("[1{y,x}6, 4{}4]")) == "[1{y,x}6, 4]"


def test_mesh_round_trip() -> None:
    mesh = parse_mesh(Source("x=2, y=3"))
    assert mesh == MESH and show_mesh(mesh) == "x=2, y=3"
    assert mesh.device_count == 6 and list(mesh.devices())[:2] == [(0, 0), (0, 1)]


def test_programs_round_trip() -> None:
    program = (DynSlice(0, "y"), AllToAll(0, 1, "x"), AllGather(1, "x"), AllPermute(ty("[1{y,x}6]")))
    text = show_program(program)
    assert text == "DynSlice(0, y); AllToAll(0 -> 1, x); AllGather(1, x); AllPermute([1{y,x}6])"
    assert parse_program(Source(text)) == program


def test_long_programs_parse_and_print_without_recursion() -> None:
    text = "; ".join(["DynSlice(0, x); AllGather(0, x)"] * 1000)
    program = parse_program(Source(text))
    assert len(program) == 2000
    assert parse_program(Source(show_program(program, width=80))) == program


@pytest.mark.parametrize(
    ("text", "kind", "reason", "column"),
    [
        ("[3{x}]", ParseError, "a dimension is written N or n{axes}N", 6),
        ("3{x}6", ParseError, "a type is a bracketed list of dimensions", 1),
        ("[3{x}6", ParseError, "a type is a bracketed list of dimensions", 6),
        ("[4{x}6]", TypeCheckError, "local size 4 × |x| = 8 is not the global size 6", 2),
        ("[3{x}6, 3{x}6]", TypeCheckError, "axis 'x' is used twice", 9),
        ("[1{x,x}2]", TypeCheckError, "axis 'x' is used twice", 2),
        ("[3{z}6]", UnboundError, "axis 'z' of dimension 0 is not on the mesh", 2),
    ],
)
def test_bad_types_are_reported_with_a_position(text: str, kind: type, reason: str, column: int) -> None:
    with pytest.raises(CalculusError) as info:
        ty(text)
    err = info.value
    assert isinstance(err, kind)
    assert reason in err.reason
    assert err.span is not None and err.span.column == column
    assert "^" in err.render()


@pytest.mark.parametrize(("text", "reason"), [("x=2, x=3", "declared twice"), ("x=0", "at least 1")])
def test_bad_meshes(text: str, reason: str) -> None:
    with pytest.raises(TypeCheckError, match=reason):
        check_mesh(parse_mesh(Source(text)))


def test_a_mesh_axis_needs_a_size() -> None:
    with pytest.raises(ParseError, match="NAME=SIZE"):
        parse_mesh(Source("x=2, y"))


def test_unknown_collective_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="unknown collective 'Gather'") as info:
        parse_program(Source("DynSlice(0, x); Gather(0, x)"))
    assert info.value.span is not None and info.value.span.column == 17
    with pytest.raises(ParseError, match=r"AllToAll is written AllToAll\(src_dim -> dst_dim, axis\)"):
        parse_program(Source("AllToAll(0, x)"))


def test_partition_spec_conversion_is_pure() -> None:
    t = ty("[1{x,y}6, 4, 6]")
    assert spec_of(t) == (("x", "y"), None, None)
    assert spec_of(ty("[2{y}6, 2{x}4]")) == ("y", "x")
    assert type_of_spec(("y",), (6, 4), MESH) == ty("[2{y}6, 4]")
    with pytest.raises(TypeCheckError, match="cannot be split into 3 parts"):
        type_of_spec((None, "y"), (6, 4), MESH)


def test_partition_spec_with_jax() -> None:
    sharding: Any = pytest.importorskip("jax.sharding")
    t = ty("[1{x,y}6, 4]")
    assert to_partition_spec(t) == sharding.PartitionSpec(("x", "y"), None)
    assert from_partition_spec(sharding.PartitionSpec(("x", "y")), (6, 4), MESH) == t


def test_partition_spec_without_jax_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jax", None)
    monkeypatch.setitem(sys.modules, "jax.sharding", None)
    with pytest.raises(UsageError, match="needs JAX"):
        to_partition_spec(ty("[3{x}6]"))


@pytest.mark.parametrize(("text", "column"), [("ξ=2", 1), ("1=2", 1), ("x=2, 2y=3", 6), ("x-y=2", 1)])
def test_a_bad_mesh_axis_name_gets_a_hint_about_meshes(text: str, column: int) -> None:
    with pytest.raises(ParseError) as info:
        parse_mesh(Source(text))
    reason = info.value.reason
    assert "mesh" in reason and "NAME=SIZE" in reason and "dimension" not in reason
    assert info.value.span is not None and info.value.span.column == column


@pytest.mark.parametrize("text", ["x=-2", "x=2, y=-1", "x = - 3"])
def test_a_negative_mesh_size_says_sizes_must_be_positive(text: str) -> None:
    with pytest.raises(ParseError, match="sizes must be positive") as info:
        parse_mesh(Source(text))
    assert info.value.span is not None


@pytest.mark.parametrize("text", ["x=2,", ",x=2", "x=2,,y=3", "=2"])
def test_a_missing_mesh_axis_is_said_in_terms_of_meshes(text: str) -> None:
    with pytest.raises(ParseError, match="a mesh axis is missing"):
        parse_mesh(Source(text))


def test_no_message_names_the_parsers_end_token() -> None:
    texts = ["x=2,", "x=2, y", "[", "[3{x}", "[3{x}6] ->", "DynSlice(0,", "AllToAll(0 ->", "[2{y:", "[2{y:(",
             "AllPermute([", "[3{x}6] DynSlice(0, x);", "x=", "[1{x,}2]"]
    parsers = [parse_mesh, parse_type, parse_program]
    for text in texts:
        for parse in parsers:
            with pytest.raises(CalculusError) as info:
                parse(Source(text))
            assert "$end" not in info.value.reason.lower() and "$" not in info.value.reason
