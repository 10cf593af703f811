"""The real engine: lower a program to ``jax.shard_map`` with ``jax.lax`` collectives and run it.

    DynSlice(i, x)    lax.dynamic_slice_in_dim(v, axis_index(x) · n', n', i)
    AllGather(i, x)   lax.all_gather(v, x, axis=i, tiled=True)  (i > 0: in pieces, ``pieces.Gather``)
    AllToAll(i→j, x)  lax.all_to_all(v, x, split_axis=j, concat_axis=i)  (chunks of j leading, untiled)
    AllPermute(τ')    lax.ppermute(v, all mesh axes, perm=[(src, dst) ...])  (row-major device numbers)

Sub-axes run on the refined mesh (``subaxes.refine``): each axis cut by the program's sub-axes
becomes a JAX mesh axis per factor, with the devices in the same order, and a (sub-)axis is the
tuple of its factors (a collective over a tuple of axis names, ``axis_index`` of a tuple: the
row-major index over them). A program without sub-axes runs on the mesh as written.

A run of gathers of one dimension, or of flat steps that together move a suffix of one dimension's
axes to another, is lowered as one collective over a tuple of mesh axes (``plan``), as XLA does. A
gather of a later dimension is done in pieces with the slices just before it (``pieces``), so that
XLA holds no result-sized transposed copy beside the result; it moves the same bytes.

It runs on whatever JAX devices exist (GPUs where present). On CPU, ``ensure_devices`` asks for
fake host devices before JAX starts its backend. JAX's own resharding — ``jit`` with
``out_shardings`` — is compiled on the same arrays for comparison (``xla_reshard``); where XLA falls
back to replicating the whole array it logs "Involuntary full rematerialization", which is what the
comparison expects, so that one message is kept off stderr (every other line goes through).
A run first checks what it would hold against the memory budget (``memory.engine_check``).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from calculi.core.errors import UsageError
from calculi.redistribution import pieces
from calculi.redistribution.blocks import permutation
from calculi.redistribution.check import check_program
from calculi.redistribution.hlo import received_bytes
from calculi.redistribution.memory import DEFAULT_BUDGET, engine_check
from calculi.redistribution.pieces import PIECES_FROM, Gather, Kernel
from calculi.redistribution.spec import spec_of
from calculi.redistribution.subaxes import Refinement, refine
from calculi.redistribution.syntax import (
    AllGather,
    AllPermute,
    AllToAll,
    Coord,
    DistType,
    DynSlice,
    Mesh,
    Op,
    Program,
)

CPU_DEVICES = 16
_FLAG = "--xla_force_host_platform_device_count"


def request_devices(count: int = CPU_DEVICES) -> None:
    """Ask for ``count`` fake CPU devices, if JAX has not started yet (XLA reads the flag when it
    starts; a test session calls this first, so that whichever test starts JAX starts it so)."""
    if "jax" not in sys.modules:
        flags = os.environ.get("XLA_FLAGS", "")
        if _FLAG not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} {_FLAG}={count}".strip()


def ensure_devices(count: int = CPU_DEVICES) -> Any:
    """Import JAX, first asking for ``count`` fake CPU devices if JAX has not started yet."""
    request_devices(count)
    try:
        import jax
    except ImportError:
        raise UsageError("the JAX engine needs JAX: pip install 'calculi[jax]' "
                         "(or use --engine sim)") from None
    module: Any = jax
    with contextlib.suppress(Exception):  # the backend is already up: keep the devices it has
        module.config.update("jax_num_cpu_devices", max(count, 1))
    return module


def device_count() -> int:
    return len(ensure_devices().devices())


def jax_mesh(mesh: Mesh) -> Any:
    jax = ensure_devices()
    devices = jax.devices()
    if len(devices) < mesh.device_count:
        raise UsageError(f"the mesh needs {mesh.device_count} devices but JAX has {len(devices)} "
                         f"({devices[0].platform}); set XLA_FLAGS={_FLAG}=N before JAX starts")
    grid = np.array(devices[: mesh.device_count], dtype=object).reshape(mesh.shape)
    return jax.sharding.Mesh(grid, mesh.names)


def _lax() -> Any:
    return ensure_devices().lax


Lowering = Callable[[Op, Any, DistType, DistType, Refinement], Any]


def _axis_name(ref: Refinement, axes: tuple[str, ...]) -> Any:
    """The JAX axis name of a run of (sub-)axes: one name, or the tuple of their factors."""
    names = tuple(f for a in axes for f in ref.factors(a))
    return names if len(names) > 1 else names[0]


def _dyn_slice(op: Op, v: Any, before: DistType, after: DistType, ref: Refinement) -> Any:
    lax = _lax()
    assert isinstance(op, DynSlice)
    n = after.dims[op.dim].local
    return lax.dynamic_slice_in_dim(v, lax.axis_index(_axis_name(ref, (op.axis,))) * n, n, axis=op.dim)


def _exchange(v: Any, name: Any, i: int, j: int, size: int) -> Any:
    """All-to-all over the axis or axes ``name``: the chunks of dimension ``j`` are moved to a leading
    axis, exchanged untiled, then merged into dimension ``i`` (XLA needs less temporary memory than
    for the tiled form)."""
    jnp, lax, shape = ensure_devices().numpy, _lax(), v.shape
    v = v.reshape((*shape[:j], size, shape[j] // size, *shape[j + 1 :]))
    return pieces.merge(lax.all_to_all(jnp.moveaxis(v, j, 0), name, 0, 0, tiled=False), i)


def _gather(before: DistType, i: int, axes: tuple[str, ...], ref: Refinement,
            pieces_from: int | None) -> Gather:
    """The gather of dimension ``i`` of ``before`` over ``axes``; a later dimension in pieces where
    the result has at least ``pieces_from`` bytes (never: ``None``)."""
    shape = before.local_shape
    count = pieces.count(shape[0]) if pieces_from is not None and i > 0 else 1
    return Gather(_axis_name(ref, axes), i, ref.original.product(axes), shape, count, pieces_from or 0)


def _all_gather(op: Op, v: Any, before: DistType, after: DistType, ref: Refinement) -> Any:
    assert isinstance(op, AllGather)
    return _gather(before, op.dim, (op.axis,), ref, None)(v)


def _all_to_all(op: Op, v: Any, before: DistType, after: DistType, ref: Refinement) -> Any:
    assert isinstance(op, AllToAll)
    return _exchange(v, _axis_name(ref, (op.axis,)), op.src_dim, op.dst_dim, ref.original.size(op.axis))


def _all_permute(op: Op, v: Any, before: DistType, after: DistType, ref: Refinement) -> Any:
    """A ppermute over every axis (row-major device numbers, the same on the refined mesh); nothing
    when every device keeps its block (``{y}`` rewritten as ``{y:2, y:(2)2}``, say)."""
    mesh = ref.original
    receive_from = permutation(before, after, mesh)
    if all(src == dst for dst, src in receive_from.items()):
        return v
    pairs = [(mesh.linear(src), mesh.linear(dst)) for dst, src in receive_from.items()]
    return _lax().ppermute(v, ref.mesh.names, perm=pairs)


LOWERINGS: dict[type, Lowering] = {
    DynSlice: _dyn_slice,
    AllGather: _all_gather,
    AllToAll: _all_to_all,
    AllPermute: _all_permute,
}


def _gathered_suffix(before: DistType, after: DistType) -> tuple[int, tuple[str, ...]] | None:
    """``after`` is ``before`` with a suffix of one dimension's axes gathered."""
    changed = [k for k in range(before.rank) if before.dims[k].axes != after.dims[k].axes]
    if len(changed) != 1:
        return None
    i = changed[0]
    a, b = before.dims[i].axes, after.dims[i].axes
    return (i, a[len(b) :]) if a[: len(b)] == b else None


def _moved_suffix(before: DistType, after: DistType) -> tuple[int, int, tuple[str, ...]] | None:
    """``after`` is ``before`` with a suffix of dimension i's axes appended, in order, to dimension j."""
    changed = [k for k in range(before.rank) if before.dims[k].axes != after.dims[k].axes]
    if len(changed) != 2:
        return None
    for i, j in (changed, changed[::-1]):
        a, kept, grown = before.dims[i].axes, after.dims[i].axes, after.dims[j].axes
        moved = a[len(kept) :]
        if moved and a[: len(kept)] == kept and grown == (*before.dims[j].axes, *moved):
            return i, j, moved
    return None


def _fused(run: Program, before: DistType, after: DistType, ref: Refinement,
           pieces_from: int | None) -> Kernel | None:
    """A run of two or more collectives whose net effect is one collective over several axes."""
    if all(isinstance(op, AllGather) for op in run) and (g := _gathered_suffix(before, after)):
        return _gather(before, *g, ref, pieces_from)
    if all(isinstance(op, AllToAll | AllPermute) for op in run) and (m := _moved_suffix(before, after)):
        i, j, moved = m
        return lambda v: _exchange(v, _axis_name(ref, moved), i, j, ref.original.product(moved))
    return None


def _single(op: Op, before: DistType, after: DistType, ref: Refinement, pieces_from: int | None) -> Kernel:
    if isinstance(op, AllGather):
        return _gather(before, op.dim, (op.axis,), ref, pieces_from)
    lowering = LOWERINGS[type(op)]
    return lambda v: lowering(op, v, before, after, ref)


def _absorb_slices(steps: list[tuple[Program, Kernel]]) -> list[tuple[Program, Kernel]]:
    """A gather in pieces takes the run of slices just before it into its pieces."""
    out: list[tuple[Program, Kernel]] = []
    for ops, kernel in steps:
        if isinstance(kernel, Gather) and kernel.pieces > 1:
            pre: list[Kernel] = []
            while out and all(isinstance(op, DynSlice) for op in out[-1][0]):
                before, slice_kernel = out.pop()
                ops, pre = (*before, *ops), [slice_kernel, *pre]
            kernel = replace(kernel, pre=tuple(pre))
        out.append((ops, kernel))
    return out


def plan(source: DistType, program: Program, mesh: Mesh,
         pieces_from: int | None = PIECES_FROM) -> list[tuple[Program, Kernel]]:
    """The per-device kernels, one per op, except that a run of ops that together are one collective
    over several mesh axes (JAX takes a tuple of axis names) becomes that one collective, and that
    a gather of a later dimension takes the run of slices just before it and is done in pieces
    (``pieces.Gather``) where its result has at least ``pieces_from`` bytes (``None``: never)."""
    types = check_program(source, program, mesh)
    ref = refine(mesh, types, program)
    steps: list[tuple[Program, Kernel]] = []
    k = 0
    while k < len(program):
        for end in range(len(program), k + 1, -1):
            kernel = _fused(program[k:end], types[k], types[end], ref, pieces_from)
            if kernel is not None:
                steps.append((program[k:end], kernel))
                k = end
                break
        else:
            kernel = _single(program[k], types[k], types[k + 1], ref, pieces_from)
            steps.append(((program[k],), kernel))
            k += 1
    return _absorb_slices(steps)


def _sharding(ty: DistType, ref: Refinement) -> tuple[Any, Any]:
    """The JAX mesh and PartitionSpec of ``ty`` on the refined mesh."""
    from jax.sharding import PartitionSpec

    spec: Any = PartitionSpec
    return jax_mesh(ref.mesh), spec(*spec_of(ref.expand_type(ty)))


def lower(source: DistType, program: Program, mesh: Mesh,
          pieces_from: int | None = PIECES_FROM) -> Callable[[Any], Any]:
    """A jitted function from an array sharded as ``source`` to the same array sharded as the target
    (``pieces_from``: see ``plan``)."""
    jax = ensure_devices()
    types = check_program(source, program, mesh)
    ref = refine(mesh, types, program)
    steps = plan(source, program, mesh, pieces_from)

    def per_device(v: Any) -> Any:
        for _, kernel in steps:
            v = kernel(v)
        return v

    grid, in_spec = _sharding(source, ref)
    mapped = jax.shard_map(per_device, mesh=grid, in_specs=in_spec,
                           out_specs=_sharding(types[-1], ref)[1], check_vma=False)
    jitted: Callable[[Any], Any] = jax.jit(mapped)
    return jitted


def place(data: np.ndarray, ty: DistType, mesh: Mesh) -> Any:
    """``data`` on the devices, laid out as ``ty`` (``jax.device_put`` with a ``NamedSharding``; a
    type with sub-axes on its refined mesh)."""
    jax = ensure_devices()
    from jax.sharding import NamedSharding

    return jax.device_put(data, NamedSharding(*_sharding(ty, refine(mesh, (ty,)))))


def shards(array: Any, mesh: Mesh) -> dict[Coord, np.ndarray]:
    """Each mesh coordinate's local block of a sharded JAX array."""
    grid = jax_mesh(mesh).devices
    by_device = {s.device: np.asarray(s.data) for s in array.addressable_shards}
    return {c: by_device[grid[c]] for c in mesh.devices()}


_COLLECTIVE = re.compile(
    r"\b(all-gather|all-to-all|collective-permute|all-reduce|reduce-scatter|dynamic-slice)(?:-start)?\("
)


@dataclass(slots=True)
class Compiled:
    """A compiled redistribution: XLA's memory analysis and the collectives in its HLO."""

    run: Callable[[Any], Any]
    temp_bytes: int
    argument_bytes: int
    output_bytes: int
    collectives: list[str] = field(default_factory=list)
    received_bytes: int = 0


REMATERIALIZATION = "Involuntary full rematerialization"


@contextlib.contextmanager
def expected_fallback_warnings() -> Iterator[None]:
    """Keep XLA's "Involuntary full rematerialization" lines (written by its C++ logger straight to
    file descriptor 2) off stderr for the duration of the block; every other line is passed on."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            kept = [line for line in caught.read().decode("utf-8", "replace").splitlines(keepends=True)
                    if REMATERIALIZATION not in line]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def _compiled(fn: Any, x: Any, devices: int) -> Compiled:
    compiled = fn.lower(x).compile()
    memory = compiled.memory_analysis()
    text = compiled.as_text()
    return Compiled(compiled, int(memory.temp_size_in_bytes), int(memory.argument_size_in_bytes),
                    int(memory.output_size_in_bytes), _COLLECTIVE.findall(text),
                    received_bytes(text, devices))


def compile_program(source: DistType, program: Program, mesh: Mesh, x: Any,
                    pieces_from: int | None = PIECES_FROM) -> Compiled:
    return _compiled(lower(source, program, mesh, pieces_from), x, mesh.device_count)


def xla_reshard(target: DistType, mesh: Mesh, x: Any) -> Compiled:
    """JAX/XLA's own resharding: ``jit(identity, out_shardings=NamedSharding(mesh, target))``."""
    jax = ensure_devices()
    from jax.sharding import NamedSharding

    fn = jax.jit(lambda a: a, out_shardings=NamedSharding(*_sharding(target, refine(mesh, (target,)))))
    with expected_fallback_warnings():
        return _compiled(fn, x, mesh.device_count)


@dataclass(slots=True)
class EngineRun:
    buffers: dict[Coord, np.ndarray]
    seconds: float
    compiled: Compiled


def run(data: np.ndarray, source: DistType, program: Program, mesh: Mesh,
        budget: int = DEFAULT_BUDGET, pieces_from: int | None = PIECES_FROM) -> EngineRun:
    """Place ``data`` as ``source``, run the lowered program, and return each device's block, if what
    the run holds fits in ``budget`` bytes (``pieces_from``: see ``plan``)."""
    engine_check(check_program(source, program, mesh), mesh, data.itemsize, budget)
    x = place(data, source, mesh)
    compiled = compile_program(source, program, mesh, x, pieces_from)
    start = time.perf_counter()
    y = compiled.run(x)
    y.block_until_ready()
    seconds = time.perf_counter() - start
    return EngineRun(shards(y, mesh), seconds, compiled)
