"""The command line, driven as a user would: ``python -m calculi.redistribution ...``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "calculi.redistribution", *args],
                          capture_output=True, text=True, check=False, timeout=300)


def test_synth_prints_the_program_with_local_sizes() -> None:
    proc = cli("synth", "--mesh", "x=2,y=3", "[3{x}6]", "[2{y}6]")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "mesh x=2, y=3: [3{x}6] -> [2{y}6]  (strategy paper)"
    assert lines[3].split() == ["1", "DynSlice(0,", "y)", "[1{x,y}6]", "1"]
    assert "peak local elements: 3" in proc.stdout


def test_synth_json() -> None:
    proc = cli("synth", "--mesh", "x=2,y=3", "[3{x}6]", "[2{y}6]", "--json", "--engine", "sim")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["program"] == [
        {"op": "DynSlice", "dim": 0, "axis": "y"},
        {"op": "AllPermute", "target": "[1{y,x}6]"},
        {"op": "AllGather", "dim": 0, "axis": "x"},
    ]
    assert out["peak_local_elements"] == 3
    assert out["received_elements"] == [1, 2, 2, 2, 2, 1]
    assert out["checked"].startswith("checked on the NumPy simulator")


def test_strategies() -> None:
    naive = json.loads(cli("synth", "--mesh", "x=2,y=3", "[3{x}6, 6]", "[6, 2{y}6]", "--json",
                           "--strategy", "naive").stdout)
    assert naive["peak_local_elements"] == 36
    xla = json.loads(cli("synth", "--mesh", "x=2,y=3", "[3{x}6]", "[2{y}6]", "--json",
                         "--strategy", "xla").stdout)
    assert [op["op"] for op in xla["program"]] == ["AllGather", "DynSlice"]
    assert xla["peak_local_elements"] == 6


def test_optimal_strategy() -> None:
    proc = cli("synth", "--mesh", "x=4,y=2", "[3{x}12, 6{y}12]", "[12, 3{x}12]", "--json", "--engine", "sim",
               "--strategy", "optimal")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["strategy"] == "optimal" and out["peak_local_elements"] == 36
    assert [op["op"] for op in out["program"]] == ["AllGather", "AllToAll"]
    assert out["checked"].startswith("checked on the NumPy simulator")
    proc = cli("synth", "--mesh", "a=2,b=2,c=2,d=2,e=2,f=2,g=2,h=2", "[1{a,b,c}8, 1{d,e,f}8, 4{g,h}16]",
               "[1{h,g,f}8, 1{e,d,c}8, 4{b,a}16]", "--strategy", "optimal")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("source:1:1: search limit [optimal]: the optimal search would "
                                  "enumerate more")
    proc = cli("synth", "--mesh", "x=100000,y=100000", "[100000{x}10000000000]", "[100000{y}10000000000]",
               "--strategy", "optimal")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "optimal search would" in proc.stderr


def test_bad_input_is_a_message_not_a_traceback() -> None:
    proc = cli("synth", "--mesh", "x=2,y=3", "[3{x}6]", "[2{z}6]")
    assert proc.returncode == 1
    assert "target:1:2: unbound name [Type-Wf]: axis 'z'" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = cli("synth", "--mesh", "x=2,,", "[3{x}6]", "[2{y}6]")
    assert proc.returncode == 1 and proc.stderr.startswith("--mesh:1:")


def test_check_a_program() -> None:
    proc = cli("check", "--mesh", "x=2,y=3", "[3{x}6]", "DynSlice(0, y); AllGather(0, x)")
    assert proc.returncode == 1
    assert "type error [AllGather]" in proc.stderr


@pytest.mark.engine
def test_synth_runs_on_jax_devices() -> None:
    pytest.importorskip("jax")
    for strategy in ("paper", "optimal", "xla"):
        proc = cli("synth", "--mesh", "x=2,y=3", "[3{x}6, 4]", "[2{y}6, 4]", "--engine", "jax",
                   "--strategy", strategy)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "checked on JAX (6 devices)" in proc.stdout


def test_too_large_inputs_are_refused_not_attempted() -> None:
    proc = cli("synth", "--mesh", "x=100000,y=100000", "[100000{x}10000000000]", "[100000{y}10000000000]")
    assert proc.returncode == 1 and "10,000,000,000 devices" in proc.stderr
    proc = cli("synth", "--mesh", "x=2", "[100000000{x}200000000]", "[200000000]", "--engine", "sim")
    assert proc.returncode == 1 and "memory budget: the simulator would hold 3 GiB" in proc.stderr


@pytest.mark.engine
def test_benchmark_prints_a_markdown_table() -> None:
    pytest.importorskip("jax")
    proc = subprocess.run([sys.executable, "-m", "calculi.redistribution.bench", "--elements", "4096",
                           "--repeat", "1", "--cases", "3", "--markdown"],
                          capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("| case | mesh | source -> target | temp MiB XLA | temp MiB paper"
                               " | temp MiB opt | temp MiB sub |")
    assert len([line for line in lines if line.startswith("| ")]) == 4
    assert "geometric-mean speedup" in proc.stdout
