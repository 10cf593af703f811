"""The small-step semantics of PartIR:Core: a machine that runs one statement, or unrolls one loop.

A machine is the program, the values bound so far, and the statements still to run:

    [inputs]  func f(x̄) {…}                   ⟶  the machine with x̄ bound and f's body to run
    [apply]   y = p(x̄); rest                  ⟶  rest, with y ↦ p(ρ(x̄))
    [unroll]  y = loop a #act {b; yield v}     ⟶  b[a=0]; …; b[a=n−1]; y = #act(v@a0, …, v@a(n−1))
    [slice]   y = slice(x, d, a=i)             ⟶  y ↦ the i-th of |a| chunks of ρ(x) along d
    [tile]    y = #tile<d>(v̄)                 ⟶  y ↦ ρ(v̄) concatenated along d
    [sum]     y = #sum(v̄)                      ⟶  y ↦ Σ ρ(v̄)

``b[a=i]`` is the body for device index ``i``: each name it binds gets the suffix ``@ai`` and each
``slice(…, a)`` in it, however deeply nested, becomes ``slice(…, a=i)``. No rule applies once
nothing is left to run; the machine's results then equal the reference semantics' (a theorem).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from calculi.core import coverage
from calculi.core.errors import TypeCheckError
from calculi.core.trace import Step
from calculi.partir.check import CALCULUS
from calculi.partir.pretty import show_action, show_func, show_stmt
from calculi.partir.prims import PRIMS, Array
from calculi.partir.semantics import bind_inputs
from calculi.partir.syntax import Action, Apply, Func, Loop, Slice, Stmt, Tile

INPUTS, APPLY, UNROLL, SLICE, TILE, SUM = "inputs", "apply", "unroll", "slice", "tile", "sum"
RULES = coverage.declare(CALCULUS, [f"step {r}" for r in (INPUTS, APPLY, UNROLL, SLICE, TILE, SUM)])


@dataclass(frozen=True, slots=True)
class Assemble:
    """``y = #act(v̄)``: a loop's results, one per device index, tiled or summed."""

    result: str
    action: Action
    parts: tuple[str, ...]


Todo = Stmt | Assemble


@dataclass(frozen=True, slots=True)
class Machine:
    func: Func
    env: Mapping[str, Array]
    todo: tuple[Todo, ...]

    @property
    def final(self) -> bool:
        return not self.todo

    def results(self) -> tuple[Array, ...]:
        return tuple(self.env[r] for r in self.func.results)


def start(func: Func, args: Mapping[str, Array]) -> Machine:
    return Machine(func, bind_inputs(func, args), func.body)


def _at(stmt: Stmt, axis: str, i: int, names: dict[str, str]) -> Stmt:
    """``stmt`` for device index ``i`` of ``axis``: bound names renamed, slices over ``axis`` fixed."""
    def name(x: str) -> str:
        return names.get(x, x)

    if isinstance(stmt, Apply):
        return Apply(name(stmt.result), stmt.prim, stmt.params, tuple(map(name, stmt.args)), span=stmt.span)
    if isinstance(stmt, Slice):
        fixed = f"{axis}={i}" if stmt.axis == axis else stmt.axis
        return Slice(name(stmt.result), name(stmt.arg), stmt.dim, fixed, span=stmt.span)
    return Loop(name(stmt.result), stmt.axis, stmt.action, tuple(_at(s, axis, i, names) for s in stmt.body),
                name(stmt.value), span=stmt.span)


def _bound(body: tuple[Stmt, ...]) -> list[str]:
    out: list[str] = []
    for s in body:
        out.append(s.result)
        if isinstance(s, Loop):
            out += _bound(s.body)
    return out


def unroll(loop: Loop, size: int) -> tuple[Todo, ...]:
    todo: list[Todo] = []
    parts = []
    for i in range(size):
        names = {x: f"{x}@{loop.axis}{i}" for x in _bound(loop.body)}
        todo += [_at(s, loop.axis, i, names) for s in loop.body]
        parts.append(names.get(loop.value, loop.value))
    return (*todo, Assemble(loop.result, loop.action, tuple(parts)))


def step(m: Machine | Func, args: Mapping[str, Array] | None = None) -> Step[Machine] | None:
    """One step; a function first binds its inputs (``args``, which it then needs)."""
    if isinstance(m, Func):
        assert args is not None
        coverage.fired(CALCULUS, f"step {INPUTS}")
        return Step(INPUTS, start(m, args))
    if not m.todo:
        return None
    s, rest = m.todo[0], m.todo[1:]
    if isinstance(s, Loop):
        coverage.fired(CALCULUS, f"step {UNROLL}")
        return Step(UNROLL, Machine(m.func, m.env, (*unroll(s, m.func.mesh.size(s.axis)), *rest)))
    if isinstance(s, Apply):
        rule, value = APPLY, PRIMS[s.prim].impl(s.params, [m.env[a] for a in s.args])
    elif isinstance(s, Slice):
        if "=" not in s.axis:
            raise TypeCheckError(f"slice along {s.axis} outside a loop over {s.axis}", s.span, rule="Slice")
        axis, index = s.axis.split("=")
        rule = SLICE
        value = np.split(m.env[s.arg], m.func.mesh.size(axis), axis=s.dim)[int(index)]
    else:
        parts = [m.env[p] for p in s.parts]
        if isinstance(s.action, Tile):
            rule, value = TILE, np.concatenate(parts, axis=s.action.dim)
        else:
            rule, value = SUM, np.asarray(sum(parts[1:], parts[0]))
    coverage.fired(CALCULUS, f"step {rule}")
    return Step(rule, Machine(m.func, {**m.env, s.result: value}, rest))


def run(func: Func, args: Mapping[str, Array]) -> tuple[tuple[Array, ...], list[str]]:
    """The results of stepping ``func`` to the end, and the rules that fired."""
    rules: list[str] = []
    nxt = step(func, args)
    assert nxt is not None
    machine = nxt.term
    rules.append(nxt.rule)
    while (nxt := step(machine)) is not None:
        machine = nxt.term
        rules.append(nxt.rule)
    return machine.results(), rules


def _show_todo(t: Todo) -> list[str]:
    if isinstance(t, Assemble):
        return [f"  {t.result} = {show_action(t.action)}({', '.join(t.parts)})"]
    return show_stmt(t)


def show_machine(m: Machine | Func, shown: int = 4) -> str:
    """The values bound so far (by name) and the next ``shown`` statements to run."""
    if isinstance(m, Func):
        return show_func(m)
    if m.final:
        return "done: " + ", ".join(f"{r} : {list(m.env[r].shape)}" for r in m.func.results)
    count = f"{len(m.todo)} statement{'s' if len(m.todo) > 1 else ''}"
    lines = [f"bound: {len(m.env)} values; to run: {count}"]
    for t in m.todo[:shown]:
        lines += _show_todo(t)
    if len(m.todo) > shown:
        lines.append("  …")
    return "\n".join(lines)
