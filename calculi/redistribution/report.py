"""A synthesised redistribution, described for people (text) and programs (JSON), and checked by
running it on the simulator or the JAX engine."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from calculi.core.errors import StuckError, UsageError
from calculi.core.parsing import show_int
from calculi.core.trace import Fuel
from calculi.redistribution.baselines import STRATEGIES, synthesize
from calculi.redistribution.costs import profile
from calculi.redistribution.memory import DEFAULT_BUDGET, engine_check, simulation_check
from calculi.redistribution.pretty import show_count, show_mesh, show_op, show_type
from calculi.redistribution.simulator import misplaced, simulate
from calculi.redistribution.syntax import (
    AllGather,
    AllPermute,
    AllToAll,
    DistType,
    DynSlice,
    Mesh,
    Op,
    Program,
)

ENGINES = ("sim", "jax")
MAX_LISTED = 64
"""Meshes of more devices print the traffic per device as a range, not a list."""


def op_json(op: Op) -> dict[str, Any]:
    match op:
        case DynSlice(dim=i, axis=x):
            return {"op": "DynSlice", "dim": i, "axis": x}
        case AllGather(dim=i, axis=x):
            return {"op": "AllGather", "dim": i, "axis": x}
        case AllToAll(src_dim=i, dst_dim=j, axis=x):
            return {"op": "AllToAll", "src_dim": i, "dst_dim": j, "axis": x}
        case AllPermute(target=t):
            return {"op": "AllPermute", "target": show_type(t)}
    raise TypeError(op)


def _json_int(n: int) -> int | str:
    """A JSON number, or its digits as a string past the 4,300 digits ``json`` can write."""
    return n if n.bit_length() < 14_000 else show_int(n)


@dataclass(frozen=True, slots=True)
class Report:
    mesh: Mesh
    source: DistType
    target: DistType
    strategy: str
    program: Program
    types: list[DistType]
    local_sizes: list[int]
    sent: list[int]
    received: list[int]

    @property
    def peak(self) -> int:
        return max(self.local_sizes)

    def to_json(self) -> dict[str, Any]:
        return {
            "mesh": show_mesh(self.mesh),
            "source": show_type(self.source),
            "target": show_type(self.target),
            "strategy": self.strategy,
            "program": [op_json(op) for op in self.program],
            "local_elements": [_json_int(n) for n in self.local_sizes],
            "peak_local_elements": _json_int(self.peak),
            "received_elements": [_json_int(n) for n in self.received],
            "sent_elements": [_json_int(n) for n in self.sent],
        }

    def to_text(self) -> str:
        rows = [("", "(source)", show_type(self.source), show_count(self.local_sizes[0]))]
        rows += [(str(k + 1), show_op(op), show_type(ty), show_count(size))
                 for k, (op, ty, size) in enumerate(zip(self.program, self.types[1:], self.local_sizes[1:],
                                                        strict=True))]
        w_op = max(len(r[1]) for r in rows)
        w_ty = max(len(r[2]) for r in rows)
        lines = [f"mesh {show_mesh(self.mesh)}: {show_type(self.source)} -> {show_type(self.target)}  "
                 f"(strategy {self.strategy})",
                 f"  {'step':>4}  {'op':<{w_op}}  {'type':<{w_ty}}  local"]
        lines += [f"  {k:>4}  {op:<{w_op}}  {ty:<{w_ty}}  {size:>5}" for k, op, ty, size in rows]
        bound = max(self.source.local_size, self.target.local_size)
        lines.append(f"peak local elements: {show_count(self.peak)} (max of source and target: "
                     f"{show_count(bound)}; global: {show_count(math.prod(self.source.global_shape))})")
        if len(self.received) <= MAX_LISTED:
            lines.append("received elements per device (row-major): "
                         + " ".join(map(show_count, self.received)))
        else:
            lines.append(f"received elements per device: from {show_count(min(self.received))} to "
                         f"{show_count(max(self.received))}, {show_count(sum(self.received))} in all over "
                         f"{len(self.received):,} devices (--json lists them)")
        return "\n".join(lines)

    def profile_bar(self, width: int = 40) -> str:
        """The memory profile as a text plot, one bar per step."""
        top = max(self.local_sizes)
        ops = ["(source)", *(show_op(op) for op in self.program)]
        w = max(len(o) for o in ops)
        return "\n".join(f"  {o:<{w}} {'#' * max(1, (2 * width * s + top) // (2 * top))} {show_count(s)}"
                         for o, s in zip(ops, self.local_sizes, strict=True))


def report_of(source: DistType, program: Program, mesh: Mesh, strategy: str = "given") -> Report:
    """The static profile of ``program`` from ``source``: types, local sizes, traffic per device."""
    prof = profile(source, program, mesh)
    devices = list(mesh.devices())
    return Report(mesh, source, prof.types[-1], strategy, program, prof.types, prof.local_sizes,
                  [prof.sent[c] for c in devices], [prof.received[c] for c in devices])


def synth_report(source: DistType, target: DistType, mesh: Mesh, strategy: str = "paper",
                 fuel: Fuel | None = None) -> Report:
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r}; strategies: {', '.join(STRATEGIES)}")
    return report_of(source, synthesize(source, target, mesh, strategy, fuel), mesh, strategy)


def verify(report: Report, engine: str = "sim", budget: int = DEFAULT_BUDGET) -> str:
    """Run the program on ``engine`` from ``arange`` data and check every device's block, if what
    the run would hold fits in ``budget`` bytes (checked before anything is allocated)."""
    mesh, source, target = report.mesh, report.source, report.target
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; engines: {', '.join(ENGINES)}")
    elements = math.prod(source.global_shape)
    dtype = np.dtype(np.int32 if elements < 2**31 else np.int64)
    if engine == "sim":
        simulation_check(report.types, report.program, mesh, dtype.itemsize, budget)
    else:
        engine_check(report.types, mesh, dtype.itemsize, budget)
    data = np.arange(elements, dtype=dtype).reshape(source.global_shape)
    if engine == "sim":
        run = simulate(data, source, report.program, mesh, budget=budget)
        bad = misplaced(run, data, target, mesh)
        where = "the NumPy simulator"
    elif engine == "jax":
        from calculi.redistribution import engine as jax_engine
        from calculi.redistribution.simulator import scatter

        out = jax_engine.run(data, source, report.program, mesh, budget)
        expected = scatter(data, target, mesh)
        bad = [c for c in mesh.devices() if not np.array_equal(out.buffers[c], expected[c])]
        where = f"JAX ({mesh.device_count} devices)"
    if bad:
        raise StuckError(f"on {where}, devices {bad} do not hold their block of {show_type(target)}")
    return f"checked on {where}: every device holds its block of {show_type(target)}"
