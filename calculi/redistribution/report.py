"""A synthesised redistribution, described for people (text) and programs (JSON), and checked by
running it on the simulator or the JAX engine."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from calculi.core.errors import ShapeError, StuckError, UsageError
from calculi.redistribution.baselines import STRATEGIES, synthesize
from calculi.redistribution.costs import profile
from calculi.redistribution.pretty import show_mesh, show_op, show_type
from calculi.redistribution.simulator import MAX_ELEMENTS, misplaced, simulate
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
            "local_elements": self.local_sizes,
            "peak_local_elements": self.peak,
            "received_elements": self.received,
            "sent_elements": self.sent,
        }

    def to_text(self) -> str:
        rows = [("", "(source)", show_type(self.source), self.local_sizes[0])]
        rows += [(str(k + 1), show_op(op), show_type(ty), size)
                 for k, (op, ty, size) in enumerate(zip(self.program, self.types[1:], self.local_sizes[1:],
                                                        strict=True))]
        w_op = max(len(r[1]) for r in rows)
        w_ty = max(len(r[2]) for r in rows)
        lines = [f"mesh {show_mesh(self.mesh)}: {show_type(self.source)} -> {show_type(self.target)}  "
                 f"(strategy {self.strategy})",
                 f"  {'step':>4}  {'op':<{w_op}}  {'type':<{w_ty}}  local"]
        lines += [f"  {k:>4}  {op:<{w_op}}  {ty:<{w_ty}}  {size:>5}" for k, op, ty, size in rows]
        bound = max(self.source.local_size, self.target.local_size)
        lines.append(f"peak local elements: {self.peak} (max of source and target: {bound}; "
                     f"global: {math.prod(self.source.global_shape)})")
        lines.append("received elements per device (row-major): " + " ".join(map(str, self.received)))
        return "\n".join(lines)

    def profile_bar(self, width: int = 40) -> str:
        """The memory profile as a text plot, one bar per step."""
        top = max(self.local_sizes)
        ops = ["(source)", *(show_op(op) for op in self.program)]
        w = max(len(o) for o in ops)
        return "\n".join(f"  {o:<{w}} {'#' * max(1, round(width * s / top))} {s}"
                         for o, s in zip(ops, self.local_sizes, strict=True))


def report_of(source: DistType, program: Program, mesh: Mesh, strategy: str = "given") -> Report:
    """The static profile of ``program`` from ``source``: types, local sizes, traffic per device."""
    prof = profile(source, program, mesh)
    devices = list(mesh.devices())
    return Report(mesh, source, prof.types[-1], strategy, program, prof.types, prof.local_sizes,
                  [prof.sent[c] for c in devices], [prof.received[c] for c in devices])


def synth_report(source: DistType, target: DistType, mesh: Mesh, strategy: str = "paper") -> Report:
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r}; strategies: {', '.join(STRATEGIES)}")
    return report_of(source, synthesize(source, target, mesh, strategy), mesh, strategy)


def verify(report: Report, engine: str = "sim") -> str:
    """Run the program on ``engine`` from ``arange`` data and check every device's block."""
    mesh, source, target = report.mesh, report.source, report.target
    if math.prod(source.global_shape) > MAX_ELEMENTS:
        raise ShapeError(f"the array has {math.prod(source.global_shape):,} elements; runs are checked on at "
                         f"most {MAX_ELEMENTS:,}", source.span)
    data = np.arange(math.prod(source.global_shape), dtype=np.int32).reshape(source.global_shape)
    if engine == "sim":
        run = simulate(data, source, report.program, mesh)
        bad = misplaced(run, data, target, mesh)
        where = "the NumPy simulator"
    elif engine == "jax":
        from calculi.redistribution import engine as jax_engine
        from calculi.redistribution.simulator import scatter

        out = jax_engine.run(data, source, report.program, mesh)
        expected = scatter(data, target, mesh)
        bad = [c for c in mesh.devices() if not np.array_equal(out.buffers[c], expected[c])]
        where = f"JAX ({mesh.device_count} devices)"
    else:
        raise UsageError(f"unknown engine {engine!r}; engines: {', '.join(ENGINES)}")
    if bad:
        raise StuckError(f"on {where}, devices {bad} do not hold their block of {show_type(target)}")
    return f"checked on {where}: every device holds its block of {show_type(target)}"
