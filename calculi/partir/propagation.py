"""Propagation: a tiling of one value spreads through the program by each primitive's factors.

Tiling value ``v`` along dimension ``d`` over axis ``a`` makes every operation next to ``v`` a
candidate loop over ``a``: its producer by a factor whose result is ``#tile<d>`` (backward), each
consumer by a factor that slices ``v`` at ``d`` (forward). A chosen factor tiles the operation's
other operands and its result in turn. The closure is computed on *sets* (a value may gather several
dimensions, an operation several factors), which is a monotone least fixpoint: it does not depend on
the order in which values and operations are visited. Afterwards a value with two dimensions, or an
operation with two factors, is a conflict, reported with both of its sources; nothing is resolved
silently. Operations decided by an earlier tactic keep their loop (tactics are incremental), and
``atomic`` values (``Replicate``) neither spread nor receive tilings.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from calculi.core import coverage
from calculi.core.errors import CalculusError, TypeCheckError
from calculi.core.syntax import Span
from calculi.partir.check import CALCULUS, check_func
from calculi.partir.pretty import show_params
from calculi.partir.prims import FACTOR_RULES, PRIMS, REDUCING, Factor
from calculi.partir.syntax import Apply, Func, Shape

FORWARD, BACKWARD, SEED = "propagate forward", "propagate backward", "tactic"
RULES = coverage.declare(CALCULUS, [SEED, FORWARD, BACKWARD])


def row(prim: str, f: Factor) -> str:
    """The name of a row of the propagation table: a primitive and the action of one of its factors."""
    return f"{prim} {'#sum' if f.reduce else '#tile'}"


ROWS = coverage.declare(CALCULUS, [f"{p} {a}" for p in FACTOR_RULES
                                   for a in (("#tile", "#sum") if p in REDUCING else ("#tile",))])


class ConflictError(CalculusError):
    kind = "conflict"


Loops = tuple[tuple[str, Factor], ...]


@dataclass(frozen=True, slots=True)
class Partitioning:
    """A flat program and its partitioning: each operation's loops, each input's tiling (tactic order)."""

    func: Func
    loops: Mapping[str, Loops] = field(default_factory=dict)
    inputs: Mapping[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    atomic: frozenset[str] = frozenset()

    @property
    def ops(self) -> dict[str, Apply]:
        return {s.result: s for s in self.func.body if isinstance(s, Apply)}


def shapes_of(func: Func) -> dict[str, Shape]:
    return check_func(func)


def local_dims(shape: Shape, tiles: list[tuple[int, int]]) -> list[int]:
    out = list(shape)
    for d, size in tiles:
        out[d] //= size
    return out


def describe(op: Apply) -> str:
    return f"{op.result} = {op.prim}{show_params(op.prim, op.params)}({', '.join(op.args)})"


def describe_factor(op: Apply, f: Factor) -> str:
    pairs = zip(op.args, f.operands, strict=True)
    sliced = ", ".join(f"{a}@{d}" for a, d in pairs if d is not None) or "nothing"
    action = "#sum" if f.reduce else (f"#tile<{f.result}>" if f.result is not None else "no action")
    return f"slicing {sliced} with {action}"


@dataclass(slots=True)
class _State:
    part: Partitioning
    axis: str
    size: int
    shapes: dict[str, Shape]
    ops: dict[str, Apply]
    values: dict[str, dict[int, set[str]]] = field(default_factory=dict)
    factors: dict[str, dict[Factor, set[str]]] = field(default_factory=dict)
    work: list[tuple[str, str, object, str, str]] = field(default_factory=list)


def _applicable(st: _State, op: Apply, f: Factor) -> bool:
    """The loop divides every dimension it slices or tiles, after the op's earlier loops."""
    loops = st.part.loops.get(op.result, ())
    if any(a == st.axis for a, _ in loops):
        return False
    if op.result in st.part.atomic and f.result is not None:
        return False
    for j, arg in enumerate(op.args):
        e = f.operands[j]
        if e is None:
            continue
        local = local_dims(st.shapes[arg], [(d, st.part.func.mesh.size(a)) for a, g in loops
                                            if (d := g.operands[j]) is not None])
        if local[e] % st.size:
            return False
    if f.result is not None:
        local = local_dims(st.shapes[op.result], [(d, st.part.func.mesh.size(a)) for a, g in loops
                                                  if (d := g.result) is not None])
        if local[f.result] % st.size:
            return False
    return True


def _factors(op: Apply, shapes: dict[str, Shape]) -> list[Factor]:
    rule = FACTOR_RULES.get(op.prim)
    if rule is None:
        return []
    return rule(op.params, [shapes[a] for a in op.args], shapes[op.result])


def _visit_value(st: _State, v: str, d: int, source: str, users: dict[str, list[tuple[Apply, int]]]) -> None:
    sources = st.values.setdefault(v, {}).setdefault(d, set())
    new = not sources
    sources.add(source)
    if not new or v in st.part.atomic:
        return
    producer = st.ops.get(v)
    if producer is not None:
        for f in _factors(producer, st.shapes):
            if f.result == d and _applicable(st, producer, f):
                st.work.append(("op", producer.result, f, f"{v} tiled at dim {d}", BACKWARD))
    for consumer, j in users.get(v, []):
        for f in _factors(consumer, st.shapes):
            if f.operands[j] == d and _applicable(st, consumer, f):
                st.work.append(("op", consumer.result, f, f"{v} tiled at dim {d}", FORWARD))


def _visit_op(st: _State, name: str, f: Factor, source: str) -> None:
    sources = st.factors.setdefault(name, {}).setdefault(f, set())
    new = not sources
    sources.add(source)
    if not new:
        return
    op = st.ops[name]
    coverage.fired(CALCULUS, row(op.prim, f))
    why = f"{describe(op)} {describe_factor(op, f)}"
    for arg, e in zip(op.args, f.operands, strict=True):
        if e is not None and arg not in st.part.atomic:
            st.work.append(("value", arg, e, why, SEED))
    if f.result is not None:
        st.work.append(("value", name, f.result, why, SEED))


def propagate(part: Partitioning, axis: str, seeds: Mapping[str, int], rng: random.Random | None = None,
              span: Span | None = None) -> Partitioning:
    """Tile each seed value along its dimension over ``axis`` and propagate to the fixpoint.

    ``rng`` visits the pending work in a random order (the order-independence theorem uses it)."""
    mesh = part.func.mesh
    if axis not in mesh:
        raise TypeCheckError(f"{axis} is not an axis of the mesh {', '.join(mesh.names)}", span, rule=SEED)
    shapes = shapes_of(part.func)
    st = _State(part, axis, mesh.size(axis), shapes, part.ops)
    for v, d in seeds.items():
        if v not in shapes:
            raise TypeCheckError(f"no value called {v} to partition", span, rule=SEED)
        if not 0 <= d < len(shapes[v]):
            raise TypeCheckError(f"{v} has no dimension {d} (rank {len(shapes[v])})", span, rule=SEED)
        _check_seed(part, v, d, axis, shapes, span)
        coverage.fired(CALCULUS, SEED)
        st.work.append(("value", v, d, f"tactic: {v} at dim {d} over {axis}", SEED))
    users: dict[str, list[tuple[Apply, int]]] = {}
    for op in st.ops.values():
        for j, arg in enumerate(op.args):
            users.setdefault(arg, []).append((op, j))
    while st.work:
        k = rng.randrange(len(st.work)) if rng is not None else 0
        kind, name, what, source, rule = st.work.pop(k)
        if kind == "value":
            assert isinstance(what, int)
            _visit_value(st, name, what, source, users)
        else:
            assert isinstance(what, Factor)
            coverage.fired(CALCULUS, rule)
            _visit_op(st, name, what, source)
    return _commit(st, span)


def _check_seed(part: Partitioning, v: str, d: int, axis: str, shapes: dict[str, Shape],
                span: Span | None) -> None:
    """A tactic may tile an input only along a dimension its earlier tilings leave divisible."""
    tiles = part.inputs.get(v, ())
    if any(a == axis for a, _ in tiles) or any(a == axis for a, _ in part.loops.get(v, ())):
        raise ConflictError(f"{v} is already partitioned over {axis}", span, rule=SEED)
    mesh = part.func.mesh
    local = local_dims(shapes[v], [(e, mesh.size(a)) for a, e in tiles])
    if local[d] % mesh.size(axis):
        raise TypeCheckError(f"dimension {d} of {v} ({local[d]} per device) is not a multiple of "
                             f"|{axis}| = {mesh.size(axis)}", span, rule=SEED)


def _conflicts(st: _State) -> list[str]:
    out = []
    for v, dims in sorted(st.values.items()):
        if len(dims) > 1:
            (d1, s1), (d2, s2) = sorted(dims.items())[:2]
            out.append(f"{v} would be tiled over {st.axis} at dim {d1} ({min(s1)}) "
                       f"and at dim {d2} ({min(s2)})")
    for name, fs in sorted(st.factors.items()):
        if len(fs) > 1:
            op = st.ops[name]
            (f1, s1), (f2, s2) = sorted(fs.items(), key=lambda kv: describe_factor(op, kv[0]))[:2]
            out.append(f"{describe(op)} could loop over {st.axis} {describe_factor(op, f1)} ({min(s1)}) "
                       f"or {describe_factor(op, f2)} ({min(s2)})")
    return out


def _commit(st: _State, span: Span | None) -> Partitioning:
    conflicts = _conflicts(st)
    if conflicts:
        raise ConflictError("; ".join(conflicts), span, rule="propagation")
    part, mesh = st.part, st.part.func.mesh
    loops = dict(part.loops)
    for name, fs in st.factors.items():
        (f,) = fs
        loops[name] = (*loops.get(name, ()), (st.axis, f))
    inputs = dict(part.inputs)
    for i in part.func.inputs:
        if i.name in st.values:
            (d,) = st.values[i.name]
            tiles = inputs.get(i.name, ())
            if any(a == st.axis for a, _ in tiles):
                raise ConflictError(f"{i.name} is already tiled over {st.axis}", span, rule="propagation")
            local = local_dims(i.shape, [(e, mesh.size(a)) for a, e in tiles])
            if local[d] % st.size == 0:
                inputs[i.name] = (*tiles, (st.axis, d))
    return Partitioning(part.func, loops, inputs, part.atomic)


def is_flat(func: Func) -> bool:
    return all(isinstance(s, Apply) and s.prim in PRIMS for s in func.body)
