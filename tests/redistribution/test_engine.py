"""The JAX engine: lowering plans, and runs on fake CPU devices in a fresh process (so that the
number of devices never depends on which test imported JAX first)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from calculi.core.syntax import Source
from calculi.redistribution.check import check_type
from calculi.redistribution.engine import plan
from calculi.redistribution.parse import parse_mesh, parse_type
from calculi.redistribution.pieces import count
from calculi.redistribution.pretty import show_program
from calculi.redistribution.synth import paper


def planned(mesh: str, source: str, target: str) -> list[str]:
    m = parse_mesh(Source(mesh))
    src, tgt = check_type(parse_type(Source(source)), m), check_type(parse_type(Source(target)), m)
    return [show_program(ops) for ops, _ in plan(src, paper(src, tgt, m), m)]


def test_a_permute_and_two_all_to_alls_are_one_all_to_all_over_two_axes() -> None:
    # [8{d,m}64, 64] -> [64, 8{d,m}64] is Perm; AllToAll(d); AllToAll(m) in single-axis steps,
    # which is one all_to_all over ('d', 'm')
    assert planned("d=2, m=4", "[8{d,m}64, 64]", "[64, 8{d,m}64]") == [
        "AllPermute([8{m,d}64, 64]); AllToAll(0 -> 1, d); AllToAll(0 -> 1, m)"]


def test_gathers_of_one_dimension_are_one_all_gather() -> None:
    assert planned("x=2, y=3", "[1{x,y}6]", "[6]") == ["AllGather(0, y); AllGather(0, x)"]


def test_a_gather_of_a_later_dimension_takes_the_slices_before_it_into_its_pieces() -> None:
    assert planned("x=2, y=3", "[96, 32{y}96]", "[48{x}96, 96]") == ["DynSlice(0, x); AllGather(1, y)"]
    assert planned("x=2, y=3", "[96, 16{x,y}96]", "[96, 96]") == ["AllGather(1, y); AllGather(1, x)"]


def test_pieces_divide_the_rows_nearest_sixteen() -> None:
    assert [count(n) for n in (1, 7, 12, 96, 1023, 2039)] == [1, 7, 12, 16, 11, 1]


def test_other_steps_are_lowered_one_by_one() -> None:
    assert planned("x=2, y=3", "[3{x}6]", "[2{y}6]") == ["DynSlice(0, y)", "AllPermute([1{y,x}6])",
                                                         "AllGather(0, x)"]


SCRIPT = textwrap.dedent("""
    import numpy as np
    from calculi.core.syntax import Source
    from calculi.redistribution import engine
    from calculi.redistribution.pieces import PIECES_FROM
    from calculi.redistribution.parse import parse_mesh, parse_type
    from calculi.redistribution.simulator import scatter, simulate
    from calculi.redistribution.synth import paper

    cases = [("d=2, m=4", "[8{d,m}64, 64]", "[64, 8{d,m}64]"), ("x=2, y=3", "[3{x}6, 4]", "[2{y}6, 4]"),
             ("x=2, y=2, z=2", "[4{x}8, 4{y}8, 8]", "[8, 2{z,x}8, 4{y}8]"), ("x=2, y=3", "[1{x,y}6]", "[6]"),
             # in pieces: a gather of a later dimension after a slice, also over two axes at once
             ("x=2, y=3", "[96, 32{y}96]", "[48{x}96, 96]"),
             ("x=2, y=2, z=2", "[96, 24{y,z}96]", "[48{x}96, 96]"),
             ("x=2, y=2", "[32, 4, 16{y}32]", "[16{x}32, 4, 32]"),
             # ... directly, and with dimension 0 cut into pieces of one row
             ("x=2, y=3", "[4, 2{y}6]", "[2{x}4, 6]"), ("x=4", "[7, 3{x}12]", "[7, 12]")]
    in_pieces = {4, 5, 6, 7, 8}
    for k, (mesh, s, t) in enumerate(cases):
        m = parse_mesh(Source(mesh))
        src, tgt = parse_type(Source(s)), parse_type(Source(t))
        data = np.arange(np.prod(src.global_shape), dtype=np.int32).reshape(src.global_shape)
        program = paper(src, tgt, m)
        expected = scatter(data, tgt, m)
        modelled = sum(simulate(data, src, program, m).received.values()) * data.itemsize
        x = engine.place(data, src, m)
        xla = engine.xla_reshard(tgt, m, x)
        whole = engine.compile_program(src, program, m, x, pieces_from=None)
        # by default (in pieces from PIECES_FROM bytes), and in pieces whatever the size
        for pieces_from in (PIECES_FROM, 0):
            out = engine.run(data, src, program, m, pieces_from=pieces_from)
            assert all(np.array_equal(out.buffers[c], expected[c]) for c in m.devices()), (mesh, s, t)
            assert out.compiled.received_bytes <= modelled, (mesh, s, t)
            if k in in_pieces:
                assert out.compiled.received_bytes == whole.received_bytes == modelled, (mesh, s, t)
            if pieces_from:
                assert out.compiled.temp_bytes <= max(xla.temp_bytes, 64), (mesh, s, t)
    # large enough to cut: case 6 of the benchmark, at a sixteenth of its size
    m = parse_mesh(Source("x=2, y=3"))
    src, tgt = parse_type(Source("[510, 170{y}510]")), parse_type(Source("[255{x}510, 510]"))
    data = np.arange(510 * 510, dtype=np.float32).reshape(510, 510)
    program = paper(src, tgt, m)
    out = engine.run(data, src, program, m)
    expected = scatter(data, tgt, m)
    assert all(np.array_equal(out.buffers[c], expected[c]) for c in m.devices())
    x = engine.place(data, src, m)
    whole = engine.compile_program(src, program, m, x, pieces_from=None)
    xla = engine.xla_reshard(tgt, m, x)
    assert out.compiled.received_bytes == whole.received_bytes < xla.received_bytes
    assert 3 * out.compiled.temp_bytes <= xla.temp_bytes and out.compiled.temp_bytes < whole.temp_bytes
    print("ok", engine.device_count())
""")


@pytest.mark.engine
def test_engine_runs_programs_on_cpu_devices() -> None:
    pytest.importorskip("jax")
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["ok", "16"]


def test_without_jax_the_engine_says_so() -> None:
    script = textwrap.dedent("""
        import sys
        sys.modules['jax'] = None
        from calculi.redistribution import engine
        try:
            engine.ensure_devices()
        except Exception as err:
            print(type(err).__name__, err)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False,
                          timeout=60)
    assert "UsageError" in proc.stdout and "needs JAX" in proc.stdout
