"""``python -m calculi.redistribution.subaxes_cases``: hand-written programs with sub-axes against the
paper's program and XLA's own resharding, on the two cases where XLA splits a mesh axis.

    x=2,y=4         P('y') -> P('x')                  AllPermute([n{x,y:(2)2}N]); AllGather(0, y:(2)2)
    data=2,model=4  P('data','model') -> P('model','data')
                    AllPermute(τs written with model:2, model:(2)2); AllToAll(1 -> 0, model:(2)2);
                    AllPermute(τt)

(an AllPermute that only rewrites ``model`` as its two factors moves nothing and is not lowered).
Printed per case: the elements received over all devices by the paper's program and by ours (cost
rules), and, run on the same JAX devices in this process, the bytes received read off the compiled
HLO (ours, the paper's, XLA's) and XLA's temporary memory per device. ``--elements N`` sets the array
size (default 2**20), ``--devices N`` the number of CPU devices to fake (default 8); ``--check``
exits 1 unless sub-axes move fewer bytes than the paper's program and no more than XLA.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from calculi.core.errors import CalculusError
from calculi.core.files import cli, positive_int
from calculi.core.syntax import Source
from calculi.redistribution.check import check_mesh, check_program
from calculi.redistribution.costs import profile
from calculi.redistribution.parse import parse_mesh, parse_program, parse_type
from calculi.redistribution.pretty import show_program
from calculi.redistribution.simulator import misplaced, simulate
from calculi.redistribution.syntax import DistType, Mesh, Program
from calculi.redistribution.synth import paper


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    mesh: Mesh
    source: DistType
    target: DistType
    program: Program


def _case(name: str, mesh: str, source: str, target: str, program: str) -> Case:
    m = check_mesh(parse_mesh(Source(mesh)))
    src, tgt, prog = parse_type(Source(source)), parse_type(Source(target)), parse_program(Source(program))
    if check_program(src, prog, m)[-1] != tgt:
        raise CalculusError(f"the program of {name} does not end at its target")
    return Case(name, m, src, tgt, prog)


def cases(elements: int = 64) -> list[Case]:
    """The two cases for arrays of about ``elements`` elements (rounded to dimensions that are
    multiples of 8)."""
    n = max(8, elements // 8 * 8)
    first = _case("x=2,y=4 P('y') -> P('x')", "x=2,y=4", f"[{n // 4}{{y}}{n}]", f"[{n // 2}{{x}}{n}]",
                  f"AllPermute([{n // 4}{{x,y:(2)2}}{n}]); AllGather(0, y:(2)2)")
    n = max(8, math.isqrt(elements) // 8 * 8)
    return [first,
        _case("data=2,model=4 P('data','model') -> P('model','data')", "data=2,model=4",
              f"[{n // 2}{{data}}{n}, {n // 4}{{model}}{n}]", f"[{n // 4}{{model}}{n}, {n // 2}{{data}}{n}]",
              f"AllPermute([{n // 2}{{data}}{n}, {n // 4}{{model:2,model:(2)2}}{n}]); "
              f"AllToAll(1 -> 0, model:(2)2); AllPermute([{n // 4}{{model}}{n}, {n // 2}{{data}}{n}])"),
    ]


CASES = cases()


@dataclass(frozen=True, slots=True)
class Row:
    case: str
    paper: Program
    paper_elements: int
    sub_elements: int
    sub_bytes: int = 0
    paper_bytes: int = 0
    xla_bytes: int = 0
    sub_temp: int = 0
    xla_temp: int = 0


def _data(ty: DistType) -> np.ndarray:
    return np.arange(math.prod(ty.global_shape), dtype=np.float32).reshape(ty.global_shape)


def measure(case: Case, engine: bool = True) -> Row:
    """Elements moved by the paper's program and ours (checked correct on the simulator), and with
    ``engine`` the bytes the compiled programs and XLA's resharding move on JAX."""
    mesh, src, tgt = case.mesh, case.source, case.target
    theirs = paper(src, tgt, mesh)
    data = _data(src)
    for program in (theirs, case.program):
        bad = misplaced(simulate(data, src, program, mesh), data, tgt, mesh)
        if bad:
            raise CalculusError(f"{case.name}: {show_program(program)} misplaces devices {bad}")
    moved = [sum(profile(src, p, mesh).received.values()) for p in (theirs, case.program)]
    row = Row(case.name, theirs, moved[0], moved[1])
    if not engine:
        return row
    from calculi.redistribution import engine as jax_engine

    x = jax_engine.place(data, src, mesh)
    ours, baseline = (jax_engine.compile_program(src, p, mesh, x) for p in (case.program, theirs))
    xla = jax_engine.xla_reshard(tgt, mesh, x)
    expected = simulate(data, src, case.program, mesh).buffers
    for label, fn in (("ours", ours.run), ("XLA", xla.run)):
        got = jax_engine.shards(fn(x), mesh)
        if any(not np.array_equal(got[c], expected[c]) for c in mesh.devices()):
            raise CalculusError(f"{case.name}: {label} misplaced data on JAX")
    return Row(case.name, theirs, moved[0], moved[1], ours.received_bytes, baseline.received_bytes,
               xla.received_bytes, ours.temp_bytes, xla.temp_bytes)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calculi.redistribution.subaxes_cases",
                                     description="sub-axes against the paper's program and XLA")
    parser.add_argument("--elements", type=positive_int, default=1 << 20, help="elements per array")
    parser.add_argument("--devices", type=positive_int, default=8, help="CPU devices to fake")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 unless sub-axes move fewer bytes than the paper and no more than XLA")
    args = parser.parse_args(argv)
    from calculi.redistribution import engine as jax_engine

    jax_engine.ensure_devices(args.devices)
    sys.stdout.write("| case | paper program | bytes moved: paper | sub-axes | XLA | temp: sub-axes | XLA |\n"
                     "| --- | --- | ---: | ---: | ---: | ---: | ---: |\n")
    for case in cases(args.elements):
        r = measure(case)
        sys.stdout.write(f"| {r.case} | `{show_program(r.paper)}` | {r.paper_bytes:,} | {r.sub_bytes:,} | "
                         f"{r.xla_bytes:,} | {r.sub_temp:,} | {r.xla_temp:,} |\n")
        if args.check and not (r.sub_bytes < r.paper_bytes and r.sub_bytes <= r.xla_bytes):
            sys.stderr.write(f"{r.case}: sub-axes move {r.sub_bytes:,} bytes, the paper {r.paper_bytes:,}, "
                             f"XLA {r.xla_bytes:,}\n")
            return 1
    return 0


if __name__ == "__main__":
    cli(main)
