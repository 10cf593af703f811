"""Hypothesis strategies: well-formed applications of every array primitive, by construction.

``applications()`` draws a ``Case``: a primitive, its parameters, and arguments whose shapes and
dtypes satisfy the primitive's shape rule (shapes are drawn first, then everything that depends on
them), so no example is ever filtered. ``linear_applications()`` does the same for the linear
primitives the JVP rules emit, for the dot-product test of their transposes.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

Array = np.ndarray[Any, Any]


@dataclass
class Case:
    """``name[params](args)``: ``diff`` marks the arguments with tangents (float arrays);
    ``analytic`` says whether the complex-step derivative applies."""

    name: str
    args: list[Array]
    params: dict[str, Any] = field(default_factory=dict)
    diff: list[bool] = field(default_factory=list)
    analytic: bool = True
    constant: bool = False  # the result has a zero tangent (comparisons, one_hot, stop_gradient)

    def show(self) -> str:
        shapes = ", ".join(f"{a.dtype.name}{list(a.shape)}" for a in self.args)
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}[{params}]({shapes})"


def show_case(case: object) -> str:
    return case.show() if isinstance(case, Case | Dag) else repr(case)


shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)
seeds = st.integers(0, 2**32 - 1)


def _normal(rng: np.random.Generator, shape: tuple[int, ...]) -> Array:
    return rng.standard_normal(shape)


def _positive(rng: np.random.Generator, shape: tuple[int, ...]) -> Array:
    return rng.uniform(0.5, 2.0, shape)


UNARY = {"exp": _normal, "sin": _normal, "cos": _normal, "tanh": _normal, "logistic": _normal,
         "softplus": _normal, "gelu_tanh": _normal, "neg": _normal, "log": _positive, "sqrt": _positive,
         "rsqrt": _positive}


ANALYTIC = (*sorted(UNARY), "integer_pow", "add", "sub", "mul", "div", "pow", "broadcast", "reduce_sum",
            "reshape", "transpose", "slice", "pad", "cumsum", "concatenate", "take", "scatter_add", "select",
            "linear_scan", "conv1d", "einsum")
"""Primitives whose implementation is analytic in the differentiated arguments (complex step)."""
KINKED = ("maximum", "reduce_max")
"""Differentiable where the examples are drawn (no ties), but not analytic."""
CONSTANT = ("greater", "one_hot", "stop_gradient")
"""Results with a zero tangent."""
DIFFERENTIABLE = ANALYTIC + KINKED


@st.composite
def applications(draw: st.DrawFn, kinds: tuple[str, ...] = DIFFERENTIABLE + CONSTANT) -> Case:
    """A well-formed application of one of the array primitives ``kinds``, with float64 data."""
    kind = draw(st.sampled_from(kinds))
    rng = np.random.default_rng(draw(seeds))
    s = draw(shapes)
    if kind in UNARY:
        return Case(kind, [UNARY[kind](rng, s)], {}, [True])
    if kind == "integer_pow":
        return Case(kind, [_positive(rng, s)], {"y": draw(st.integers(-2, 3))}, [True])
    if kind in ("add", "sub", "mul"):
        return Case(kind, [_normal(rng, s), _normal(rng, s)], {}, [True, True])
    if kind in ("div", "pow"):
        return Case(kind, [_positive(rng, s), _positive(rng, s)], {}, [True, True])
    if kind == "maximum":  # distinct values, so the derivative exists
        a = _normal(rng, s)
        return Case(kind, [a, a + rng.choice([-1.0, 1.0], s) * rng.uniform(0.1, 1.0, s)], {}, [True, True],
                    analytic=False)
    if kind in ("greater", "stop_gradient"):
        args = [_normal(rng, s) for _ in range(2 if kind == "greater" else 1)]
        return Case(kind, args, {}, [True] * len(args), analytic=False, constant=True)
    if kind == "one_hot":
        return Case(kind, [rng.integers(0, 3, s)], {"n": 3, "dtype": "float64"}, [False], analytic=False,
                    constant=True)
    if kind == "broadcast":
        lead = draw(st.lists(st.integers(1, 3), max_size=2))
        stretched = [n if draw(st.booleans()) else 1 for n in s]
        target = (*lead, *s)
        return Case(kind, [_normal(rng, tuple(stretched))], {"shape": target}, [True])
    if kind in ("reduce_sum", "reduce_max"):
        axes = tuple(sorted(draw(st.sets(st.sampled_from(range(len(s))))))) if s else ()
        if kind == "reduce_sum":
            return Case(kind, [_normal(rng, s)], {"axes": axes}, [True])
        distinct = rng.permutation(int(np.prod(s))).reshape(s) + rng.uniform(0, 0.5, s)  # no ties
        return Case(kind, [distinct], {"axes": axes}, [True], analytic=False)
    if kind == "reshape":
        target = tuple(reversed(s)) if draw(st.booleans()) else (int(np.prod(s)),)
        return Case(kind, [_normal(rng, s)], {"shape": target}, [True])
    if kind == "transpose":
        perm = tuple(draw(st.permutations(range(len(s)))))
        return Case(kind, [_normal(rng, s)], {"perm": perm}, [True])
    if kind in ("slice", "pad"):
        starts: list[int] = []
        limits: list[int] = []
        strides: list[int] = []
        for n in s:
            lo = draw(st.integers(0, n - 1))
            starts.append(lo)
            limits.append(draw(st.integers(lo + 1, n)))
            strides.append(draw(st.integers(1, 2)))
        ps = {"starts": tuple(starts), "limits": tuple(limits), "strides": tuple(strides)}
        if kind == "slice":
            return Case(kind, [_normal(rng, s)], ps, [True])
        inner = tuple(len(range(a, b, k)) for a, b, k in zip(starts, limits, strides, strict=True))
        return Case(kind, [_normal(rng, inner)], {**ps, "shape": s}, [True])
    if kind == "cumsum":
        s = s or (3,)
        return Case(kind, [_normal(rng, s)], {"axis": draw(st.integers(0, len(s) - 1)),
                                              "reverse": draw(st.booleans())}, [True])
    if kind == "concatenate":
        s = s or (2,)
        axis = draw(st.integers(0, len(s) - 1))
        parts = [_normal(rng, tuple(draw(st.integers(1, 3)) if i == axis else n for i, n in enumerate(s)))
                 for _ in range(draw(st.integers(1, 3)))]
        return Case(kind, parts, {"axis": axis}, [True] * len(parts))
    if kind == "take":
        rows = draw(st.integers(1, 4))
        idx = rng.integers(0, rows, s[1:] or (2,))
        return Case(kind, [_normal(rng, (rows, *s[:1])), idx], {}, [True, False])
    if kind == "scatter_add":
        rows = draw(st.integers(1, 4))
        idx = rng.integers(0, rows, draw(st.integers(1, 4)))
        return Case(kind, [_normal(rng, (len(idx), *s[:1])), idx], {"rows": rows}, [True, False])
    if kind == "select":
        return Case(kind, [rng.random(s) < 0.5, _normal(rng, s), _normal(rng, s)], {}, [False, True, True])
    b, t, d = draw(st.integers(1, 2)), draw(st.integers(1, 5)), draw(st.integers(1, 3))
    if kind == "linear_scan":
        return Case(kind, [rng.uniform(0.2, 1.0, (b, t, d)), _normal(rng, (b, t, d)), _normal(rng, (b, d))],
                    {"reverse": draw(st.booleans())}, [True, True, True])
    if kind == "conv1d":
        return Case(kind, [_normal(rng, (b, t, d)), _normal(rng, (4, d))], {"reverse": draw(st.booleans())},
                    [True, True])
    spec, sx, sy = draw(contractions())
    return Case("einsum", [_normal(rng, sx), _normal(rng, sy)], {"spec": spec}, [True, True])


@st.composite
def contractions(draw: st.DrawFn) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """A two-operand einsum spec with distinct letters per operand, and matching shapes."""
    letters = string.ascii_lowercase[:5]
    sizes = {c: draw(st.integers(1, 3)) for c in letters}
    x = draw(st.lists(st.sampled_from(letters), max_size=3, unique=True))
    y = draw(st.lists(st.sampled_from(letters), max_size=3, unique=True))
    both = sorted(set(x) | set(y))
    out = draw(st.permutations(both))[: draw(st.integers(0, len(both)))]
    spec = f"{''.join(x)},{''.join(y)}->{''.join(out)}"
    return spec, tuple(sizes[c] for c in x), tuple(sizes[c] for c in y)


@dataclass
class Dag:
    """A straight-line program over 4×4 arrays: value ``k + 1`` is ``op(value i, value j)`` for the
    k-th step ``(op, i, j)``; value 0 is the input. Views (transpose, reshape, stop_gradient) and
    repeated uses make the executor's buffer reuse and merging of common subexpressions matter."""

    steps: list[tuple[str, int, int]]
    x: Array

    def show(self) -> str:
        return "; ".join(f"v{k + 1} = {op}(v{i}{'' if op in DAG_UNARY else f', v{j}'})"
                         for k, (op, i, j) in enumerate(self.steps))


DAG_UNARY = ("tanh", "sin", "exp", "negative", "logistic", "transpose", "reshape", "stop_gradient", "rowsum")
DAG_BINARY = ("add", "sub", "mul")


@st.composite
def dags(draw: st.DrawFn) -> Dag:
    """A random straight-line program whose values all have shape 4×4 (each step may read any
    earlier value, so values have several readers and views of one another)."""
    steps = []
    for k in range(draw(st.integers(1, 12))):
        op = draw(st.sampled_from(DAG_UNARY + DAG_BINARY))
        steps.append((op, draw(st.integers(0, k)), draw(st.integers(0, k))))
    return Dag(steps, np.random.default_rng(draw(seeds)).uniform(-1.0, 1.0, (4, 4)))


def run_dag(dag: Dag, x: Any, lib: Any) -> Any:
    """The sum of every value of ``dag`` at input ``x``, with ``lib`` (``backend.numpy``)."""
    values = [x]
    for op, i, j in dag.steps:
        a, b = values[i], values[j]
        if op == "transpose":
            v = lib.transpose(a)
        elif op == "reshape":
            v = lib.reshape(lib.reshape(a, (2, 8)), (4, 4))
        elif op == "rowsum":
            v = lib.broadcast_to(lib.sum(a, axis=1, keepdims=True), (4, 4))
        elif op in DAG_BINARY:
            v = getattr(lib, {"add": "add", "sub": "subtract", "mul": "multiply"}[op])(a, b)
        else:
            v = getattr(lib, op)(a)
        values.append(v)
    return lib.sum(lib.stack(values))
