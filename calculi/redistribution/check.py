"""Well-formed meshes and types, and the typing rules of the collectives (a table keyed by op).

    n · Π_{a∈A} |a| = N   for every dimension n{A}N,   the A's pairwise disjoint, A ⊆ axes(M)

A sub-axis ``y:(p)s`` is on the mesh when ``p·s`` divides ``|y|`` and ``2 ≤ s < |y|``; "disjoint"
means that no two (sub-)axes of one type share coordinates of a mesh axis (``syntax.overlap``): ``y``
and ``y:2`` overlap, ``y:2`` and ``y:(2)2`` do not. The premise "x ∉ axes(τ)" of ``DynSlice`` reads
"x overlaps no axis of τ".

A program is checked by folding the rules from its source type; an ill-typed step is a
``TypeCheckError`` naming the rule (``DynSlice``, ``AllGather``, ``AllToAll``, ``AllPermute``).
A type has at most ``MAX_RANK`` dimensions, the rank NumPy and JAX arrays can have.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from calculi.core import coverage
from calculi.core.errors import TypeCheckError, UnboundError
from calculi.core.syntax import Span
from calculi.redistribution.pretty import show_count, show_dim, show_op, show_type
from calculi.redistribution.syntax import (
    AllGather,
    AllPermute,
    AllToAll,
    Dim,
    DistType,
    DynSlice,
    Mesh,
    Op,
    Program,
    axis_parts,
    base_axis,
    extent,
    is_sub_axis,
    overlap,
)

WF = "Type-Wf"
CALCULUS = "redistribution"
MAX_RANK = 64
coverage.declare(CALCULUS, [WF, "DynSlice", "AllGather", "AllToAll", "AllPermute"])


def check_mesh(mesh: Mesh) -> Mesh:
    """Axis names distinct, sizes at least 1."""
    seen: set[str] = set()
    for name, size in mesh.axes:
        if name in seen:
            raise TypeCheckError(f"mesh axis {name!r} is declared twice", mesh.span, rule="Mesh")
        if size < 1:
            raise TypeCheckError(f"mesh axis {name!r} has size {size}; sizes must be positive (at least 1)",
                                 mesh.span, rule="Mesh")
        seen.add(name)
    if not mesh.axes:
        raise TypeCheckError("a mesh needs at least one axis", mesh.span, rule="Mesh")
    return mesh


def check_type(ty: DistType, mesh: Mesh) -> DistType:
    """The well-formedness judgement ``M ⊢ τ``: axes on the mesh, disjoint, sizes consistent."""
    coverage.fired(CALCULUS, WF)
    if ty.rank > MAX_RANK:
        raise TypeCheckError(f"the type has {ty.rank:,} dimensions; arrays have at most {MAX_RANK} "
                             "(the limit of NumPy and JAX)", ty.span, rule=WF)
    used: dict[str, int] = {}
    spans: dict[str, list[tuple[int, int, str]]] = {}
    for i, d in enumerate(ty.dims):
        where = d.span or ty.span
        if d.size < 1:
            raise TypeCheckError(f"dimension {i} has global size {show_count(d.size)}; sizes are at least 1",
                                 where, rule=WF)
        parts = 1
        for a in d.axes:
            _axis(mesh, a, where, WF, f" of dimension {i}")
            clash = _clash(spans, a, mesh)
            if clash is not None:
                other = "this dimension" if used[clash] == i else f"dimension {used[clash]}"
                what = "is used twice" if clash == a else f"overlaps {clash!r}"
                raise TypeCheckError(f"axis {a!r} {what} (dimension {i} and {other}); "
                                     "each axis splits at most one dimension once", where, rule=WF)
            used[a] = i
            parts *= mesh.size(a)
        if d.local * parts != d.size:
            axes = "·".join(f"|{a}|" for a in d.axes) or "1"
            raise TypeCheckError(
                f"dimension {i} ({show_dim(d)}): local size {show_count(d.local)} × {axes} = "
                f"{show_count(d.local * parts)} is not the global size {show_count(d.size)}", where, rule=WF)
    return ty


def _names(mesh: Mesh, most: int = 8) -> str:
    shown = ", ".join(mesh.names[:most])
    return shown + (f", ... ({len(mesh.names):,} axes)" if len(mesh.names) > most else "")


def _clash(spans: dict[str, list[tuple[int, int, str]]], axis: str, mesh: Mesh) -> str | None:
    """The (sub-)axis already in ``spans`` that ``axis`` overlaps, else record ``axis`` there.
    ``spans`` keeps, per mesh axis, the extents used so far sorted by start; they are disjoint and
    chained, so only the neighbours of a new extent can overlap it (a check in log time)."""
    name = base_axis(axis)
    lo, hi = extent(axis, mesh.size(name))
    row = spans.setdefault(name, [])
    k = bisect.bisect_left(row, (lo, hi, axis))
    for _, _, other in row[max(0, k - 1) : k + 1]:
        if other == axis or overlap(other, axis, mesh.size(name)):
            return other
    row.insert(k, (lo, hi, axis))
    return None


def _overlapping(used: dict[str, int] | tuple[str, ...], axis: str, mesh: Mesh) -> str | None:
    """The first of ``used`` that shares coordinates with ``axis`` (itself included)."""
    name = base_axis(axis)
    for other in used:
        if other == axis or (base_axis(other) == name and overlap(other, axis, mesh.size(name))):
            return other
    return None


def _axis(mesh: Mesh, axis: str, span: Span | None, rule: str, where: str = "") -> int:
    if axis not in mesh:
        name, pre, size = axis_parts(axis)
        if not is_sub_axis(axis) or name not in mesh:
            raise UnboundError(f"axis {name!r}{where} is not on the mesh ({_names(mesh)})", span, rule=rule)
        whole = mesh.size(name)
        assert size is not None
        why = (f"write {name} for all of it" if pre == 1 and size == whole else
               "a sub-axis has at least 2 coordinates" if size < 2 else
               "the size before a sub-axis is at least 1" if pre < 1 else
               f"{pre}·{size} does not divide |{name}| = {whole}")
        raise TypeCheckError(f"sub-axis {axis!r}{where} is not a factor of {name}={whole}: {why}",
                             span, rule=rule)
    return mesh.size(axis)


def _dim(ty: DistType, i: int, span: Span | None, rule: str) -> Dim:
    if not 0 <= i < ty.rank:
        raise TypeCheckError(f"dimension {i} does not exist in {show_type(ty)} (rank {ty.rank})",
                             span, rule=rule)
    return ty.dims[i]


def _minor(d: Dim, i: int, axis: str, span: Span | None, rule: str) -> None:
    if not d.axes or d.axes[-1] != axis:
        top = f"its minor-most axis is {d.axes[-1]!r}" if d.axes else "it is not split"
        raise TypeCheckError(f"{rule} needs {axis!r} minor-most in dimension {i} ({show_dim(d)}), "
                             f"but {top}", span, rule=rule)


def rule_dyn_slice(op: DynSlice, ty: DistType, mesh: Mesh) -> DistType:
    """x ∉ axes(τ),  |x| ∣ n_i  ⊢  n_i{A}N_i  ⇒  (n_i/|x|){A·x}N_i"""
    rule, span = "DynSlice", op.span
    size = _axis(mesh, op.axis, span, rule)
    d = _dim(ty, op.dim, span, rule)
    clash = _overlapping(ty.used_axes, op.axis, mesh)
    if clash is not None:
        what = "is used" if clash == op.axis else f"overlaps {clash!r}, used"
        raise TypeCheckError(f"DynSlice needs an axis the type does not use, but {op.axis!r} {what} "
                             f"in {show_type(ty)}", span, rule=rule)
    if d.local % size:
        raise TypeCheckError(f"DynSlice needs |{op.axis}| = {show_count(size)} to divide the local size "
                             f"{show_count(d.local)} of dimension {op.dim}", span, rule=rule)
    return ty.with_dim(op.dim, Dim(d.local // size, (*d.axes, op.axis), d.size))


def rule_all_gather(op: AllGather, ty: DistType, mesh: Mesh) -> DistType:
    """A_i = A'·x  ⊢  n_i{A'·x}N_i  ⇒  (n_i·|x|){A'}N_i"""
    rule, span = "AllGather", op.span
    size = _axis(mesh, op.axis, span, rule)
    d = _dim(ty, op.dim, span, rule)
    _minor(d, op.dim, op.axis, span, rule)
    return ty.with_dim(op.dim, Dim(d.local * size, d.axes[:-1], d.size))


def rule_all_to_all(op: AllToAll, ty: DistType, mesh: Mesh) -> DistType:
    """A_i = A'·x, |x| ∣ n_j, i ≠ j  ⊢  n_i{A'·x}N_i, n_j{B}N_j  ⇒  (n_i·|x|){A'}N_i, (n_j/|x|){B·x}N_j"""
    rule, span = "AllToAll", op.span
    size = _axis(mesh, op.axis, span, rule)
    src, dst = _dim(ty, op.src_dim, span, rule), _dim(ty, op.dst_dim, span, rule)
    if op.src_dim == op.dst_dim:
        raise TypeCheckError("AllToAll needs two different dimensions", span, rule=rule)
    _minor(src, op.src_dim, op.axis, span, rule)
    if dst.local % size:
        raise TypeCheckError(f"AllToAll needs |{op.axis}| = {show_count(size)} to divide the local size "
                             f"{show_count(dst.local)} of dimension {op.dst_dim}", span, rule=rule)
    out = ty.with_dim(op.src_dim, Dim(src.local * size, src.axes[:-1], src.size))
    return out.with_dim(op.dst_dim, Dim(dst.local // size, (*dst.axes, op.axis), dst.size))


def rule_all_permute(op: AllPermute, ty: DistType, mesh: Mesh) -> DistType:
    """localshape(τ) = localshape(τ'),  globalshape(τ) = globalshape(τ'),  M ⊢ τ'  ⇒  τ'"""
    rule, span = "AllPermute", op.span
    target = check_type(op.target, mesh)
    if target.global_shape != ty.global_shape:
        raise TypeCheckError(f"AllPermute needs equal global shapes: {show_type(ty)} vs {show_type(target)}",
                             span, rule=rule)
    if target.local_shape != ty.local_shape:
        raise TypeCheckError(f"AllPermute needs equal local shapes: {ty.local_shape} in {show_type(ty)} "
                             f"vs {target.local_shape} in {show_type(target)}", span, rule=rule)
    return target


TypingRule = Callable[[Op, DistType, Mesh], DistType]

TYPING_RULES: dict[type, TypingRule] = {
    DynSlice: rule_dyn_slice,  # type: ignore[dict-item]
    AllGather: rule_all_gather,  # type: ignore[dict-item]
    AllToAll: rule_all_to_all,  # type: ignore[dict-item]
    AllPermute: rule_all_permute,  # type: ignore[dict-item]
}


def type_of_op(op: Op, ty: DistType, mesh: Mesh) -> DistType:
    """The type after ``op`` (the conclusion of its rule), or a ``TypeCheckError`` naming the rule."""
    after = TYPING_RULES[type(op)](op, ty, mesh)
    coverage.fired(CALCULUS, type(op).__name__)
    return after


def check_program(source: DistType, program: Program, mesh: Mesh) -> list[DistType]:
    """Fold the typing rules over ``program``: the types τ0 = source, τ1, ..., τk."""
    check_type(source, mesh)
    types = [source]
    for k, op in enumerate(program):
        try:
            types.append(type_of_op(op, types[-1], mesh))
        except TypeCheckError as err:
            raise type(err)(f"step {k + 1} ({show_op(op)}) from {show_type(types[-1])}: {err.reason}",
                            err.span, rule=err.rule) from None
    return types


def same_problem(source: DistType, target: DistType, mesh: Mesh) -> None:
    """Both types well-formed and of the same global shape: a redistribution problem."""
    check_type(source, mesh)
    check_type(target, mesh)
    if source.global_shape != target.global_shape:
        raise TypeCheckError(f"source {show_type(source)} and target {show_type(target)} have different "
                             f"global shapes {source.global_shape} and {target.global_shape}",
                             target.span or source.span, rule="Redistribute")
