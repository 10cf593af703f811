"""Concrete syntax → AST, with a span on every node and classified syntax errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

import lark

from calculi.core.errors import ParseError
from calculi.core.parsing import Grammar, integer, span_of
from calculi.core.syntax import Source
from calculi.redistribution.syntax import (
    AllGather,
    AllPermute,
    AllToAll,
    Dim,
    DistType,
    DynSlice,
    Mesh,
    Op,
    Program,
    sub_axis,
)

GRAMMAR = Grammar.load(
    __package__ or "calculi.redistribution",
    "grammar.lark",
    start=["mesh", "type", "program", "redistribution", "checked"],
    examples={
        "a mesh axis is written NAME=SIZE": ["x", "x=2,y", "x:2"],
        "a dimension is written N or n{axes}N": ["[3{x}]", "[{x}6]", "[3{x 6]"],
        "a type is a bracketed list of dimensions": ["3{x}6", "[3{x}6"],
    },
    names={
        "NAME": "an axis or operation name",
        "INT": "a number",
        "LSQB": "'['",
        "RSQB": "']'",
        "LBRACE": "'{'",
        "RBRACE": "'}'",
        "COMMA": "','",
        "EQUAL": "'='",
        "SEMICOLON": "';'",
        "LPAR": "'('",
        "RPAR": "')'",
        "COLON": "':'",
    },
)

Tree = lark.Tree[lark.Token]
T = TypeVar("T")


def _parse(source: Source, start: str, build: Callable[[Tree, Source], T]) -> T:
    if not source.text.strip():
        raise ParseError(f"empty input; expected a {start}", source.span(0, 0))
    return build(GRAMMAR.parse(source, start), source)


_MESH_AXIS = re.compile(r"\s*(?P<name>[^=,\s]*)\s*(?:=\s*(?P<size>[^,]*?)\s*)?(?:,|$)")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SIZE = re.compile(r"-\s*\d+")


def _mesh_hint(source: Source) -> None:
    """A mistake in a mesh said in terms of meshes: a name that is not an identifier, a size that is
    not a positive number (the grammar alone would blame whatever its parser state was closest to)."""
    text, at = source.text, 0
    while at < len(text):
        m = _MESH_AXIS.match(text, at)
        if m is None or m.end() == at:
            return
        name, size = m.group("name"), m.group("size")
        if not name and (size is not None or m.group(0).strip() == ","):
            raise ParseError("a mesh axis is missing here: a mesh is written NAME=SIZE, NAME=SIZE, ...",
                             source.span(m.start("name"), m.start("name") + 1))
        if name and not _IDENTIFIER.fullmatch(name):
            raise ParseError(f"mesh axis name {name!r}: a mesh is written NAME=SIZE, ... with each NAME "
                             "a letter or '_' then letters, digits or '_' (x=2, data=4)",
                             source.span(m.start("name"), m.end("name")))
        if size is not None and _SIZE.fullmatch(size) and size.startswith("-"):
            raise ParseError(f"mesh axis {name}={size}: sizes must be positive (at least 1)",
                             source.span(m.start("size"), m.end("size")))
        at = m.end()
    if text.rstrip().endswith(","):
        end = len(text.rstrip())
        raise ParseError("a mesh axis is missing after the last ',': a mesh is written NAME=SIZE, "
                         "NAME=SIZE, ...", source.span(end - 1, end))


def parse_mesh(source: Source) -> Mesh:
    """``x=2, y=3`` → ``Mesh``."""
    if source.text.strip():
        _mesh_hint(source)
    return _parse(source, "mesh", _mesh)


def parse_type(source: Source) -> DistType:
    """``[3{x}6, 4]`` → ``DistType`` (well-formedness is ``check.check_type``'s job)."""
    return _parse(source, "type", _type)


def parse_program(source: Source) -> Program:
    return _parse(source, "program", _program)


def parse_redistribution(source: Source) -> tuple[DistType, DistType]:
    """``A -> B`` → the source and target types."""
    return _parse(source, "redistribution", lambda t, s: (_type(t.children[0], s), _type(t.children[1], s)))


def parse_checked(source: Source) -> tuple[DistType, Program | None]:
    """``TYPE [PROGRAM]``: a type, optionally followed by a program to check from it."""

    def build(tree: Tree, s: Source) -> tuple[DistType, Program | None]:
        ty = tree.children[0]
        prog = tree.children[1] if len(tree.children) > 1 else None
        return _type(ty, s), (_program(prog, s) if prog is not None else None)

    return _parse(source, "checked", build)


def _int(token: object, source: Source) -> int:
    assert isinstance(token, lark.Token)
    return integer(str(token), span_of(token, source))


def _mesh(tree: Tree, source: Source) -> Mesh:
    axes: list[tuple[str, int]] = []
    for axis in tree.children:
        assert isinstance(axis, lark.Tree)
        name, size = axis.children
        axes.append((str(name), _int(size, source)))
    return Mesh(tuple(axes), span=span_of(tree, source))


def _type(tree: object, source: Source) -> DistType:
    assert isinstance(tree, lark.Tree)
    dims: list[Dim] = []
    for d in tree.children:
        assert isinstance(d, lark.Tree)
        span = span_of(d, source)
        if d.data == "whole":
            n = _int(d.children[0], source)
            dims.append(Dim(n, (), n, span=span))
        else:
            local, size = d.children[0], d.children[-1]
            names = d.children[1] if len(d.children) == 3 else None
            axes = tuple(_axis(a, source) for a in names.children) if isinstance(names, lark.Tree) else ()
            dims.append(Dim(_int(local, source), axes, _int(size, source), span=span))
    return DistType(tuple(dims), span=span_of(tree, source))


def _axis(tree: object, source: Source) -> str:
    """An axis, or a sub-axis in its canonical spelling (``y:(1)2`` is ``y:2``)."""
    if isinstance(tree, lark.Token):
        return str(tree)
    assert isinstance(tree, lark.Tree)
    name = str(tree.children[0])
    if tree.data == "whole_axis":
        return name
    if tree.data == "major_axis":
        return sub_axis(name, 1, _int(tree.children[1], source))
    pre = _int(tree.children[1], source)
    if pre < 1:
        raise ParseError(f"sub-axis {name}:({pre})...: the size before it is at least 1",
                         span_of(tree.children[1], source))
    return sub_axis(name, pre, _int(tree.children[2], source))


_DIM_OPS: dict[str, Callable[..., Op]] = {"DynSlice": DynSlice, "AllGather": AllGather}


_SIGNATURES = {
    "DynSlice": "DynSlice(dim, axis)",
    "AllGather": "AllGather(dim, axis)",
    "AllToAll": "AllToAll(src_dim -> dst_dim, axis)",
    "AllPermute": "AllPermute([target type])",
}


def _program(tree: object, source: Source) -> Program:
    assert isinstance(tree, lark.Tree)
    ops: list[Op] = []
    for node in tree.children:
        assert isinstance(node, lark.Tree)
        span = span_of(node, source)
        name = str(node.children[0])
        expected = {"dim_op": ("DynSlice", "AllGather"), "move_op": ("AllToAll",),
                    "type_op": ("AllPermute",)}[str(node.data)]
        if name not in expected:
            reason = (f"{name} is written {_SIGNATURES[name]}" if name in _SIGNATURES
                      else f"unknown collective {name!r}; expected {' or '.join(expected)}")
            raise ParseError(reason, span_of(node.children[0], source))
        if node.data == "dim_op":
            ops.append(_DIM_OPS[name](_int(node.children[1], source), _axis(node.children[2], source),
                                      span=span))
        elif node.data == "move_op":
            _, i, j, axis = node.children
            ops.append(AllToAll(_int(i, source), _int(j, source), _axis(axis, source), span=span))
        else:
            ops.append(AllPermute(_type(node.children[1], source), span=span))
    return tuple(ops)
