"""Hypothesis generators: well-typed flat programs shaped like layers, and random schedules.

Half the tactics partition an input (a weight or the data, as schedules written by people do) and
half of them reuse the previous tactic's axis: contractions over a partitioned dimension, and the
sums and reshards they need, are then common (an all-reduce in about one case in six, not thirty)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from calculi.partir.check import check_func
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
        kind = draw(st.sampled_from(["matmul", "matmul", "unary", "binary", "binary", "sum", "transpose",
                                     "broadcast", "reshape"]))
        if kind == "matmul" and len(s) == 2:
            n = draw(st.sampled_from(SIZES))
            w = new_input((s[1], n))
            bind("einsum", ("ij,jk->ik",), (v, w), (s[0], n))
        elif kind == "unary":
            bind(draw(st.sampled_from(["tanh", "neg", "relu", "exp"])) if max(s) else "neg", (), (v,), s)
        elif kind == "binary":
            others = [u for u in sorted(values) if values[u] == s]
            u = draw(st.sampled_from(others)) if draw(st.booleans()) else new_input(s)
            bind(draw(st.sampled_from(["add", "mul", "sub"])), (), (v, u), s)
        elif kind == "sum" and len(s) >= 2:
            d = draw(st.integers(0, len(s) - 1))
            bind("sum", (d,), (v,), tuple(n for k, n in enumerate(s) if k != d))
        elif kind == "transpose" and len(s) == 2:
            bind("transpose", (1, 0), (v,), (s[1], s[0]))
        elif kind == "broadcast" and len(s) == 1:
            n = draw(st.sampled_from(SIZES))
            bind("broadcast", (n, s[0], -1, 1), (v,), (n, s[0]))
        elif kind == "reshape" and len(s) == 2:
            bind("reshape", (s[0] * s[1] // 4, 4), (v,), (s[0] * s[1] // 4, 4))
        else:
            bind("scale", ("0.5",), (v,), s)
    results = tuple(dict.fromkeys([body[-1].result, draw(st.sampled_from(sorted(values)))]))
    return Func(mesh, "f", tuple(inputs), tuple(body), results)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    func = draw(funcs())
    shapes = check_func(func)
    names = sorted(n for n, s in shapes.items() if s)
    inputs = [i.name for i in func.inputs]
    schedule: list[Tactic] = []
    axis = draw(st.sampled_from(func.mesh.names))
    for _ in range(draw(st.integers(1, 3))):
        v = draw(st.sampled_from(inputs if draw(st.booleans()) else names))
        rank = len(shapes[v])
        if draw(st.booleans()):
            axis = draw(st.sampled_from(func.mesh.names))
        schedule.append(ManualPartition({v: draw(st.integers(0, rank - 1))}, axis, atomic=draw(st.booleans())
                                        and draw(st.booleans())))
    return Case(func, tuple(schedule))
