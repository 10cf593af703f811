"""The AST of PartIR:Core: a mesh, a function of named array parameters, and its statements.

    mesh batch=2, model=4
    func f(x: [8,16], w: [16,32]) {
      h = einsum[ij,jk->ik](x, w)
      y = loop batch #tile<0> {
        xs = slice(x, 0, batch)
        ys = tanh(xs)
        yield ys
      }
      return h, y
    }

Statements are in SSA form: each binds a fresh name. ``slice(x, d, a)`` is this device's chunk of
``x`` along dimension ``d`` inside an enclosing ``loop a``.
"""

from __future__ import annotations

from dataclasses import dataclass

from calculi.core.syntax import Node
from calculi.redistribution.syntax import Mesh

Shape = tuple[int, ...]
Param = int | str | tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Tile(Node):
    """``#tile<d>``: the loop's results are concatenated along dimension ``d``."""

    dim: int


@dataclass(frozen=True, slots=True)
class Sum(Node):
    """``#sum``: the loop's results are added up."""


Action = Tile | Sum


@dataclass(frozen=True, slots=True)
class Apply(Node):
    """``result = prim[params](args)``."""

    result: str
    prim: str
    params: tuple[Param, ...]
    args: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Slice(Node):
    """``result = slice(arg, dim, axis)``: this device's chunk along ``dim`` in the loop over ``axis``."""

    result: str
    arg: str
    dim: int
    axis: str


@dataclass(frozen=True, slots=True)
class Loop(Node):
    """``result = loop axis #action { body; yield value }``."""

    result: str
    axis: str
    action: Action
    body: tuple[Stmt, ...]
    value: str


Stmt = Apply | Slice | Loop


@dataclass(frozen=True, slots=True)
class Input(Node):
    name: str
    shape: Shape


@dataclass(frozen=True, slots=True)
class Func(Node):
    """A function: its mesh, named inputs, statements and returned names."""

    mesh: Mesh
    name: str
    inputs: tuple[Input, ...]
    body: tuple[Stmt, ...]
    results: tuple[str, ...]


def bound(stmt: Stmt) -> str:
    return stmt.result
