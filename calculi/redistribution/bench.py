"""``python -m calculi.redistribution.bench``: our programs against JAX/XLA's own resharding.

For each case (a mesh, a global shape, source and target PartitionSpecs) both run on the same JAX
devices: our synthesised program lowered to ``shard_map``, and ``jit(identity, out_shardings=...)``.
Printed per case: XLA's ``memory_analysis`` temporary bytes per device for both, the bytes each
moves (received over all devices, read off the compiled HLO by ``hlo.received_bytes``), the median
wall time, and the ratios XLA/ours, with geometric means. The ``optimal`` strategy runs in the same
process beside them (columns "opt"), and so does ``optimal-subaxes`` (columns "sub"), each timed in
interleaved rounds (``_median_times``), with geometric means per column; where the
paper's program is worse than optimal's in (peak, elements moved), a column names the rewrite it
lacks (``misses``). A case marked ``*`` is one where XLA falls back to materialising the whole
array (its temporary memory is at least the global size). Our programs gather a later dimension
in pieces (``engine.plan``; at least ``pieces.PIECES_FROM`` bytes), or, with ``--whole-gathers``, as
one collective; the header and the summary say which. Runs on whatever devices JAX has: CPU
devices are faked (``--devices N``, default 8) unless GPUs are present. ``--markdown`` prints a
README table. ``--scaling`` instead times the front end (parse, print, check, synthesis) at sizes n
and 2n, with no JAX (``scaling``); ``--search`` times the optimal search on every mesh of up to 3
axes at rank 3, fast and over the whole graph (``scaling.search_times``).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from calculi.core.errors import CalculusError
from calculi.core.files import cli, positive_int
from calculi.core.syntax import Source
from calculi.redistribution import engine, pieces, scaling
from calculi.redistribution.baselines import optimal_subaxes
from calculi.redistribution.check import check_mesh
from calculi.redistribution.misses import lacking
from calculi.redistribution.optimal import optimal
from calculi.redistribution.parse import parse_mesh
from calculi.redistribution.pretty import show_program
from calculi.redistribution.simulator import scatter
from calculi.redistribution.spec import Spec, type_of_spec
from calculi.redistribution.synth import paper

# (group, mesh, rank, source spec, target spec)
CASES: list[tuple[str, str, int, Spec, Spec]] = [
    ("jax-doc", "x=2,y=3", 1, ("x",), ("y",)),
    ("jax-doc", "x=2,y=3", 1, ("y",), ("x",)),
    ("jax-doc", "x=2,y=3", 2, ("x", None), (None, "x")),
    ("jax-doc", "x=2,y=3", 1, (("x", "y"),), (("y", "x"),)),
    ("fallback", "x=2,y=3", 2, ("x", "y"), ("y", "x")),
    ("fallback", "x=2,y=3", 2, (None, "y"), ("x", None)),
    ("jax-doc", "x=4", 2, ("x", None), (None, "x")),
    ("jax-doc", "a=2,b=2", 2, ("a", "b"), ("b", "a")),
    ("jax-doc", "a=2,b=2", 2, ("a", None), ("b", None)),
    ("jax-doc", "a=2,b=2", 1, (("a", "b"),), ("a",)),
    ("jax-doc", "a=2,b=2", 1, (None,), (("a", "b"),)),
    ("fallback", "x=4,y=2", 2, ("x", None), (None, "y")),
    ("fallback", "x=2,y=4", 1, ("y",), ("x",)),
    ("transformer", "data=2,model=4", 2, ("data", "model"), ("data", None)),
    ("transformer", "data=2,model=4", 2, ("data", None), ("data", "model")),
    ("transformer", "data=2,model=4", 2, (None, "model"), ("model", None)),
    ("transformer", "data=2,model=4", 2, (("data", "model"), None), (None, ("data", "model"))),
    ("fallback", "data=2,model=4", 2, ("data", "model"), ("model", "data")),
    ("transformer", "x=2,y=2,z=2", 3, ("x", "y", None), ("x", None, "y")),
    ("transformer", "x=2,y=2,z=2", 3, ("x", "y", "z"), ("z", "y", "x")),
    ("fallback", "x=2,y=2,z=2", 2, (("x", "y"), None), ("z", None)),
    ("transformer", "data=2,seq=3", 3, ("data", "seq", None), ("data", None, "seq")),
    ("fallback", "data=2,seq=3", 3, ("data", "seq", None), ("seq", None, "data")),
    # two-device layouts, so that a pair of GPUs runs a subset of the benchmark too
    ("pair", "x=2", 2, ("x", None), (None, "x")),
    ("pair", "x=2", 2, ("x", None), (None, None)),
    ("pair", "x=2", 2, (None, None), (None, "x")),
    ("pair", "x=2", 3, ("x", None, None), (None, None, "x")),
    ("pair", "x=2", 2, (None, "x"), ("x", None)),
]


@dataclass(slots=True)
class Row:
    group: str
    mesh: str
    shape: tuple[int, ...]
    source: str
    target: str
    program: str
    ours_temp: int
    xla_temp: int
    ours_moved: int
    xla_moved: int
    ours_seconds: float
    xla_seconds: float
    fallback: bool
    optimal_program: str
    optimal_temp: int
    optimal_moved: int
    optimal_seconds: float
    paper_lacks: str
    sub_program: str
    sub_temp: int
    sub_moved: int
    sub_seconds: float

    @property
    def optimal_memory_ratio(self) -> float:
        return max(self.xla_temp, 1) / max(self.optimal_temp, 1)

    @property
    def optimal_speedup(self) -> float:
        return self.xla_seconds / self.optimal_seconds

    @property
    def sub_memory_ratio(self) -> float:
        return max(self.xla_temp, 1) / max(self.sub_temp, 1)

    @property
    def sub_speedup(self) -> float:
        return self.xla_seconds / self.sub_seconds

    @property
    def memory_ratio(self) -> float:
        return max(self.xla_temp, 1) / max(self.ours_temp, 1)

    @property
    def speedup(self) -> float:
        return self.xla_seconds / self.ours_seconds


def _shape(rank: int, devices: int, elements: int) -> tuple[int, ...]:
    side = max(1, round(elements ** (1 / rank) / devices))
    return tuple(side * devices for _ in range(rank))


def _spec_text(spec: Spec) -> str:
    return "P(" + ", ".join(repr(e) for e in spec) + ")"


def _median_times(fns: Sequence[Any], x: Any, repeat: int) -> list[float]:
    """The median wall time of each function, timed in interleaved rounds (one run of each per round,
    the order rotating), so that a slow spell of the machine falls on all of them alike."""
    for fn in fns:
        fn(x).block_until_ready()
    times: list[list[float]] = [[] for _ in fns]
    for r in range(repeat):
        for k in range(len(fns)):
            which = (k + r) % len(fns)
            start = time.perf_counter()
            fns[which](x).block_until_ready()
            times[which].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def run_case(group: str, mesh_text: str, rank: int, src: Spec, tgt: Spec, elements: int, repeat: int,
             pieces_from: int | None = pieces.PIECES_FROM) -> Row:
    mesh = check_mesh(parse_mesh(Source(mesh_text)))
    shape = _shape(rank, mesh.device_count, elements)
    source, target = type_of_spec(src, shape, mesh), type_of_spec(tgt, shape, mesh)
    program = paper(source, target, mesh)
    best = optimal(source, target, mesh)
    split = optimal_subaxes(source, target, mesh)
    data = np.arange(math.prod(shape), dtype=np.float32).reshape(shape)
    x = engine.place(data, source, mesh)
    ours = engine.compile_program(source, program, mesh, x, pieces_from)
    opt = engine.compile_program(source, best, mesh, x, pieces_from)
    sub = engine.compile_program(source, split, mesh, x, pieces_from)
    theirs = engine.xla_reshard(target, mesh, x)
    expected = scatter(data, target, mesh)
    runs = (("ours", ours.run), ("optimal", opt.run), ("optimal-subaxes", sub.run), ("XLA", theirs.run))
    for name, fn in runs:
        got = engine.shards(fn(x), mesh)
        if any(not np.array_equal(got[c], expected[c]) for c in mesh.devices()):
            raise CalculusError(f"{name} misplaced data: {mesh_text} {_spec_text(src)} -> {_spec_text(tgt)}")
    fallback = theirs.temp_bytes >= data.nbytes  # XLA's "involuntary full rematerialization"
    t_ours, t_opt, t_sub, t_xla = _median_times([fn for _, fn in runs], x, repeat)
    return Row(group, mesh_text, shape, _spec_text(src), _spec_text(tgt), show_program(program),
               ours.temp_bytes, theirs.temp_bytes, ours.received_bytes, theirs.received_bytes,
               t_ours, t_xla, fallback, show_program(best), opt.temp_bytes, opt.received_bytes, t_opt,
               lacking(program, best, source, target, mesh), show_program(split), sub.temp_bytes,
               sub.received_bytes, t_sub)


def _mib(n: int) -> str:
    return f"{n / 2**20:.2f}"


def table(rows: Sequence[Row], markdown: bool) -> str:
    """One row per case; for each measure the columns XLA, paper, opt(imal), sub (optimal-subaxes)."""
    names = ("XLA", "paper", "opt", "sub")
    head = ["case", "mesh", "source -> target", *(f"temp MiB {n}" for n in names),
            *(f"moved MiB {n}" for n in names), *(f"ms {n}" for n in names),
            *(f"speedup {n}" for n in names[1:]), "paper lacks"]
    body = [[f"{i + 1}{'*' if r.fallback else ''}", r.mesh, f"{r.source} -> {r.target}",
             *map(_mib, (r.xla_temp, r.ours_temp, r.optimal_temp, r.sub_temp)),
             *map(_mib, (r.xla_moved, r.ours_moved, r.optimal_moved, r.sub_moved)),
             *(f"{t * 1e3:.2f}" for t in (r.xla_seconds, r.ours_seconds, r.optimal_seconds, r.sub_seconds)),
             *(f"{x:.2f}" for x in (r.speedup, r.optimal_speedup, r.sub_speedup)), r.paper_lacks or "-"]
            for i, r in enumerate(rows)]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    return "\n".join("  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)) for row in [head, *body])


def _geomean(xs: Iterable[float]) -> float:
    return math.exp(statistics.fmean(math.log(x) for x in xs))


def summary(rows: Sequence[Row]) -> str:
    """Per strategy (column): geometric means of the speedup and of the temporary-memory ratio over
    XLA, and the issue's targets."""
    fallbacks = [k for k, r in enumerate(rows) if r.fallback]
    lines = [f"paper not optimal on: {[i + 1 for i, r in enumerate(rows) if r.paper_lacks] or 'none'}"]
    for name, temp, moved, speedup in (
            ("paper", [r.ours_temp for r in rows], [r.ours_moved for r in rows], [r.speedup for r in rows]),
            ("optimal", [r.optimal_temp for r in rows], [r.optimal_moved for r in rows],
             [r.optimal_speedup for r in rows]),
            ("optimal-subaxes", [r.sub_temp for r in rows], [r.sub_moved for r in rows],
             [r.sub_speedup for r in rows])):
        memory = _geomean(max(r.xla_temp, 1) / max(t, 1) for r, t in zip(rows, temp, strict=True))
        lines += [f"{name}: geometric-mean speedup over XLA {_geomean(speedup):.2f}x "
                  f"(max {max(speedup):.2f}x, target >= 1.22x); temporary memory {memory:.2f}x less",
                  f"{name}: cases with more temporary memory than XLA: "
                  f"{[k + 1 for k, r in enumerate(rows) if temp[k] > r.xla_temp] or 'none'}",
                  f"{name}: cases moving more bytes than XLA: "
                  f"{[k + 1 for k, r in enumerate(rows) if moved[k] > r.xla_moved] or 'none'}"]
        if fallbacks:
            least = min(max(rows[k].xla_temp, 1) / max(temp[k], 1) for k in fallbacks)
            lines.append(f"{name}: {len(fallbacks)} XLA fallback cases (*), temporary memory at least "
                         f"{least:.4f}x less (target >= 3x)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calculi.redistribution.bench", description=__doc__)
    parser.add_argument("--devices", type=positive_int, default=8,
                        help="CPU devices to fake when JAX has no GPUs")
    parser.add_argument("--elements", type=positive_int, default=1 << 22,
                        help="about this many elements per array")
    parser.add_argument("--repeat", type=positive_int, default=9,
                        help="timed rounds per case, each running every program once (the median is shown)")
    parser.add_argument("--markdown", action="store_true", help="print the table in Markdown")
    parser.add_argument("--whole-gathers", action="store_true",
                        help="lower a gather of a later dimension as one collective, not in pieces "
                             "(more temporary memory, the same traffic: engine.plan)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--cases", type=positive_int, default=len(CASES), help="run only the first N cases")
    parser.add_argument("--scaling", action="store_true",
                        help="time parse, print, check and synthesis at sizes n and 2n instead")
    parser.add_argument("--scale", type=float, default=1.0, help="with --scaling: multiply each n by this")
    parser.add_argument("--search", action="store_true",
                        help="time the optimal search (fast, and over the whole graph) instead")
    args = parser.parse_args(argv)
    if args.scaling:
        print(scaling.table(list(scaling.measure(args.scale, min(args.repeat, 3)))))
        return 0
    if args.search:
        print(scaling.search_table(list(scaling.search_times(min(args.repeat, 3)))))
        return 0
    jax = engine.ensure_devices(args.devices)
    devices = jax.devices()
    print(f"# {len(devices)} {devices[0].platform} devices ({devices[0].device_kind}), "
          f"jax {jax.__version__}, ~{args.elements:,} float32 elements per array, median of {args.repeat}; "
          f"gathers of a later dimension {'whole' if args.whole_gathers else 'in pieces'}", file=sys.stderr)
    rows: list[Row] = []
    for group, mesh, rank, src, tgt in CASES[: args.cases]:
        needed = math.prod(int(part.split("=")[1]) for part in mesh.split(","))
        if needed > len(devices):
            print(f"# skipped {mesh} (needs {needed} devices)", file=sys.stderr)
            continue
        rows.append(run_case(group, mesh, rank, src, tgt, args.elements, args.repeat,
                             None if args.whole_gathers else pieces.PIECES_FROM))
    if args.json:
        ratios = [{"memory_ratio": r.memory_ratio, "speedup": r.speedup, "optimal_memory_ratio":
                   r.optimal_memory_ratio, "optimal_speedup": r.optimal_speedup,
                   "sub_memory_ratio": r.sub_memory_ratio, "sub_speedup": r.sub_speedup} for r in rows]
        print(json.dumps([{**asdict(r), **extra} for r, extra in zip(rows, ratios, strict=True)]))
        return 0
    print(table(rows, args.markdown))
    print()
    mode = "whole (--whole-gathers)" if args.whole_gathers else "in pieces"
    print(f"our gathers of a later dimension: {mode}")
    print(summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(cli(main))
