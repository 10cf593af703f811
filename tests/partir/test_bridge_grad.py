"""The gradient through the bridge: partitioning after Linear A's reverse mode."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

import backend.numpy as bnp
from backend.api import value_and_grad
from backend.models import griffin
from backend.partition import partition, to_partir
from backend.partition_models import init_mlp, init_transformer, mlp_loss, transformer_layer
from backend.pytree import flatten
from calculi.core.errors import UsageError
from calculi.core.syntax import Source
from calculi.partir.check import check_func
from calculi.partir.lower import Communicate, lower
from calculi.partir.parse import parse_schedule
from calculi.partir.syntax import Apply
from calculi.partir.tactics import apply_schedule
from calculi.redistribution.reductions import AllReduce
from calculi.redistribution.syntax import Mesh

MESH = Mesh.of(batch=2, model=4)
BP = "ManualPartition({in0: 0, in1: 0}, batch)"
MP = "ManualPartition({w1: 1}, model)"
SCHEDULES = {"none": "", "BP": BP, "MP": MP, "BP+MP": f"{BP}; {MP}"}


def _mlp() -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return init_mlp(), rng.normal(size=(8, 16)), rng.normal(size=(8, 8))


@pytest.mark.parametrize("name", SCHEDULES)
def test_mlp_training_step_matches_the_unpartitioned_gradient(name: str) -> None:
    params, x, y = _mlp()
    loss, grads = value_and_grad(mlp_loss)(params, x, y)
    out = partition(mlp_loss, MESH, SCHEDULES[name], grad=True)(params, x, y)
    np.testing.assert_allclose(out[0], loss, rtol=1e-12)
    assert len(out) == 1 + len(grads)
    for got, key in zip(out[1:], sorted(grads), strict=True):
        np.testing.assert_allclose(got, grads[key], rtol=1e-10, atol=1e-14)


def _all_reduced(schedule: str) -> dict[str, list[str]]:
    """For each value the lowered training step all-reduces: the axes it is summed over."""
    func, _ = to_partir(mlp_loss, MESH, _mlp(), grad=True)
    spmd = lower(apply_schedule(func, parse_schedule(Source(schedule))))
    reduced: dict[str, list[str]] = {}
    for instr in spmd.instrs:
        if isinstance(instr, Communicate):
            axes = [op.axis for op in instr.ops if isinstance(op, AllReduce)]
            if axes:
                reduced.setdefault(instr.arg, []).extend(axes)
    return reduced


def test_batch_parallelism_all_reduces_each_gradient_once() -> None:
    func, _ = to_partir(mlp_loss, MESH, _mlp(), grad=True)
    shapes = check_func(func)
    reduced = _all_reduced(BP)
    _, *grads = func.results
    assert len(grads) == 3 and all(reduced.pop(g) == ["batch"] for g in grads)
    ((summed, axes),) = reduced.items()
    assert axes == ["batch"] and shapes[summed] == ()


def test_megatron_gradient_needs_no_all_reduce_of_the_sharded_weight() -> None:
    func, _ = to_partir(mlp_loss, MESH, _mlp(), grad=True)
    reduced = _all_reduced(MP)
    assert all(axes == ["model"] for axes in reduced.values())
    assert not set(reduced) & set(func.results[1:])
    both = _all_reduced(SCHEDULES["BP+MP"])
    assert all(both[g] == ["batch"] for g in func.results[1:])


def test_transformer_layer_gradient_under_bp_and_megatron() -> None:
    def layer_loss(w: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
        return bnp.sum(transformer_layer(w, x) ** 2)  # type: ignore[no-any-return]

    params = init_transformer(d=8, heads=4, hidden=16)
    x = np.random.default_rng(2).normal(size=(4, 4, 8))
    loss, grads = value_and_grad(layer_loss)(params, x)
    schedule = ("ManualPartition({in0: 0}, batch); ManualPartition({wq: 1}, model); "
                "ManualPartition({w1: 1}, model)")
    out = partition(layer_loss, MESH, schedule, grad=True)(params, x)
    np.testing.assert_allclose(out[0], loss, rtol=1e-10)
    for got, key in zip(out[1:], sorted(grads), strict=True):
        np.testing.assert_allclose(got, grads[key], rtol=1e-9, atol=1e-12)


def _griffin(blocks: int) -> tuple[Any, dict[str, Any], np.ndarray]:
    cfg = replace(griffin.preset("tiny", 16), blocks=blocks)
    params = griffin.init(cfg, 0, np.float64)
    tokens = np.random.default_rng(blocks).integers(0, 16, size=(4, 8))
    return (lambda p, t, g: griffin.loss(p, t, g, cfg)), params, tokens


GRIFFIN_BP = "ManualPartition({in0: 0, in1: 0}, batch)"


def _matches(out: tuple[np.ndarray, ...], loss: Any, grads: dict[str, Any], rtol: float) -> None:
    np.testing.assert_allclose(out[0], loss, rtol=rtol)
    leaves = flatten(grads)[0]
    assert len(out) == 1 + len(leaves)
    for got, want in zip(out[1:], leaves, strict=True):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * 1e-2)


@pytest.mark.parametrize(("blocks", "mesh"), [(1, "batch=2"), (1, "batch=4"), (2, "batch=2"), (2, "batch=4")])
def test_griffin_training_step_partitions_by_batch_and_matches(blocks: int, mesh: str) -> None:
    step, params, tokens = _griffin(blocks)
    loss, grads = value_and_grad(step)(params, tokens, tokens)
    _matches(partition(step, mesh, GRIFFIN_BP, grad=True)(params, tokens, tokens), loss, grads, 1e-10)


def test_griffin_training_step_keeps_time_whole_and_sums_gradients_over_the_batch() -> None:
    step, params, tokens = _griffin(1)
    func, _ = to_partir(step, Mesh.of(batch=4), (params, tokens, tokens), grad=True)
    part = apply_schedule(func, parse_schedule(Source(GRIFFIN_BP)))
    scans = [op.result for op in func.body if isinstance(op, Apply) and op.prim == "scan"]
    assert scans and all([f.result for _, f in part.loops[s]] == [0] for s in scans)
    spmd = lower(part)
    sums = [op for i in spmd.instrs if isinstance(i, Communicate) for op in i.ops]
    assert all(isinstance(op, AllReduce) and op.axis == "batch" for op in sums)
    assert len(sums) >= len(flatten(params)[0])


@pytest.mark.slow
def test_griffin_training_step_on_jax_devices() -> None:
    pytest.importorskip("jax")
    step, params, tokens = _griffin(1)
    loss, grads = value_and_grad(step)(params, tokens, tokens)
    _matches(partition(step, "batch=4", GRIFFIN_BP, engine="jax", grad=True)(params, tokens, tokens), loss,
             grads, 1e-5)


def test_a_non_scalar_loss_is_refused() -> None:
    with pytest.raises(UsageError, match="needs a scalar loss"):
        partition(lambda w, x: x @ w, MESH, grad=True)(np.ones((4, 8)), np.ones((2, 4)))


@pytest.mark.slow
def test_mlp_training_step_on_jax_devices() -> None:
    pytest.importorskip("jax")
    params, x, y = _mlp()
    loss, grads = value_and_grad(mlp_loss)(params, x, y)
    out = partition(mlp_loss, MESH, SCHEDULES["BP+MP"], engine="jax", grad=True)(params, x, y)
    np.testing.assert_allclose(out[0], loss, rtol=1e-5)
    for got, key in zip(out[1:], sorted(grads), strict=True):
        np.testing.assert_allclose(got, grads[key], rtol=1e-5, atol=1e-7)


def test_a_traced_gradient_function_partitions_as_an_ordinary_program() -> None:
    params, x, y = _mlp()
    loss, grads = value_and_grad(mlp_loss)(params, x, y)
    out = partition(value_and_grad(mlp_loss), MESH, BP)(params, x, y)
    np.testing.assert_allclose(out[0], loss, rtol=1e-12)
    for got, key in zip(out[1:], sorted(grads), strict=True):
        np.testing.assert_allclose(got, grads[key], rtol=1e-10, atol=1e-14)
