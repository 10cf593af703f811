"""The backend bridge: a model written with ``backend.numpy``, partitioned by a schedule."""

from __future__ import annotations

import numpy as np
import pytest

import backend.numpy as bnp
from backend.partition import partition, to_partir
from backend.partition_models import init_mlp, init_transformer, mlp_loss, transformer_layer
from calculi.core.errors import UsageError
from calculi.core.syntax import Source
from calculi.partir.check import check_func
from calculi.partir.lower import lower
from calculi.partir.parse import parse_schedule
from calculi.partir.simulator import estimate
from calculi.partir.tactics import apply_schedule
from calculi.redistribution.syntax import Mesh

MESH = "batch=2, model=4"


def small_loss(w: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    h = bnp.tanh(x @ w["w1"] + w["b1"])
    return bnp.sum((h @ w["w2"] - 1.0) ** 2) * 0.5  # type: ignore[no-any-return]


def _args() -> tuple[dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(1)
    w = {"w1": rng.normal(size=(16, 32)), "b1": rng.normal(size=32), "w2": rng.normal(size=(32, 8))}
    return w, rng.normal(size=(8, 16))


def test_the_traced_model_becomes_partir_core() -> None:
    func, values = to_partir(small_loss, Mesh.of(batch=2, model=4), _args())
    assert [i.name for i in func.inputs][:3] == ["b1", "w1", "w2"]
    assert check_func(func)[func.results[0]] == ()
    assert set(values) == {i.name for i in func.inputs}


@pytest.mark.parametrize("schedule", [
    "",
    "ManualPartition({in0: 0}, batch)",
    "ManualPartition({in0: 0}, batch); ManualPartition({w1: 1}, model)",
    "ManualPartition({in0: 0}, batch); ManualPartition({w1: 0, w2: 1}, model, atomic)",
])
def test_partitioned_model_computes_the_loss(schedule: str) -> None:
    w, x = _args()
    (loss,) = partition(small_loss, MESH, schedule)(w, x)
    np.testing.assert_allclose(loss, small_loss(w, x), rtol=1e-6)


def test_unsupported_primitive_is_named() -> None:
    with pytest.raises(UsageError, match="maximum has no PartIR form"):
        partition(lambda w, x: bnp.sum(bnp.maximum(x @ w, 0.0)), MESH)(np.ones((4, 8)), np.ones((2, 4)))


@pytest.mark.parametrize("mesh", ["batch=2, model=4", "batch=4, model=2"])
def test_the_transformer_layer_partitions_by_tactics_alone(mesh: str) -> None:
    params = init_transformer()
    x = np.random.default_rng(2).normal(size=(4, 8, 16))
    bp_mp = ("ManualPartition({in0: 0}, batch); ManualPartition({wq: 1}, model); "
             "ManualPartition({w1: 1}, model)")
    (y,) = partition(transformer_layer, mesh, bp_mp)(params, x)
    np.testing.assert_allclose(y, transformer_layer(params, x), rtol=1e-6, atol=1e-9)
    func, _ = to_partir(transformer_layer, Mesh.of(batch=2, model=4), (params, x))
    part = apply_schedule(func, parse_schedule(Source(bp_mp)))
    assert estimate(lower(part)).names == ["AllReduce", "AllReduce"]
    assert dict(part.inputs)["wo"] == (("model", 0),) and dict(part.inputs)["w2"] == (("model", 0),)


def test_mlp_training_loss_with_labels() -> None:
    params, rng = init_mlp(), np.random.default_rng(3)
    x, y = rng.normal(size=(8, 16)), rng.normal(size=(8, 8))
    (loss,) = partition(mlp_loss, MESH, "ManualPartition({in0: 0, in1: 0}, batch)")(params, x, y)
    np.testing.assert_allclose(loss, mlp_loss(params, x, y), rtol=1e-9)
