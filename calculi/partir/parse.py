"""Concrete syntax → AST, with a span on every node and classified syntax errors."""

from __future__ import annotations

import lark

from calculi.core.errors import ParseError
from calculi.core.parsing import Grammar, integer, span_of
from calculi.core.syntax import Source
from calculi.partir.syntax import Action, Apply, Func, Input, Loop, Param, Slice, Stmt, Sum, Tile
from calculi.partir.tactics import AutomaticPartition, ManualPartition, Replicate, Tactic
from calculi.redistribution.syntax import Mesh

GRAMMAR = Grammar.load(
    __package__ or "calculi.partir",
    "grammar.lark",
    start=["start", "schedule"],
    examples={
        "a program starts with its mesh, mesh batch=2, model=4": ["func f() { return x }"],
        "a mesh axis is written NAME=SIZE": ["mesh x", "mesh x=2, y"],
        "an input is written NAME: [sizes]": ["mesh x=2 func f(x) { return x }"],
        "a statement is NAME = prim(args), slice(x, d, axis) or loop axis #tile<d>|#sum { ... }":
            ["mesh x=2 func f(a: [2]) { b }", "mesh x=2 func f(a: [2]) { b = }"],
        "a loop ends with yield NAME }": ["mesh x=2 func f(a: [2]) { b = loop x #sum { } return b }"],
        "a function ends with return NAMES }": ["mesh x=2 func f(a: [2]) { }"],
    },
    names={"NAME": "a name", "INT": "a number", "SPEC": "an einsum spec", "DECIMAL": "a decimal number"},
)

Tree = lark.Tree[lark.Token]


def parse_func(source: Source) -> Func:
    """Parse a whole program: ``mesh ...`` then ``func ...``."""
    if not source.text.strip():
        raise ParseError("empty input; expected a program, mesh ... func ...", source.span(0, 0))
    tree = GRAMMAR.parse(source, "start")
    mesh_tree, func_tree = tree.children
    assert isinstance(mesh_tree, lark.Tree) and isinstance(func_tree, lark.Tree)
    return _func(_mesh(mesh_tree, source), func_tree, source)


def _int(token: object, source: Source) -> int:
    assert isinstance(token, lark.Token)
    return integer(str(token), span_of(token, source))


def _mesh(tree: Tree, source: Source) -> Mesh:
    axes = []
    for axis in tree.children:
        assert isinstance(axis, lark.Tree)
        name, size = axis.children
        axes.append((str(name), _int(size, source)))
    return Mesh(tuple(axes), span=span_of(tree, source))


def _names(tree: object) -> tuple[str, ...]:
    assert isinstance(tree, lark.Tree)
    return tuple(str(t) for t in tree.children)


def _func(mesh: Mesh, tree: Tree, source: Source) -> Func:
    name, *rest = tree.children
    inputs: list[Input] = []
    body: list[Stmt] = []
    results: tuple[str, ...] = ()
    for child in rest:
        if child is None:
            continue
        assert isinstance(child, lark.Tree)
        if child.data == "input":
            arg, shape = child.children
            assert isinstance(shape, lark.Tree)
            dims = tuple(_int(t, source) for t in shape.children if t is not None)
            inputs.append(Input(str(arg), dims, span=span_of(child, source)))
        elif child.data == "names":
            results = _names(child)
        else:
            body.append(_stmt(child, source))
    return Func(mesh, str(name), tuple(inputs), tuple(body), results, span=span_of(tree, source))


def _params(tree: Tree, source: Source) -> tuple[Param, ...]:
    out: list[Param] = []
    kept: list[Param] = []
    for child in tree.children:
        if child is None:
            continue
        if isinstance(child, lark.Tree):
            (token,) = child.children
            assert isinstance(token, lark.Token)
            out.append(_int(token, source) if token.type == "INT" else str(token))
        else:
            kept.append(_int(child, source))
    separated = ";" in (source.text[tree.meta.start_pos : tree.meta.end_pos])
    return (*out, -1, *kept) if separated else tuple(out)


def _action(tree: Tree, source: Source) -> Action:
    span = span_of(tree, source)
    return Tile(_int(tree.children[0], source), span=span) if tree.data == "tile" else Sum(span=span)


MAX_DEPTH = 64


def _stmt(tree: Tree, source: Source, depth: int = 0) -> Stmt:
    span = span_of(tree, source)
    if depth > MAX_DEPTH:
        raise ParseError(f"loops nested more than {MAX_DEPTH} deep", span)
    kids = tree.children
    if tree.data == "apply":
        result, prim, *params, args = kids
        ps = _params(params[0], source) if params and isinstance(params[0], lark.Tree) else ()
        return Apply(str(result), str(prim), ps, _names(args), span=span)
    if tree.data == "slice":
        result, arg, d, axis = kids
        return Slice(str(result), str(arg), _int(d, source), str(axis), span=span)
    result, axis, action, *body, value = kids
    assert isinstance(action, lark.Tree)
    stmts = tuple(_stmt(s, source, depth + 1) for s in body if isinstance(s, lark.Tree))
    return Loop(str(result), str(axis), _action(action, source), stmts, str(value), span=span)


def parse_schedule(source: Source) -> tuple[Tactic, ...]:
    """``ManualPartition({x: 0}, batch); Replicate(h); AutomaticPartition(batch, model)``."""
    if not source.text.strip():
        return ()
    tactics: list[Tactic] = []
    for tree in GRAMMAR.parse(source, "schedule").children:
        assert isinstance(tree, lark.Tree)
        span = span_of(tree, source)
        kids = tree.children
        if tree.data == "replicate":
            tactics.append(Replicate(str(kids[0])))
        elif tree.data == "automatic":
            tactics.append(AutomaticPartition(tuple(str(k) for k in kids)))
        else:
            pairs = [k for k in kids if isinstance(k, lark.Tree)]
            dims: dict[str, int] = {}
            for pair in pairs:
                name, d = pair.children
                if str(name) in dims:
                    raise ParseError(f"{name} is partitioned twice in one tactic", span_of(pair, source))
                dims[str(name)] = _int(d, source)
            rest = [k for k in kids if isinstance(k, lark.Token)]
            tactics.append(ManualPartition(dims, str(rest[0]), atomic=len(rest) > 1, span=span))
    return tuple(tactics)
