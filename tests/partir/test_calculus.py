"""PartIR:Core by hand: golden programs, negative type checks, propagation, lowering, conflicts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

from calculi.core.errors import CalculusError, ParseError, TypeCheckError, UnboundError
from calculi.core.fuzz import inputs
from calculi.core.syntax import Source
from calculi.partir.check import check_func
from calculi.partir.commands import Session
from calculi.partir.loops import to_loops
from calculi.partir.lower import lower
from calculi.partir.parse import parse_func, parse_schedule
from calculi.partir.pretty import show_func
from calculi.partir.propagation import ConflictError
from calculi.partir.report import inputs_for, show_spmd
from calculi.partir.semantics import evaluate
from calculi.partir.simulator import estimate, run
from calculi.partir.tactics import ManualPartition, Replicate, apply_schedule, megatron, zero
from calculi.redistribution.syntax import Mesh

EXAMPLES = Path(__file__).parents[2] / "calculi" / "partir" / "examples"
MLP = parse_func(Source((EXAMPLES / "mlp.partir").read_text()))
LAYER = parse_func(Source((EXAMPLES / "transformer.partir").read_text()))
BP = ManualPartition({"x": 0}, "batch")


def _collectives(schedule: list[ManualPartition | Replicate], func: object = LAYER) -> list[str]:
    return estimate(lower(apply_schedule(func, schedule))).names  # type: ignore[arg-type]


def test_loop_semantics_tiles_and_sums() -> None:
    f = parse_func(Source("mesh a=2 func f(x: [4, 6]) {"
                          " t = loop a #tile<0> { xs = slice(x, 0, a)  ys = neg(xs)  yield ys }"
                          " s = loop a #sum { xc = slice(x, 1, a)  yc = sum[1](xc)  yield yc }"
                          " return t, s }"))
    x = np.arange(24.0).reshape(4, 6)
    t, s = evaluate(f, {"x": x})
    np.testing.assert_array_equal(t, -x)
    np.testing.assert_array_equal(s, x.sum(axis=1))


def test_megatron_on_the_layer_is_one_all_reduce_per_block() -> None:
    """BP then Megatron: heads sharded in attention, column- then row-parallel MLP, two AllReduces."""
    part = apply_schedule(LAYER, [BP, megatron("wq", "model"), megatron("w1", "model")])
    assert dict(part.inputs) == {"x": (("batch", 0),), "wq": (("model", 1),), "wk": (("model", 1),),
                                 "wv": (("model", 1),), "wo": (("model", 0),), "w1": (("model", 1),),
                                 "w2": (("model", 0),)}
    spmd = lower(part)
    assert estimate(spmd).names == ["AllReduce", "AllReduce"]
    assert "att_1 = AllReduce(model) of att : [2{batch}4, 16, 64]" in show_spmd(spmd)
    args = inputs_for(LAYER)
    np.testing.assert_allclose(run(spmd, args).outputs[0], evaluate(LAYER, args)[0], atol=1e-12)


def test_batch_parallel_mlp_needs_one_all_reduce_for_the_sum() -> None:
    assert _collectives([BP], MLP) == ["AllReduce"]


def test_zero_gathers_each_parameter_where_it_is_used() -> None:
    names = _collectives([BP, zero({"w1": 0, "w2": 1}, "model")])
    assert names == ["AllGather", "AllGather"]


def test_sum_then_tile_is_a_reduce_scatter() -> None:
    f = parse_func(Source("mesh a=2 func f(x: [4, 8], w: [8, 6], v: [4, 6]) {"
                          " y = einsum[ij,jk->ik](x, w)  z = add(y, v)  return z }"))
    part = apply_schedule(f, [ManualPartition({"x": 1}, "a"), ManualPartition({"v": 0}, "a")])
    spmd = lower(part)
    assert estimate(spmd).names == ["ReduceScatter"]
    args = inputs_for(f)
    np.testing.assert_allclose(run(spmd, args).outputs[0], evaluate(f, args)[0], atol=1e-12)


def test_conflict_names_both_sources() -> None:
    with pytest.raises(ConflictError) as err:
        apply_schedule(MLP, [ManualPartition({"x": 1, "w1": 1}, "batch")])
    text = err.value.reason
    assert "w1 would be tiled over batch at dim 0" in text and "at dim 1" in text
    assert "tactic: w1 at dim 1 over batch" in text or "slicing w1@1" in text


def test_replicate_stops_propagation() -> None:
    part = apply_schedule(MLP, [Replicate("a"), ManualPartition({"w1": 1}, "model")])
    assert "a" not in part.loops and "y" not in part.loops and "w2" not in part.inputs
    assert _collectives([Replicate("a"), ManualPartition({"w1": 1}, "model")], MLP) == ["AllGather"]


def test_the_loop_form_prints_and_parses_back() -> None:
    looped = to_loops(apply_schedule(LAYER, [BP, megatron("wq", "model")]))
    assert "#sum" in show_func(looped) and "#tile<0>" in show_func(looped)
    assert parse_func(Source(show_func(looped))) == looped
    check_func(looped)


@pytest.mark.parametrize(("text", "error", "words"), [
    ("mesh a=2 func f(x: [4]) { y = tanh(z) return y }", UnboundError, "z is not bound"),
    ("mesh a=2 func f(x: [4]) { y = add(x) return y }", TypeCheckError, "add takes 2 operand(s)"),
    ("mesh a=2 func f(x: [4], w: [5]) { y = add(x, w) return y }", TypeCheckError, "one shape"),
    ("mesh a=2 func f(x: [4, 3], w: [4, 3]) { y = einsum[ij,jk->ik](x, w) return y }", TypeCheckError,
     "index j is 3"),
    ("mesh a=2 func f(x: [4]) { y = slice(x, 0, a) return y }", TypeCheckError, "outside a loop"),
    ("mesh a=2 func f(x: [3]) { y = loop a #tile<0> { s = slice(x, 0, a) yield s } return y }",
     TypeCheckError,
     "not a multiple"),
    ("mesh a=2 func f(x: [4]) { y = loop a #sum { s = slice(x, 0, a) t = slice(s, 0, a) yield t } return y }",
     TypeCheckError, "already sliced along a"),
    ("mesh a=2 func f(x: [4]) { y = loop a #sum { z = loop a #sum { yield x } yield z } return y }",
     TypeCheckError, "inside a loop over a"),
    ("mesh a=2 func f(x: [4]) { y = loop b #sum { yield x } return y }", TypeCheckError, "not an axis"),
    ("mesh a=2 func f(x: [4]) { x = neg(x) return x }", TypeCheckError, "bound twice"),
    ("mesh a=2 func f(x: [4]) { y = reshape[3](x) return y }", TypeCheckError, "cannot reshape"),
    ("mesh a=2 func f(x: [4]) { y = frob(x) return y }", TypeCheckError, "unknown primitive"),
    ("mesh a=2 func f(x: [4]) { y = neg(x) }", ParseError, "return"),
])
def test_rejected(text: str, error: type[CalculusError], words: str) -> None:
    with pytest.raises(error) as err:
        check_func(parse_func(Source(text)))
    assert words in err.value.reason
    assert err.value.span is not None


def test_schedule_errors_point_at_the_tactic() -> None:
    (tactic,) = parse_schedule(Source("ManualPartition({x: 1}, batch)"))
    with pytest.raises(TypeCheckError) as err:
        apply_schedule(replace(MLP, mesh=Mesh.of(batch=3, model=4)), [tactic])
    assert "not a multiple of |batch| = 3" in err.value.reason and err.value.span is not None


def test_session_commands() -> None:
    s = Session()
    assert "y : [8, 16]" in s.input(Source((EXAMPLES / "mlp.partir").read_text()))
    s.commands()["schedule"].run("ManualPartition({x: 0}, batch); ManualPartition({w1: 1}, model)")
    assert "loop model #sum" in str(s.commands()["apply"].run(""))
    assert "AllReduce(model)" in str(s.commands()["spmd"].run(""))
    assert "equals the reference" in str(s.commands()["simulate"].run(""))
    assert "found: " in str(s.commands()["search"].run("batch"))


FUZZED = inputs([(EXAMPLES / "mlp.partir").read_text(), "mesh a=2 func f(x: [4]) { y = loop a #sum "
                 "{ s = slice(x, 0, a) yield s } return y }"])


@settings(max_examples=50, deadline=None)
@given(FUZZED)
def test_bad_text_is_a_calculus_error(text: str) -> None:
    _only_located_errors(text)


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(FUZZED)
def test_bad_text_is_a_calculus_error_thoroughly(text: str) -> None:
    _only_located_errors(text)


def _only_located_errors(text: str) -> None:
    error: CalculusError | None = None
    try:
        Session().input(Source(text))
    except CalculusError as err:
        error = err
    assert error is None or error.span is not None or "empty" in error.reason


def test_training_step_batch_parallel_all_reduces_the_gradients() -> None:
    step = parse_func(Source((EXAMPLES / "mlp_train.partir").read_text()))
    bp = ManualPartition({"x": 0, "y": 0}, "batch")
    spmd = lower(apply_schedule(step, [bp]))
    assert estimate(spmd).names == ["AllReduce", "AllReduce", "AllReduce"]
    assert "gw1_1 = AllReduce(batch) of gw1" in show_spmd(spmd)
    spmd = lower(apply_schedule(step, [bp, megatron("w1", "model")]))
    args = inputs_for(step)
    for got, want in zip(run(spmd, args).outputs, evaluate(step, args), strict=True):
        np.testing.assert_allclose(got, want, atol=1e-10)
