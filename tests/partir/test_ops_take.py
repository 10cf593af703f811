"""PartIR's gather, ``take``: typing, reference semantics, propagation, lowering and the bridge."""

from __future__ import annotations

import numpy as np
import pytest

import backend.numpy as bnp
from backend.partition import partition
from calculi.core.errors import ShapeError, TypeCheckError
from calculi.core.syntax import Source
from calculi.partir.check import check_func
from calculi.partir.loops import to_loops
from calculi.partir.lower import Communicate, lower
from calculi.partir.parse import parse_func
from calculi.partir.semantics import evaluate
from calculi.partir.simulator import estimate, run
from calculi.partir.strategies import example_args
from calculi.partir.tactics import ManualPartition, apply_schedule
from calculi.redistribution.syntax import AllGather

EMBED = """mesh x=2, y=2
func f(table: [16, 8], ids: [4, 6], w: [8, 8]) {
  e = take(table, ids)
  h = einsum[bsf,fg->bsg](e, w)
  return h
}"""


def _collectives(schedule: list[ManualPartition]) -> list[str]:
    spmd = lower(apply_schedule(parse_func(Source(EMBED)), schedule))
    return [type(op).__name__ for i in spmd.instrs if isinstance(i, Communicate) for op in i.ops]


def test_take_gathers_rows_by_whole_numbers() -> None:
    func = parse_func(Source(EMBED))
    args = example_args(func)
    assert set(np.unique(args["ids"])) <= set(range(16))
    (h,) = evaluate(func, args)
    np.testing.assert_allclose(h, args["table"][args["ids"].astype(int)] @ args["w"])


@pytest.mark.parametrize(("text", "reason"), [
    ("take[1](t, i)", "take takes no parameters"),
    ("take(s, i)", "rank at least 1"),
])
def test_take_is_typed(text: str, reason: str) -> None:
    src = f"mesh x=2\nfunc f(t: [4, 2], s: [], i: [3]) {{\n  v = {text}\n  return v\n}}"
    with pytest.raises(TypeCheckError, match=reason):
        check_func(parse_func(Source(src)))


@pytest.mark.parametrize("bad", [2.5, 16.0, -1.0])
def test_an_index_that_is_no_row_is_refused_with_its_position(bad: float) -> None:
    func = parse_func(Source(EMBED))
    args = example_args(func)
    args["ids"][1, 2] = bad
    with pytest.raises(ShapeError, match=r"index .* at position \(1, 2\) is not a whole number below 16"):
        evaluate(func, args)


def test_tiling_the_index_batch_tiles_the_lookup_without_communication() -> None:
    part = apply_schedule(parse_func(Source(EMBED)), [ManualPartition({"ids": 0}, "x")])
    assert [f.result for _, f in part.loops["e"]] == [0]
    assert _collectives([ManualPartition({"ids": 0}, "x")]) == []


def test_tiling_the_table_features_tiles_the_lookup_and_contracts_after() -> None:
    part = apply_schedule(parse_func(Source(EMBED)), [ManualPartition({"table": 1}, "y")])
    assert [f.result for _, f in part.loops["e"]] == [2]
    assert [f.reduce for _, f in part.loops["h"]] == [True]
    assert _collectives([ManualPartition({"table": 1}, "y")]) == ["AllReduce"]


def test_tiling_the_table_rows_stops_at_the_lookup_which_gathers_the_table() -> None:
    part = apply_schedule(parse_func(Source(EMBED)), [ManualPartition({"table": 0}, "x")])
    assert "e" not in part.loops and part.inputs["table"] == (("x", 0),)
    spmd = lower(part)
    (comm,) = [i for i in spmd.instrs if isinstance(i, Communicate)]
    assert comm.arg == "table" and all(isinstance(op, AllGather) for op in comm.ops)


@pytest.mark.parametrize("schedule", [
    [ManualPartition({"ids": 0}, "x"), ManualPartition({"table": 1}, "y")],
    [ManualPartition({"ids": 1}, "y"), ManualPartition({"w": 1}, "x")],
    [ManualPartition({"table": 0}, "x"), ManualPartition({"ids": 0}, "y")],
])
def test_partitioned_lookups_compute_the_reference(schedule: list[ManualPartition]) -> None:
    func = parse_func(Source(EMBED))
    args = example_args(func)
    part = apply_schedule(func, schedule)
    reference = evaluate(func, args)
    np.testing.assert_allclose(evaluate(to_loops(part), args)[0], reference[0], rtol=1e-12)
    spmd = lower(part)
    ran = run(spmd, args)
    np.testing.assert_allclose(ran.outputs[0], reference[0], rtol=1e-12)
    assert estimate(spmd).sent == ran.sent


@pytest.mark.parametrize("axis", [0, 1])
def test_the_backend_take_converts_along_either_axis(axis: int) -> None:
    table = np.random.default_rng(1).normal(size=(8, 6))
    ids = np.array([[1, 4, 0], [3, 3, 5]])
    fn = partition(lambda t, i: bnp.tanh(bnp.take(t, i, axis=axis)), "x=2",
                   "ManualPartition({in0: 0}, x)")
    (out,) = fn(table, ids)
    np.testing.assert_allclose(out, np.tanh(np.take(table, ids, axis=axis)), rtol=1e-12)


@pytest.mark.slow
def test_partitioned_lookups_run_on_jax_devices() -> None:
    pytest.importorskip("jax")
    from calculi.partir.engine import run_jax  # JAX is an optional engine

    func = parse_func(Source(EMBED))
    args = example_args(func)
    spmd = lower(apply_schedule(func, [ManualPartition({"ids": 0}, "x"), ManualPartition({"table": 1}, "y")]))
    np.testing.assert_allclose(run_jax(spmd, args)[0], evaluate(func, args)[0], rtol=1e-5, atol=1e-6)
