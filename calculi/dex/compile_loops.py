"""Loops, indexing and handlers of the compiler to NumPy (``calculi.dex.compile``).

A parallel ``for`` compiles its body once over a fresh loop axis; a sequential one is a running sum
(``cumsum``) where it is one and a Python loop otherwise. A read ``x.i`` at the loop's own index
is a view, at an index affine in the loop indices a strided view, else a gather. Accumulation
``r += v`` sums over the loops inside its handler; ``r!i += v`` scatters. Under a branch that
depends on a loop index (``guarded``) an index out of range in a lane the branch drops is moved
into range, and other run-time errors are left to the interpreter.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from calculi.core.errors import StuckError
from calculi.dex import arrays, compile_rules
from calculi.dex.arrays import (
    Arr,
    Idx,
    Unsupported,
    align,
    as_index,
    dims,
    empty_table,
    full,
    gather_axis,
    index_value,
    loop_index,
    stack,
)
from calculi.dex.check import Checked, size
from calculi.dex.semantics import children, free_vars
from calculi.dex.syntax import (
    Accum,
    App,
    At,
    BinOp,
    Case,
    Expr,
    For,
    Handle,
    Lam,
    Let,
    Put,
    Seq,
    Var,
)


@dataclass(slots=True)
class Cell:
    value: object
    axes: tuple[int, ...]
    """The loop axes active where the handler was entered (its value may vary along them)."""


@dataclass(slots=True)
class RefV:
    cell: Cell
    path: tuple[Idx, ...]




def effectful(e: Expr) -> bool:
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, Accum | Put):
            return True
        match node:
            case Lam(body=b) | For(body=b):
                stack.append(b)
            case Let(bound=a, body=b):
                stack += [a, b]
            case Handle(init=init, body=b):
                stack += [b] + ([init] if init is not None else [])
            case Case(scrutinee=s, alts=alts):
                stack += [s, *(b for _, b in alts)]
            case At(value=v):
                stack.append(v)
            case _:
                stack += children(node)
    return False


MAX_LANES = 2**28
"""The most iterations a nest of loops may have in compiled form (else the interpreter, whose
fuel bounds it)."""


class LoopCompiler(ABC):
    def __init__(self, checked: Checked) -> None:
        self.parallel = checked.parallel
        self.bodies = checked.bodies
        self.axes = 0
        self.active: list[tuple[int, int]] = []
        """The loop axes being compiled, outermost first, with their sizes."""
        self.guards: list[Arr] = []
        """The lanes the enclosing branches that depend on a loop index select (Bool arrays):
        an error in another lane is none, as that lane's value is dropped."""

    @abstractmethod
    def eval(self, e: Expr, env: dict[str, object]) -> object:
        """The value of ``e`` in ``env`` (the compiler's own cases; loops call back into it)."""

    def guarded(self, lanes: Arr, e: Expr, env: dict[str, object]) -> object:
        """``e`` evaluated on every lane, of which only ``lanes`` are kept."""
        self.guards.append(lanes)
        try:
            return self.eval(e, env)
        finally:
            self.guards.pop()

    def stuck(self, message: str, e: Expr, rule: str) -> Exception:
        """The run-time error of ``e``; under a branch that depends on a loop index, where the
        error may be in a lane that is dropped, the interpreter decides (``Unsupported``)."""
        if self.guards:
            return Unsupported(f"{message} under a branch that depends on a loop index")
        return StuckError(message, e.span, rule=rule)

    def in_range(self, ordinal: Arr, n: int, e: Expr) -> Arr:
        """``ordinal``, checked to be in ``[0, n)`` on every lane that the branches keep (the
        others are moved into range: their values are dropped)."""
        bounds = ordinal.bounds
        if bounds is not None and bounds[0] >= 0 and bounds[1] < n:
            return ordinal
        data = ordinal.data
        if not data.size or (data.min() >= 0 and data.max() < n):
            return ordinal
        (bad, *masks), _ = align([Arr((data < 0) | (data >= n), ordinal.axes), *self.guards])
        for mask in masks:
            bad = bad & mask.reshape(mask.shape + (1,) * (bad.ndim - mask.ndim))
        if bad.any():
            lanes = np.broadcast_to(data.reshape(data.shape + (1,) * (bad.ndim - data.ndim))
                                    if data.ndim < bad.ndim else data, bad.shape)
            raise StuckError(f"index {int(lanes[bad].flat[0])} is out of range for Fin {n}",
                             e.span, rule="E-At")
        return Arr(np.clip(data, 0, n - 1), ordinal.axes)
    def loop(self, e: For, env: dict[str, object]) -> object:
        count = size(e.type)
        inner = dict(env)
        if count * math.prod(n for _, n in self.active) > MAX_LANES:
            raise Unsupported(f"a loop nest of more than {MAX_LANES:,} lanes")
        if id(e) in self.parallel:
            self.axes += 1
            axis = self.axes
            self.active.append((axis, count))
            inner[e.index] = loop_index(e.type, count, axis)
            try:
                return gather_axis(self.eval(e.body, inner), axis, count)
            finally:
                self.active.pop()
        scanned = self.scan(e, env, count)
        if scanned is not None:
            return scanned
        results = []
        for k in range(count):
            inner[e.index] = index_value(e.type, Arr(np.array(k), ()))
            results.append(self.eval(e.body, inner))
        if not results:
            return empty_table(self.bodies[id(e)], self.active)
        return stack(results)

    def scan(self, e: For, env: dict[str, object], count: int) -> object:
        """A running sum ``for i. s := get s + v; get s`` (or without the ``get s``) where ``v``
        does not read ``s``: the ``v``s as one parallel ``for``, then ``cumsum``. Anything else
        (``None``) runs as a loop."""
        body, result = e.body, None
        match body:
            case Seq(first=first, then=then):
                body, result = first, then
        match body:
            case Put(ref=Var(name=s), value=BinOp(op="+", left=App(fun=Var(name="get"),
                                                                     arg=Var(name=s2)), right=v)):
                pass
            case _:
                return None
        ref = env.get(s)
        if (s != s2 or not isinstance(ref, RefV) or ref.path or "get" in env or effectful(v)
                or result not in (None, App(Var("get"), Var(s))) or e.index == s or count == 0):
            return None
        if any(x == s or callable(env.get(x)) for x in free_vars(v)):
            return None
        start = ref.cell.value
        if not isinstance(start, Arr) or start.data.ndim != len(start.axes) \
                or start.data.dtype.kind != "f":
            return None
        self.axes += 1
        axis = self.axes
        self.active.append((axis, count))
        inner = dict(env)
        inner[e.index] = loop_index(e.type, count, axis)
        try:
            steps = gather_axis(self.eval(v, inner), axis, count)
        finally:
            self.active.pop()
        assert isinstance(steps, Arr)
        (initial, increments), axes = align([start, steps])
        totals = compile_rules.running_sum(initial, increments)
        ref.cell.value = Arr(np.array(totals[..., -1]), axes)
        return Arr(totals, axes) if result is not None else ()

    def index(self, table: object, index: object) -> object:
        if isinstance(table, tuple):
            return tuple(self.index(part, index) for part in table)
        if not isinstance(table, Arr):
            raise Unsupported("indexing a table of functions or indices")
        idx = as_index(index)
        p = len(table.axes)
        if idx.loop is not None and idx.loop not in table.axes and table.data.shape[p] == idx.size:
            axes = tuple(sorted((*table.axes, idx.loop)))
            return Arr(np.moveaxis(table.data, p, axes.index(idx.loop)), axes)
        if idx.ordinal.affine is not None and idx.ordinal.affine.terms:
            view = arrays.window(table, idx.ordinal.affine)
            if view is not None:
                return view
        (td, od), axes = align([table, idx.ordinal])
        p = len(axes)
        od = od.reshape(od.shape + (1,) * (td.ndim - p))
        return Arr(np.take_along_axis(td, od, axis=p).squeeze(axis=p), axes)

    def handle(self, e: Handle, env: dict[str, object]) -> object:
        active = tuple(axis for axis, _ in self.active)
        if e.init is not None:
            cell = Cell(self.eval(e.init, env), active)
        else:
            assert e.monoid is not None
            shape = tuple(n for _, n in self.active) + dims(e.monoid)
            cell = Cell(Arr(np.zeros(shape), active), active)
        inner = dict(env)
        inner[e.ref] = RefV(cell, ())
        result = self.eval(e.body, inner)
        if e.handler == "with_reader":
            return result
        return (result, cell.value)

    def read(self, ref: RefV) -> object:
        value = ref.cell.value
        for index in ref.path:
            value = self.index(value, index)
        return value

    def accumulate(self, ref: RefV, value: object) -> None:
        """``r += v`` once per iteration of every loop inside the handler: ``v`` summed over
        those loops' axes; ``r!i += v`` scatters each lane's ``v`` to its ``i`` (``np.add.at``)."""
        held = ref.cell.value
        assert isinstance(held, Arr) and isinstance(value, Arr)
        axes = tuple(axis for axis, _ in self.active)
        shape = tuple(n for _, n in self.active)
        values = full(value, axes, shape)
        if not ref.path:
            inner = tuple(p for p, axis in enumerate(axes) if axis not in held.axes)
            held.data += values.sum(axis=inner) if inner else values
            return
        targets = tuple(
            np.broadcast_to(np.arange(n).reshape((1,) * p + (-1,) + (1,) * (len(axes) - p - 1)),
                            shape)
            for p, (axis, n) in enumerate(self.active) if axis in held.axes)
        points = tuple(full(i.ordinal, axes, shape) for i in ref.path)
        arrays.scatter(held.data, (*targets, *points), values)
