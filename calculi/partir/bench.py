"""Predicted against measured: hand-written schedules and automap's on a transformer layer.

``python -m calculi.partir.bench [--size small|medium] [--repeat N] [--episodes N] [--seed N]`` runs
automap's two searches (beam search and Monte Carlo tree search) side by side, with their search
time and the number of partitionings each scored, then each schedule on JAX devices (8 fake CPU
devices unless there are real ones); it prints predicted and measured time per step side by side,
and the Spearman rank correlation between them. Wall time, best of ``repeat``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from calculi.core.files import cli, positive_int
from calculi.core.syntax import Source
from calculi.partir.automap import Found, search
from calculi.partir.engine import measure
from calculi.partir.lower import lower
from calculi.partir.mcts import mcts
from calculi.partir.parse import parse_func
from calculi.partir.simulator import CostModel, estimate, host_model
from calculi.partir.syntax import Func
from calculi.partir.tactics import (
    ManualPartition,
    Replicate,
    Tactic,
    apply_schedule,
    megatron,
    unpartitioned,
    zero,
)
from calculi.redistribution.engine import ensure_devices

SIZES = {"small": (4, 16, 64, 4, 256), "medium": (8, 64, 256, 8, 1024)}


def transformer(mesh: str, b: int, s: int, d: int, h: int, f: int) -> Func:
    """The layer of ``examples/transformer.partir`` at other sizes."""
    e = d // h
    text = f"""mesh {mesh}
    func layer(x: [{b}, {s}, {d}], wq: [{d}, {h}, {e}], wk: [{d}, {h}, {e}], wv: [{d}, {h}, {e}],
               wo: [{h}, {e}, {d}], w1: [{d}, {f}], w2: [{f}, {d}]) {{
      q = einsum[bsd,dhe->bshe](x, wq)  k = einsum[bsd,dhe->bshe](x, wk)  v = einsum[bsd,dhe->bshe](x, wv)
      s = einsum[bqhe,bkhe->bhqk](q, k)  ss = scale[{1 / e ** 0.5:.6f}](s)  ex = exp(ss)  z = sum[3](ex)
      zb = broadcast[{b}, {h}, {s}, {s}; 0, 1, 2](z)  p = div(ex, zb)  o = einsum[bhqk,bkhe->bqhe](p, v)
      att = einsum[bshe,hed->bsd](o, wo)  r = add(x, att)
      hh = einsum[bsd,df->bsf](r, w1)  a = relu(hh)  m = einsum[bsf,fd->bsd](a, w2)  y = add(r, m)
      return y
    }}"""
    return parse_func(Source(text))


def hand_written(data: str, model: str) -> dict[str, list[Tactic]]:
    """BP, MP (Megatron), BP+MP, ZeRO and their variants, each a line or two of tactics."""
    bp = ManualPartition({"x": 0}, data)
    params = {"wq": 0, "wk": 0, "wv": 0, "wo": 2, "w1": 0, "w2": 1}
    return {
        "none": [],
        "BP": [bp],
        "BP(model)": [ManualPartition({"x": 0}, model)],
        "MP attention": [megatron("wq", model)],
        "MP mlp": [megatron("w1", model)],
        "MP": [megatron("wq", model), megatron("w1", model)],
        "BP+MP": [bp, megatron("wq", model), megatron("w1", model)],
        "BP+MP mlp": [bp, megatron("w1", model)],
        "ZeRO": [bp, zero(params, model)],
        "ZeRO(data)": [zero(params, data)],
        "BP+ZeRO(data)": [bp, zero(params, data)],
        "BP+MP+ZeRO": [bp, megatron("wq", model), megatron("w1", model), zero({"w1": 0, "w2": 1}, data)],
        "row-parallel x": [bp, ManualPartition({"x": 2}, model)],
        "sequence": [bp, Replicate("k"), Replicate("v"), ManualPartition({"x": 1}, model)],
    }


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    def ranks(v: Sequence[float]) -> np.ndarray:
        order = np.argsort(np.asarray(v), kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v))
        return r
    return float(np.corrcoef(ranks(xs), ranks(ys))[0, 1])


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    schedule: str
    predicted: float
    measured: float
    collectives: int
    peak: int
    """Bytes per device."""


def table(func: Func, schedules: dict[str, list[Tactic]], repeat: int, model: CostModel) -> list[Row]:
    rng = np.random.default_rng(0)
    args = {i.name: rng.uniform(-0.1, 0.1, i.shape) for i in func.inputs}
    rows = []
    for name, schedule in schedules.items():
        spmd = lower(apply_schedule(func, schedule))
        est = estimate(spmd, model)
        rows.append(Row(name, "; ".join(map(str, schedule)), est.time, measure(spmd, args, repeat),
                        est.collectives, est.peak * model.itemsize))
    return rows


def bp_megatron(func: Func, schedule: Sequence[Tactic]) -> str | None:
    """The batch axis, where ``schedule`` is batch parallelism on one axis and Megatron on the other:
    x tiled at its batch dimension; the heads of wq, wk, wv, wo and the hidden dimension of w1 (columns)
    and w2 (rows) over the other axis; one AllReduce per block."""
    part = apply_schedule(func, schedule)
    tiled = dict(part.inputs)
    if len(tiled.get("x", ())) != 1 or tiled["x"][0][1] != 0:
        return None
    data = tiled["x"][0][0]
    mp = next((a for a in func.mesh.names if a != data), None)
    want = {"wq": 1, "wk": 1, "wv": 1, "wo": 0, "w1": 1, "w2": 0}
    if any(tiled.get(w, ()) != ((mp, d),) for w, d in want.items()):
        return None
    return data if estimate(lower(part)).names == ["AllReduce", "AllReduce"] else None


def searches(func: Func, found: dict[str, Found], episodes: int) -> str:
    """The searches side by side: what each found, its predicted time, search time and evaluations."""
    lines = [f"{'search':<22}{'predicted µs':>14}{'search s':>10}{'scored':>8}  {'BP+Megatron':<16}schedule"]
    for method, f in found.items():
        name = f"mcts ({episodes} episodes)" if method == "mcts" else "beam (width 4)"
        data = bp_megatron(func, f.schedule)
        verdict = f"yes (BP {data})" if data else "no"
        lines.append(f"{name:<22}{f.estimate.time * 1e6:>14,.1f}{f.seconds:>10.2f}{f.evaluated:>8}  "
                     f"{verdict:<16}{'; '.join(map(str, f.schedule)) or '(nothing)'}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calculi.partir.bench")
    parser.add_argument("--size", choices=list(SIZES), default="small")
    parser.add_argument("--repeat", type=positive_int, default=5)
    parser.add_argument("--memory", type=int, default=None, help="automap's per-device limit in bytes")
    parser.add_argument("--episodes", type=positive_int, default=300, help="the tree search's budget")
    parser.add_argument("--seed", type=int, default=0, help="the tree search's seed")
    args = parser.parse_args(argv)
    jax = ensure_devices(8)
    cpu = jax.devices()[0].platform == "cpu"
    model = host_model(os.cpu_count() or 1) if cpu else CostModel()
    print(f"cost model: {model}")
    for mesh in ("batch=2, model=4", "batch=4, model=2"):
        data, mp = "batch", "model"
        func = transformer(mesh, *SIZES[args.size])
        full = estimate(lower(unpartitioned(func)), model).peak * model.itemsize
        memory = args.memory or full // 4
        part = unpartitioned(func)
        found = {"beam": search(part, func.mesh.names, memory=memory, model=model),
                 "mcts": mcts(part, func.mesh.names, memory=memory, episodes=args.episodes, seed=args.seed,
                              model=model)}
        schedules = hand_written(data, mp)
        schedules |= {f"automap {m}": list(f.schedule) for m, f in found.items()}
        rows = table(func, schedules, args.repeat, model)
        print(f"\nmesh {mesh}; automap under {memory:,} bytes per device")
        print(searches(func, found, args.episodes))
        print(f"{'schedule':<16}{'predicted µs':>14}{'measured µs':>14}{'collectives':>13}{'peak bytes':>12}"
              "  fits")
        for r in rows:
            print(f"{r.name:<16}{r.predicted * 1e6:>14,.1f}{r.measured * 1e6:>14,.1f}{r.collectives:>13}"
                  f"{r.peak:>12,}  {'yes' if r.peak <= memory else 'no'}")
        rho = spearman([r.predicted for r in rows], [r.measured for r in rows])
        print(f"Spearman rank correlation of predicted and measured over {len(rows)} schedules: {rho:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(cli(main))
