"""Text for people: the SPMD program, a cost estimate, and a schedule's whole story."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from calculi.partir.lower import Compute, Spmd
from calculi.partir.pretty import show_params
from calculi.partir.propagation import Partitioning
from calculi.partir.semantics import check_size, take_rows
from calculi.partir.simulator import CostModel, Estimate
from calculi.partir.syntax import Func
from calculi.redistribution.memory import show_bytes
from calculi.redistribution.pretty import show_op, show_type
from calculi.redistribution.reductions import AllReduce, PartialType, ReduceScatter


def show_layout(pt: PartialType) -> str:
    summed = f" + Σ{{{', '.join(pt.partial)}}}" if pt.partial else ""
    return show_type(pt.ty) + summed


def _collective(op: object) -> str:
    if isinstance(op, AllReduce):
        return f"AllReduce({op.axis})"
    if isinstance(op, ReduceScatter):
        return f"ReduceScatter({op.dim}, {op.axis})"
    return show_op(op)  # type: ignore[arg-type]


def show_spmd(spmd: Spmd) -> str:
    """The per-device program, each value with its layout ``local{axes}global``."""
    lines = [f"spmd on {', '.join(f'{a}={n}' for a, n in spmd.mesh.axes)}"]
    lines += [f"  in  {n} : {show_layout(pt)}" for n, pt in spmd.inputs.items()]
    for instr in spmd.instrs:
        if isinstance(instr, Compute):
            lines.append(f"  {instr.result} = {instr.prim}{show_params(instr.prim, instr.params)}"
                         f"({', '.join(instr.args)}) : {show_layout(instr.layout)}")
        else:
            ops = "; ".join(_collective(op) for op in instr.ops)
            lines.append(f"  {instr.result} = {ops} of {instr.arg} : {show_layout(instr.target)}")
    lines += [f"  out {r} : {show_layout(pt)}" for r, pt in spmd.results]
    return "\n".join(lines)


def show_estimate(est: Estimate, model: CostModel) -> str:
    kinds: dict[str, int] = {}
    for name in est.names:
        kinds[name] = kinds.get(name, 0) + 1
    collectives = ", ".join(f"{n}×{k}" for k, n in kinds.items()) or "none"
    return "\n".join([
        f"predicted time   {est.time * 1e6:,.1f} µs per step",
        f"FLOPs per device {max(est.flops.values()):,}",
        f"collectives      {collectives}; {show_bytes(est.bytes(model))} sent by the busiest device",
        f"peak memory      {show_bytes(est.peak * model.itemsize)} per device",
    ])


def show_partitioning(part: Partitioning) -> str:
    rows = [f"  {v}: " + ", ".join(f"dim {d} over {a}" for a, d in tiles) for v, tiles in part.inputs.items()]
    return "inputs tiled:\n" + ("\n".join(rows) if rows else "  (none)")


def inputs_for(func: Func, seed: int = 0) -> dict[str, np.ndarray]:
    """Deterministic small inputs for a run (uniform in [−0.5, 0.5]; whole row numbers for the
    indices of a ``take``)."""
    check_size(func)
    rng, rows = np.random.default_rng(seed), take_rows(func)
    return {i.name: (rng.integers(0, rows[i.name], i.shape).astype(np.float64) if i.name in rows
                     else rng.uniform(-0.5, 0.5, i.shape)) for i in func.inputs}


def show_results(func: Func, outputs: Sequence[np.ndarray]) -> str:
    return "\n".join(f"{name} : {list(v.shape)}  sum {float(np.sum(v)):.6g}"
                     for name, v in zip(func.results, outputs, strict=True))
