"""AST → text that re-parses to the same AST (meshes, types, collectives, programs)."""

from __future__ import annotations

from calculi.core.pretty import Doc, group, join, line, nest, render, text
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
    show_count,
)

__all__ = ["program_doc", "show_count", "show_dim", "show_mesh", "show_op", "show_program", "show_type"]


def show_mesh(mesh: Mesh) -> str:
    return ", ".join(f"{name}={size}" for name, size in mesh.axes)


def show_dim(d: Dim) -> str:
    """``N`` when unsplit and ``n = N``, else ``n{a,b}N``."""
    if not d.axes and d.local == d.size:
        return str(d.size)
    return f"{d.local}{{{','.join(d.axes)}}}{d.size}"


def show_type(ty: DistType) -> str:
    return "[" + ", ".join(show_dim(d) for d in ty.dims) + "]"


def show_op(op: Op) -> str:
    match op:
        case DynSlice(dim=i, axis=x):
            return f"DynSlice({i}, {x})"
        case AllGather(dim=i, axis=x):
            return f"AllGather({i}, {x})"
        case AllToAll(src_dim=i, dst_dim=j, axis=x):
            return f"AllToAll({i} -> {j}, {x})"
        case AllPermute(target=t):
            return f"AllPermute({show_type(t)})"
    raise TypeError(op)


def program_doc(program: Program) -> Doc:
    if not program:
        return text("")
    return group(nest(2, join(text(";") + line(), [text(show_op(op)) for op in program])))


def show_program(program: Program, width: int = 100) -> str:
    """Ops separated by ``;``, broken over lines when wider than ``width``."""
    return render(program_doc(program), width)
