"""PartIR's sequence primitives (windows, ``scan``, the maximum): typing, semantics against the
backend's own primitives, propagation rows (time and reduced dimensions refused), lowering, JAX."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from backend import contractions as C
from backend import indexing as I
from backend import primitives as P
from backend import structural as S
from backend.lprims import IMPLS
from backend.partition_convert import Converter, conversion
from calculi.core.errors import TypeCheckError
from calculi.core.syntax import Source
from calculi.partir.check import check_func
from calculi.partir.loops import to_loops
from calculi.partir.lower import Communicate, lower
from calculi.partir.parse import parse_func
from calculi.partir.semantics import evaluate
from calculi.partir.simulator import estimate, run
from calculi.partir.strategies import example_args
from calculi.partir.syntax import Func
from calculi.partir.tactics import ManualPartition, apply_schedule
from calculi.redistribution.syntax import AllGather, Mesh

RNN = """mesh x=2, y=2
func f(a: [4, 6, 8], u: [4, 6, 8], h: [4, 8], w: [8, 8]) {
  s = scan[0](a, u, h)
  m = max[1](s)
  k = argmax_weights[1](s)
  c = strided_slice[0, 1, 0, 1, 2, 1, 4, 3, 8](s)
  p = pad[0, 1, 0, 1, 2, 1, 4, 6, 8](c)
  q = einsum[btf,fg->btg](p, w)
  e = exp(q)
  o = sqrt(e)
  r = maximum(o, q)
  return r, m, k
}"""


def _converted(name: str, params: dict[str, Any], *arrays: np.ndarray) -> np.ndarray:
    """The PartIR:Core statements the bridge writes for ``name``, run by the reference semantics."""
    c = Converter([], [], [], [])
    names = [c.add_input(c.fresh("x"), np.asarray(a, dtype=np.float64)) for a in arrays]
    out = conversion(name)(c, params, names)
    return evaluate(Func(Mesh.of(x=2), "f", tuple(c.inputs), tuple(c.stmts), (out,)), c.values)[0]


RNG = np.random.default_rng(3)
SEQ, KERNEL, IDX = RNG.normal(size=(2, 5, 3)), RNG.normal(size=(4, 3)), np.array([[1, 0, 3], [2, 2, 0]])
BOTH, WIDE = (False, True), RNG.normal(size=(7, 3))
CASES: list[tuple[Any, dict[str, Any], tuple[np.ndarray, ...]]] = [
    *[(C.linear_scan_p, {"reverse": r}, (SEQ, SEQ[::-1], SEQ[:, 0])) for r in (False, True)],
    *[(C.scan_prev_p, {"reverse": r}, (SEQ, SEQ[::-1], SEQ[:, 0])) for r in (False, True)],
    *[(C.scanL_p, {"reverse": r, "adjoint": j}, (SEQ, SEQ[::-1])) for r in BOTH for j in BOTH],
    *[(C.conv1d_p, {"reverse": r}, (SEQ, k)) for r in BOTH for k in (KERNEL, KERNEL[:1], WIDE)],
    (C.conv1dL_p, {"reverse": True}, (KERNEL, SEQ)),
    *[(C.wgradL_p, {"width": n, "reverse": r}, (SEQ, SEQ[::-1])) for n in (1, 4, 7) for r in (False, True)],
    (I.one_hot_p, {"n": 4, "dtype": "float64"}, (IDX,)),
    *[(I.scatter_addL_p, {"axis": len(lead), "size": 4}, (IDX, RNG.normal(size=(*lead, 2, 3, *tail))))
      for lead, tail in (((), (5,)), ((5,), ()), ((5, 6), (2,)))],
    (S.slice_p, {"starts": (0, 1, 2), "limits": (2, 5, 3), "strides": (1, 2, 1)}, (SEQ,)),
    (S.padL_p, {"starts": (0, 1, 2), "limits": (2, 5, 3), "strides": (1, 2, 1), "shape": (2, 6, 4)},
     (SEQ[:, :2, :1],)),
    (S.reduce_max_p, {"axes": (1,)}, (SEQ,)),
    (S.argmax_weights_p, {"axes": (0, 2)}, (np.round(SEQ),)),
    (P.sqrt_bound_derivative_p, {"max_gradient": 1000.0}, (np.abs(SEQ),)),
    (P.sqrt_bound_grad_p, {"max_gradient": 2.0}, (np.abs(SEQ),)),
]


@pytest.mark.parametrize(("prim", "params", "arrays"), CASES, ids=lambda v: getattr(v, "name", ""))
def test_each_conversion_computes_the_backend_primitive(prim: Any, params: dict[str, Any],
                                                        arrays: tuple[np.ndarray, ...]) -> None:
    np.testing.assert_allclose(_converted(prim.name, params, *arrays), IMPLS[prim](*arrays, **params),
                               rtol=1e-12, atol=1e-14)


def test_argmax_weights_shares_among_ties() -> None:
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    np.testing.assert_allclose(_converted("argmax_weights", {"axes": (1,)}, x),
                               [[0, 0.5, 0.5], [0.5, 0, 0.5]])


@pytest.mark.parametrize(("text", "reason"), [
    ("scan[2](a, a, h)", r"scan takes its direction"),
    ("scan[0](a, a, w)", r"h0 \[B, …\]"),
    ("scan[0](h, h, h)", r"a and x of one shape \[B, T, …\]"),
    ("strided_slice[0, 0](h)", r"takes 6 numbers"),
    ("strided_slice[0, 7, 1, 1, 1, 1](h)", r"dimension 1 reaches index 7, beyond its 2 entries"),
    ("strided_slice[0, 0, 0, 1, 1, 1](h)", r"strides and sizes at least 1"),
    ("strided_slice[0, 0, 1, 1, 1, 0](h)", r"strides and sizes at least 1"),
    ("pad[0, 0, 1, 1, 4, 1](h)", r"dimension 1 reaches index 1, beyond its 1 entries"),
    ("max[3](a)", r"max over \[3\]: dimensions must be distinct and below 3"),
    ("argmax_weights[1, 1](a)", r"distinct"),
    ("maximum(a, h)", r"one shape"),
])
def test_the_sequence_primitives_are_typed(text: str, reason: str) -> None:
    src = f"mesh x=2\nfunc f(a: [4, 3, 2], h: [4, 2], w: [3, 2]) {{\n  v = {text}\n  return v\n}}"
    with pytest.raises(TypeCheckError, match=reason):
        check_func(parse_func(Source(src)))


def _loops(schedule: list[ManualPartition]) -> dict[str, list[tuple[int | None, bool]]]:
    part = apply_schedule(parse_func(Source(RNN)), schedule)
    return {v: [(f.result, f.reduce) for _, f in loops] for v, loops in part.loops.items()}


def test_tiling_batch_or_features_tiles_the_scan_the_maximum_and_the_windows() -> None:
    by_batch = _loops([ManualPartition({"u": 0}, "x")])
    assert all(by_batch[v] == [(0, False)] for v in ("s", "m", "k", "c", "p", "q", "r"))
    by_feature = _loops([ManualPartition({"h": 1}, "y")])
    assert [by_feature[v] for v in ("s", "m", "k", "c", "p")] == [[(2, False)], [(1, False)], [(2, False)],
                                                                  [(2, False)], [(2, False)]]
    assert by_feature["q"] == [(None, True)]


@pytest.mark.parametrize("value", ["u", "s"])
def test_time_has_no_factor_so_a_tiling_of_it_stops(value: str) -> None:
    part = apply_schedule(parse_func(Source(RNN)), [ManualPartition({value: 1}, "x")])
    assert not {"s", "m", "k", "c"} & set(part.loops)


def test_an_input_tiled_along_time_is_gathered_before_the_scan() -> None:
    spmd = lower(apply_schedule(parse_func(Source(RNN)), [ManualPartition({"u": 1}, "x")]))
    gathered = [i for i in spmd.instrs if isinstance(i, Communicate)]
    assert gathered and all(isinstance(op, AllGather) for i in gathered for op in i.ops)


@pytest.mark.parametrize("schedule", [
    [ManualPartition({"u": 0}, "x"), ManualPartition({"w": 1}, "y")],
    [ManualPartition({"h": 1}, "x"), ManualPartition({"a": 0}, "y")],
    [ManualPartition({"s": 1}, "x"), ManualPartition({"p": 2}, "y")],
    [ManualPartition({"a": 2}, "y", atomic=True), ManualPartition({"q": 1}, "y")],
])
def test_partitioned_sequences_compute_the_reference(schedule: list[ManualPartition]) -> None:
    func = parse_func(Source(RNN))
    args = example_args(func)
    part = apply_schedule(func, schedule)
    reference = evaluate(func, args)
    spmd = lower(part)
    ran = run(spmd, args)
    for got, looped, want in zip(ran.outputs, evaluate(to_loops(part), args), reference, strict=True):
        np.testing.assert_allclose(looped, want, rtol=1e-12)
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert estimate(spmd).sent == ran.sent


@pytest.mark.slow
def test_partitioned_sequences_run_on_jax_devices() -> None:
    pytest.importorskip("jax")
    from calculi.partir.engine import run_jax  # JAX is an optional engine

    func = parse_func(Source(RNN))
    args = example_args(func)
    spmd = lower(apply_schedule(func, [ManualPartition({"u": 0}, "x"), ManualPartition({"h": 1}, "y")]))
    for got, want in zip(run_jax(spmd, args), evaluate(func, args), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
