"""Hypothesis strategies of whole programs: straight-line programs for the executor (``dags``), and
calls of transformed functions with the arguments users pass (``calls``).

A ``Call`` is ``grad``, ``value_and_grad``, ``jvp``, ``vjp`` or ``jit`` of a function of pytree
arguments (tuples, lists, dicts, namedtuples, with ``None`` among them) whose leaves are arrays of
several shapes that broadcast together (size-1 axes among them), Python floats and ints, and NumPy
scalars (``np.float64`` and ``np.float32`` keep their dtype, as in NumPy); the function also reads an
array it closes over and one through a global. Each call runs twice: the second time with new values
of the same types, and the global rebound or not. ``program(call, lib)`` is the function, written
once for ``backend.numpy`` and for NumPy (the oracle). Float32 values go to ``jit`` only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from hypothesis import strategies as st

from backend.pytree import flatten, unflatten
from backend.strategies import Shape, seeds, shapes

Array = np.ndarray[Any, Any]
Rng = np.random.Generator


class Point(NamedTuple):
    """A namedtuple argument (a pytree node, rebuilt as the same class)."""

    x: Any
    y: Any


GLOBAL: dict[str, Any] = {"g": np.ones(())}
"""An array the functions read through a global (rebound, or not, between the two calls of a ``Call``)."""

TRANSFORMS = ("grad", "jit", "vjp", "value_and_grad", "jvp", "jit")
"""The transformations (``jit`` twice: it alone is given float32 values)."""
LEAVES = ("array", "float", "int", "np.float64", "f32 array", "np.float32", "np.int64", "int array")
DIFFERENTIABLE = ("array", "float", "array", "np.float64")
"""The leaves a call may differentiate (float64: central differences are the oracle)."""
FLOAT32 = ("np.float32", "f32 array")
"""Leaves only ``jit`` is given: central differences through float32 would not be an oracle."""
UNARY = ("id", "sin", "tanh", "square", "times 3", "half", "mean", "neg")
BINARY = ("add", "sub", "mul")


@dataclass
class Call:
    """``how`` of ``program(self, lib)`` in the arguments ``argnums`` (``jvp``: in those, the others
    closed over; ``jit``: in none), called at ``args`` and then at ``again`` with ``GLOBAL["g"]``
    rebound to ``rebound`` (or left: then a trace can be reused). ``fold`` combines the leaves and the
    two captured arrays, in order: ``value = binary(value, unary(leaf))``."""

    how: str
    args: tuple[Any, ...]
    again: tuple[Any, ...]
    argnums: int | tuple[int, ...]
    fold: list[tuple[str, str, int]]
    closure: Array
    captured: Array
    rebound: Array
    weights: Array

    def show(self) -> str:
        steps = " ".join(f"{b} {u}(v{i})" for u, b, i in self.fold)
        args = ", ".join(_show_tree(a) for a in self.args)
        return (f"{self.how}(argnums={self.argnums})({args}); fold: {steps}; closure "
                f"{self.closure.dtype.name}{list(self.closure.shape)}, global {list(self.captured.shape)}")


def _show_tree(tree: Any) -> str:
    leaves, structure = flatten(tree)
    kinds = ", ".join(type(x).__name__ + (f"{list(x.shape)}" if isinstance(x, np.ndarray) else "")
                      for x in leaves)
    return f"{structure} of {kinds}" if leaves else str(structure)


def _unary(lib: Any, op: str, x: Any) -> Any:
    if op == "sin":
        return lib.sin(x)
    if op == "tanh":
        return lib.tanh(x)
    if op == "square":
        return x * x
    if op == "times 3":
        return x * 3
    if op == "half":
        return x * 0.5
    if op == "mean":
        return lib.mean(x)
    return -x if op == "neg" else x


def _binary(lib: Any, op: str, x: Any, y: Any) -> Any:
    return getattr(lib, {"add": "add", "sub": "subtract", "mul": "multiply"}[op])(x, y)


def program(call: Call, lib: Any) -> Callable[..., Any]:
    """The function of ``call``, with ``lib`` its NumPy (``backend.numpy`` or ``numpy``): it returns a
    scalar loss for ``grad`` and ``value_and_grad``, else a pytree with a namedtuple and a ``None``."""
    closure, weights, scalar = call.closure, call.weights, call.how in ("grad", "value_and_grad")

    def f(*args: Any) -> Any:
        values = [*flatten(args)[0], closure, GLOBAL["g"]]
        value: Any = None
        for u, b, i in call.fold:
            term = _unary(lib, u, values[i])
            value = term if value is None else _binary(lib, b, value, term)
        loss = lib.sum(lib.multiply(value, weights))
        return loss if scalar else (value, {"loss": loss, "none": None}, Point(lib.tanh(value), None))

    return f


def _leaf(kind: str, rng: Rng, shape: Shape) -> Any:
    if kind == "float":
        return float(rng.uniform(-2, 2))
    if kind == "int":
        return int(rng.integers(-3, 4))
    if kind == "np.float64":
        return np.float64(rng.uniform(-2, 2))
    if kind == "np.float32":
        return np.float32(rng.uniform(-2, 2))
    if kind == "np.int64":
        return np.int64(rng.integers(-3, 4))
    if kind == "int array":
        return rng.integers(-3, 4, shape)
    if kind == "f32 array":
        return rng.standard_normal(shape).astype(np.float32)
    return rng.standard_normal(shape)


def _part(draw: st.DrawFn, shape: Shape) -> Shape:
    """A shape that broadcasts to ``shape``: some leading axes dropped, some axes of size 1."""
    drop = draw(st.integers(0, len(shape))) if draw(st.booleans()) else 0
    return tuple(1 if draw(st.integers(0, 3)) == 0 else n for n in shape[drop:])


@dataclass(frozen=True)
class Slot:
    """A leaf to be filled: its kind (one of ``LEAVES``) and, for an array, its shape."""

    kind: str
    shape: Shape


@st.composite
def _tree(draw: st.DrawFn, kinds: tuple[str, ...], shape: Shape, depth: int = 0) -> Any:
    """A pytree of ``Slot``s of ``kinds`` (arrays of shapes broadcasting to ``shape``), ``None`` among
    them."""
    node = draw(st.sampled_from(["leaf", "tuple", "Point", "dict", "list"] if depth < 2 else ["leaf"]))
    if node == "leaf":
        kind = draw(st.sampled_from(kinds))
        return Slot(kind, _part(draw, shape) if "array" in kind else ())
    children = [draw(_tree(kinds, shape, depth + 1)) for _ in range(draw(st.integers(1, 2)))]
    if draw(st.integers(0, 2)) == 0:
        children.insert(draw(st.integers(0, len(children))), None)
    if node == "Point":
        return Point(children[0], children[1] if len(children) > 1 else None)
    if node == "dict":
        return {f"k{i}": c for i, c in enumerate(children)}
    return tuple(children) if node == "tuple" else list(children)


def _fill(template: Any, rng: Rng) -> Any:
    slots, tree = flatten(template)
    return unflatten(tree, [_leaf(s.kind, rng, s.shape) for s in slots])


@st.composite
def calls(draw: st.DrawFn) -> Call:
    """A transformed function called twice, with the arguments users pass (see the module)."""
    how = draw(st.sampled_from(TRANSFORMS))
    shape = draw(shapes(max_rank=3))
    n = draw(st.integers(1, 3))
    diff = [how != "jit" and (i == 0 or draw(st.booleans())) for i in range(n)]
    others = LEAVES if how == "jit" else tuple(k for k in LEAVES if k not in FLOAT32)
    templates = [draw(_tree(DIFFERENTIABLE if d else others, shape)) for d in diff]
    rng = np.random.default_rng(draw(seeds))
    args, again = tuple(_fill(t, rng) for t in templates), tuple(_fill(t, rng) for t in templates)
    n_values = len(flatten(args)[0]) + 2
    order = draw(st.permutations(range(n_values)))
    fold = [(draw(st.sampled_from(UNARY)), draw(st.sampled_from(BINARY)), i) for i in order]
    kinds = ["f32 array", "array", "f32 array", "int array"] if how == "jit" else ["array", "int array"]
    closure = _leaf(draw(st.sampled_from(kinds)), rng, _part(draw, shape))
    captured = rng.standard_normal(_part(draw, shape))
    rebound = rng.standard_normal(captured.shape) if draw(st.booleans()) else captured
    argnums = tuple(i for i, d in enumerate(diff) if d)
    single = len(argnums) == 1 and how != "jvp" and draw(st.booleans())
    return Call(how, args, again, argnums[0] if single else argnums, fold, closure, captured, rebound,
                rng.standard_normal(shape))


# -- straight-line programs for the executor ---------------------------------------------------------

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
