"""Uneven dimensions: when the memory bound holds, a case where it does not, and running such cases."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from calculi.core.syntax import Source
from calculi.redistribution.costs import profile
from calculi.redistribution.parse import parse_mesh, parse_program, parse_type
from calculi.redistribution.simulator import misplaced, simulate
from calculi.redistribution.strategies import Problem, union_divisible
from calculi.redistribution.synth import paper


def problem(mesh: str, source: str, target: str) -> Problem:
    return Problem(parse_mesh(Source(mesh)), parse_type(Source(source)), parse_type(Source(target)))


def test_the_condition_asks_each_dimension_for_the_axes_either_type_puts_on_it() -> None:
    # 12 is not a multiple of the mesh size 8, but of |x| = 4 (dimension 0) and |y| = 2 (dimension 1)
    assert union_divisible(problem("x=4,y=2", "[3{x}12, 12]", "[12, 6{y}12]"))
    assert not union_divisible(problem("x=4,y=2", "[6{y}12]", "[3{x}12]"))


def test_an_uneven_problem_within_the_condition_stays_within_the_bound() -> None:
    p = problem("x=4,y=2", "[6{y}12, 6]", "[12, 3{y}6]")
    assert union_divisible(p)
    prof = profile(p.source, paper(p.source, p.target, p.mesh), p.mesh)
    assert prof.peak <= max(p.source.local_size, p.target.local_size) == 36


@pytest.mark.parametrize(("mesh", "source", "target", "program"), [
    ("x=4,y=2", "[6{y}12]", "[3{x}12]", "DynSlice(0, x:2); AllPermute([3{x}12])"),
    ("x=4,y=2", "[3{x}12, 6{y}12]", "[6{y}12, 3{x}12]",
     "AllPermute([3{x:2,x:(2)2}12, 6{y}12]); AllToAll(0 -> 1, x:(2)2); AllPermute([6{y}12, 3{x}12])"),
])
def test_outside_the_condition_sub_axes_reach_the_bound(mesh: str, source: str, target: str,
                                                        program: str) -> None:
    p = problem(mesh, source, target)
    bound = max(p.source.local_size, p.target.local_size)
    ours = parse_program(Source(program))
    data = np.arange(int(np.prod(p.source.global_shape))).reshape(p.source.global_shape)
    run = simulate(data, p.source, ours, p.mesh)
    assert misplaced(run, data, p.target, p.mesh) == [] and run.peak == bound


def test_the_paper_can_exceed_the_bound_outside_the_condition() -> None:
    p = problem("x=4,y=2", "[6{y}12]", "[3{x}12]")
    assert profile(p.source, paper(p.source, p.target, p.mesh), p.mesh).peak == 12 > 6


@pytest.mark.slow
def test_uneven_cases_run_on_jax_with_and_without_sub_axes() -> None:
    pytest.importorskip("jax")
    script = textwrap.dedent("""
        import numpy as np
        from calculi.core.syntax import Source
        from calculi.redistribution import engine
        from calculi.redistribution.parse import parse_mesh, parse_program, parse_type
        from calculi.redistribution.simulator import scatter
        from calculi.redistribution.synth import paper
        engine.ensure_devices(8)
        mesh = parse_mesh(Source("x=4,y=2"))
        for s, t, p in [("[6{y}12]", "[3{x}12]", "DynSlice(0, x:2); AllPermute([3{x}12])"),
                        ("[3{x}12, 6{y}12]", "[6{y}12, 3{x}12]", "AllPermute([3{x:2,x:(2)2}12, 6{y}12]); "
                         "AllToAll(0 -> 1, x:(2)2); AllPermute([6{y}12, 3{x}12])"),
                        ("[12, 6{y}12]", "[3{x}12, 12]", None)]:
            src, tgt = parse_type(Source(s)), parse_type(Source(t))
            data = np.arange(int(np.prod(src.global_shape)), dtype=np.int32).reshape(src.global_shape)
            expected = scatter(data, tgt, mesh)
            for program in [paper(src, tgt, mesh)] + ([parse_program(Source(p))] if p else []):
                out = engine.run(data, src, program, mesh)
                assert all(np.array_equal(out.buffers[c], expected[c]) for c in mesh.devices()), (s, t)
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.stdout.strip() == "ok", proc.stderr[-2000:]
