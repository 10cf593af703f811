"""Types ↔ JAX ``PartitionSpec``: ``n{a1,...,ak}N`` on dimension d ≙ entry ``(a1, ..., ak)`` at d.

The pure conversion works on plain tuples (``None`` | ``"x"`` | ``("x", "y")`` per dimension), so it
needs no JAX; ``to_partition_spec`` builds a real ``jax.sharding.PartitionSpec`` when JAX is there.
A sub-axis appears in a spec by its own spelling (``'y:(2)2'``); JAX knows it only on the refined
mesh, where the engine writes it as the names of its factors (``subaxes.refine``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from calculi.core.errors import TypeCheckError, UsageError
from calculi.redistribution.check import check_type
from calculi.redistribution.syntax import Dim, DistType, Mesh

SpecEntry = None | str | tuple[str, ...]
Spec = tuple[SpecEntry, ...]


def spec_of(ty: DistType) -> Spec:
    """``[3{x}6, 4, 1{x,y}6]`` → ``('x', None, ('x', 'y'))``, as JAX writes it."""
    entries: list[SpecEntry] = []
    for d in ty.dims:
        entries.append(None if not d.axes else d.axes[0] if len(d.axes) == 1 else d.axes)
    return tuple(entries)


def type_of_spec(spec: Sequence[SpecEntry], shape: Sequence[int], mesh: Mesh) -> DistType:
    """The checked type of an array of global ``shape`` sharded by ``spec`` on ``mesh``.

    A spec shorter than the rank leaves the trailing dimensions unsplit, as JAX does.
    """
    if len(spec) > len(shape):
        raise TypeCheckError(f"the spec has {len(spec)} entries but the array has rank {len(shape)}",
                             rule="PartitionSpec")
    dims: list[Dim] = []
    for i, size in enumerate(shape):
        entry = spec[i] if i < len(spec) else None
        axes: tuple[str, ...] = () if entry is None else (entry,) if isinstance(entry, str) else tuple(entry)
        for a in axes:
            if a not in mesh:
                raise TypeCheckError(f"axis {a!r} of the spec is not on the mesh", rule="PartitionSpec")
        parts = mesh.product(axes)
        if size % parts:
            raise TypeCheckError(f"dimension {i} of size {size} cannot be split into {parts} parts",
                                 rule="PartitionSpec")
        dims.append(Dim(size // parts, axes, size))
    return check_type(DistType(tuple(dims)), mesh)


def to_partition_spec(ty: DistType) -> Any:
    """A ``jax.sharding.PartitionSpec`` (needs JAX)."""
    try:
        from jax.sharding import PartitionSpec
    except ImportError:
        raise UsageError("converting to a jax PartitionSpec needs JAX: pip install 'calculi[jax]'") from None
    make: Any = PartitionSpec
    return make(*spec_of(ty))


def from_partition_spec(spec: Any, shape: Sequence[int], mesh: Mesh) -> DistType:
    """The type of a ``PartitionSpec`` (or any sequence of spec entries) on ``mesh``."""
    return type_of_spec(tuple(spec), shape, mesh)
