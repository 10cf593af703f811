"""Hypothesis generators: well-typed flat programs shaped like layers, and random schedules.

Half the tactics partition an input (a weight or the data, as schedules written by people do) and
half of them reuse the previous tactic's axis: contractions over a partitioned dimension, and the
sums and reshards they need, are then common (an all-reduce in about one case in six, not thirty).
A quarter of the schedules begin by tiling a matmul weight's contracted dimension and then a consumer
of the product over the same axis (a ``#sum`` result wanted tiled: the lowering's ``ReduceScatter``);
some by pinning an input's rows to an axis (``atomic``) and then tiling a user over any axis (a
change of layout: ``AllToAll``, ``AllPermute``, ``AllGather`` or ``DynSlice``), and some by tiling
a scan's operand or result along time (which the scan refuses: the operand is gathered)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from calculi.partir.check import check_func
from calculi.partir.prims import Array
from calculi.partir.semantics import take_rows
from calculi.partir.syntax import Apply, Func, Input, Shape
from calculi.partir.tactics import ManualPartition, Tactic
from calculi.redistribution.syntax import Mesh

MESHES = (Mesh.of(x=2), Mesh.of(x=2, y=2), Mesh.of(x=2, y=4), Mesh.of(x=4, y=2))
SIZES = (8, 16)


@dataclass(frozen=True, slots=True)
class Case:
    func: Func
    schedule: tuple[Tactic, ...]


@st.composite
def funcs(draw: st.DrawFn, max_ops: int = 7) -> Func:
    mesh = draw(st.sampled_from(MESHES))
    inputs: list[Input] = []
    values: dict[str, Shape] = {}
    body: list[Apply] = []

    def new_input(shape: Shape) -> str:
        name = f"p{len(inputs)}"
        inputs.append(Input(name, shape))
        values[name] = shape
        return name

    def bind(prim: str, params: tuple[int | str, ...], args: tuple[str, ...], shape: Shape) -> None:
        name = f"v{len(body)}"
        body.append(Apply(name, prim, params, args))
        values[name] = shape

    new_input((draw(st.sampled_from(SIZES)), draw(st.sampled_from(SIZES))))
    for _ in range(draw(st.integers(1, max_ops))):
        v = draw(st.sampled_from(sorted(values)))
        s = values[v]
        kind = draw(st.sampled_from(["matmul", "matmul", "unary", "unary", "binary", "binary", "sum",
                                     "transpose", "broadcast", "reshape", "take", "div", "positive", "scan",
                                     "window", "max"]))
        if kind == "take" and len(s) == 2:
            n = draw(st.sampled_from(SIZES))
            index = draw(st.sampled_from([(n,), (n, 2)]))
            bind("take", (), (v, new_input(index)), (*index, s[1]))
        elif kind == "matmul" and len(s) == 2:
            n = draw(st.sampled_from(SIZES))
            w = new_input((s[1], n))
            bind("einsum", ("ij,jk->ik",), (v, w), (s[0], n))
        elif kind == "unary":
            bind(draw(st.sampled_from(["tanh", "neg", "relu", "exp", "logistic"])), (), (v,), s)
        elif kind == "positive":
            bind("exp", (), (v,), s)
            bind(draw(st.sampled_from(["log", "rsqrt", "sqrt"])), (), (f"v{len(body) - 1}",), s)
        elif kind == "binary":
            others = [u for u in sorted(values) if values[u] == s]
            u = draw(st.sampled_from(others)) if draw(st.booleans()) else new_input(s)
            bind(draw(st.sampled_from(["add", "mul", "sub", "maximum"])), (), (v, u), s)
        elif kind == "scan" and len(s) == 2:
            reverse = draw(st.integers(0, 1))
            bind("logistic", (), (v,), s)  # a decay in (0, 1), as in a recurrent layer
            decay = f"v{len(body) - 1}"
            if draw(st.booleans()):
                bind("scan", (reverse,), (decay, new_input(s), new_input(s[:1])), s)
            else:  # features after time: their own factor
                wide = (*s, 2)
                bind("broadcast", (*wide, -1, 0, 1), (decay,), wide)
                bind("scan", (reverse,), (f"v{len(body) - 1}", new_input(wide), new_input((s[0], 2))), wide)
        elif kind == "window" and len(s) == 2:
            d, start, stride = draw(st.integers(0, 1)), draw(st.integers(0, 2)), draw(st.integers(1, 2))
            starts, strides = tuple(start if k == d else 0 for k in range(2)), tuple(stride if k == d else 1
                                                                                       for k in range(2))
            cut = tuple(len(range(start, n, stride)) if k == d else n for k, n in enumerate(s))
            bind("strided_slice", (*starts, *strides, *cut), (v,), cut)
            bind("pad", (*starts, *strides, *s), (f"v{len(body) - 1}",), s)
        elif kind == "max" and len(s) == 2:
            d = draw(st.integers(0, 1))
            bind("argmax_weights", (d,), (v,), s)
            bind("max", (d,), (v,), s[1 - d:2 - d])
        elif kind == "sum" and len(s) >= 2:
            d = draw(st.integers(0, len(s) - 1))
            bind("sum", (d,), (v,), tuple(n for k, n in enumerate(s) if k != d))
        elif kind == "transpose" and len(s) == 2:
            bind("transpose", (1, 0), (v,), (s[1], s[0]))
        elif kind == "broadcast" and len(s) == 1:
            n = draw(st.sampled_from(SIZES))
            bind("broadcast", (n, s[0], -1, 1), (v,), (n, s[0]))
        elif kind == "broadcast" and len(s) == 2:
            n = draw(st.sampled_from(SIZES))
            bind("sum", (1,), (v,), (s[0],))
            bind("broadcast", (s[0], n, -1, 0), (f"v{len(body) - 1}",), (s[0], n))
        elif kind == "div":
            bind("exp", (), (v,), s)
            bind("div", (), (v, f"v{len(body) - 1}"), s)
        elif kind == "reshape" and len(s) == 2:
            bind("reshape", (s[0] * s[1] // 4, 4), (v,), (s[0] * s[1] // 4, 4))
        else:
            bind("scale", ("0.5",), (v,), s)
    used = {a for op in body for a in op.args}
    sinks = [op.result for op in body if op.result not in used]  # no value is computed unobserved
    results = tuple(dict.fromkeys([*sinks, draw(st.sampled_from(sorted(values)))]))
    return Func(mesh, "f", tuple(inputs), tuple(body), results)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    func = draw(funcs())
    shapes = check_func(func)
    names = sorted(n for n, s in shapes.items() if s)
    inputs = [i.name for i in func.inputs]
    schedule: list[Tactic] = []
    axis = draw(st.sampled_from(func.mesh.names))
    ops = [op for op in func.body if isinstance(op, Apply)]
    contractions = [(op.args[1], c.result) for op in ops if op.prim == "einsum" and op.args[1] in inputs
                    for c in ops if op.result in c.args and shapes[c.result]]
    uses = [(a, op.result) for op in ops for a in op.args if a in inputs and len(shapes[op.result]) == 2]
    sequences = [v for op in ops if op.prim == "scan" for v in (*op.args[:2], op.result)]
    start = draw(st.sampled_from(["tactics", "reduce-scatter", "relayout", "time"]))
    if start == "reduce-scatter" and contractions:
        w, c = draw(st.sampled_from(contractions))
        d = draw(st.integers(0, len(shapes[c]) - 1))
        schedule += [ManualPartition({w: 0}, axis), ManualPartition({c: d}, axis)]
    elif start == "relayout" and uses:
        p, c = draw(st.sampled_from(uses))
        schedule += [ManualPartition({p: 0}, axis, atomic=True),
                     ManualPartition({c: 1}, axis) if draw(st.booleans()) else
                     ManualPartition({c: draw(st.integers(0, 1))}, draw(st.sampled_from(func.mesh.names)))]
    elif start == "time" and sequences:
        schedule.append(ManualPartition({draw(st.sampled_from(sequences)): 1}, axis))
    for _ in range(draw(st.integers(0, 1) if schedule else st.integers(1, 3))):
        v = draw(st.sampled_from(inputs if draw(st.booleans()) else names))
        rank = len(shapes[v])
        if draw(st.booleans()):
            axis = draw(st.sampled_from(func.mesh.names))
        schedule.append(ManualPartition({v: draw(st.integers(0, rank - 1))}, axis, atomic=draw(st.booleans())
                                        and draw(st.booleans())))
    return Case(func, tuple(schedule))


def example_args(func: Func, seed: int = 0) -> dict[str, Array]:
    """Values for ``func``'s inputs: whole row numbers for the indices of a ``take``, else uniform."""
    rng, rows = np.random.default_rng(seed), take_rows(func)
    return {i.name: (rng.integers(0, rows[i.name], i.shape).astype(np.float64) if i.name in rows
                     else rng.uniform(-1, 1, i.shape)) for i in func.inputs}
