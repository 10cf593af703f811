"""automap on the transformer layer, the command line, and the JAX engine (in a subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from calculi.core.files import cli as run_cli
from calculi.partir.__main__ import main
from calculi.partir.automap import search
from calculi.partir.bench import spearman, transformer
from calculi.partir.engine import JAX_IMPLS
from calculi.partir.lower import lower
from calculi.partir.prims import PRIMS
from calculi.partir.simulator import CostModel, estimate
from calculi.partir.tactics import apply_schedule, unpartitioned

ROOT = Path(__file__).parents[2]
LAYER = ROOT / "calculi" / "partir" / "examples" / "transformer.partir"


@pytest.mark.parametrize("mesh", [pytest.param("batch=2, model=4", marks=pytest.mark.slow),
                                  "batch=4, model=2"])
def test_automap_finds_batch_parallelism_and_megatron(mesh: str) -> None:
    layer = transformer(mesh, 4, 16, 64, 4, 256)
    model = CostModel()
    limit = estimate(lower(unpartitioned(layer)), model).peak * model.itemsize // 4
    found = search(unpartitioned(layer), layer.mesh.names, memory=limit, model=model)
    tiled = dict(apply_schedule(layer, found.schedule).inputs)
    ((data, dim),) = tiled["x"]
    (mp,) = {a for a in layer.mesh.names if a != data}
    assert dim == 0
    assert tiled["wq"] == tiled["wk"] == tiled["wv"] == ((mp, 1),) and tiled["wo"] == ((mp, 0),)
    assert tiled["w1"] == ((mp, 1),) and tiled["w2"] == ((mp, 0),)
    assert found.estimate.names == ["AllReduce", "AllReduce"]
    assert found.estimate.peak * model.itemsize <= limit


def test_every_primitive_has_a_jax_implementation() -> None:
    assert set(JAX_IMPLS) == set(PRIMS)


def test_spearman() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The command line in a fresh process (JAX must start with the fake devices asked for)."""
    return subprocess.run([sys.executable, "-m", "calculi.partir", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=False)


def in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = run_cli(main, list(args))
    out = capsys.readouterr()
    return status, out.out, out.err


def test_cli_apply_simulate_search(capsys: pytest.CaptureFixture[str]) -> None:
    bp_mp = "ManualPartition({x: 0}, batch); ManualPartition({wq: 1}, model); ManualPartition({w1: 1}, model)"
    status, out, _ = in_process(capsys, "apply", str(LAYER), "--schedule", bp_mp)
    assert status == 0 and "loop model #sum" in out and "AllReduce(model)" in out
    status, out, _ = in_process(capsys, "simulate", str(LAYER), "--schedule", bp_mp)
    assert status == 0 and "2×AllReduce" in out and "equals the reference" in out
    status, out, _ = in_process(capsys, "search", str(LAYER), "--memory", "88KiB")
    assert status == 0 and "found: " in out and "2×AllReduce" in out
    status, out, _ = in_process(capsys, "search", str(LAYER), "--memory", "88KiB", "--method", "mcts",
                                "--episodes", "300", "--seed", "1")
    assert status == 0 and "2×AllReduce" in out and "mcts (300 episodes, seed 1)" in out
    status, out, _ = in_process(capsys, "run", str(LAYER))
    assert status == 0 and "y : [4, 16, 64]" in out


@pytest.mark.slow
def test_the_module_runs_as_a_command() -> None:
    proc = cli("run", str(LAYER))
    assert proc.returncode == 0 and "y : [4, 16, 64]" in proc.stdout


@pytest.mark.parametrize(("args", "words"), [
    (("simulate", str(LAYER), "--schedule", "ManualPartition({x: 7}, batch)"), "x has no dimension 7"),
    (("apply", str(LAYER), "--schedule", "ManualPartition({x: 0}, batch"), "syntax error"),
    (("run", "no/such/file.partir"), "cannot read"),
    (("search", str(LAYER), "--memory", "1KiB", "--axes", "batch"), "no schedule fits"),
    (("search", str(LAYER), "--memory", "1KiB", "--method", "mcts", "--episodes", "5"), "no schedule fits"),
])
def test_cli_errors_are_one_line_and_a_caret(capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                                             words: str) -> None:
    status, _, err = in_process(capsys, *args)
    assert status == 1 and words in err and "Traceback" not in err


@pytest.mark.slow
@pytest.mark.engine
def test_jax_run_equals_the_reference() -> None:
    pytest.importorskip("jax")
    bp_zero = "ManualPartition({x: 0}, batch); ManualPartition({w1: 0, w2: 1, wq: 0}, model, atomic)"
    for schedule in ("ManualPartition({x: 0}, batch); ManualPartition({wq: 1}, model); "
                     "ManualPartition({w1: 1}, model)", bp_zero):
        out = cli("simulate", str(LAYER), "--schedule", schedule, "--engine", "jax")
        assert out.returncode == 0, out.stderr
        assert "JAX run          equals the reference" in out.stdout
