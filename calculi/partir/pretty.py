"""AST → text that parses back to the same AST (the round trip is a theorem)."""

from __future__ import annotations

from calculi.core.parsing import show_int
from calculi.partir.syntax import Action, Apply, Func, Loop, Param, Slice, Stmt, Tile
from calculi.redistribution.pretty import show_mesh


def show_shape(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(show_int(n) for n in shape) + "]"


def _param(p: Param) -> str:
    return show_int(p) if isinstance(p, int) else str(p)


def show_params(prim: str, params: tuple[Param, ...]) -> str:
    if not params:
        return ""
    if -1 in params:
        k = params.index(-1)
        kept = ", ".join(_param(p) for p in params[k + 1 :])
        return "[" + ", ".join(_param(p) for p in params[:k]) + "; " + kept + "]"
    return "[" + ", ".join(_param(p) for p in params) + "]"


def show_action(action: Action) -> str:
    return f"#tile<{action.dim}>" if isinstance(action, Tile) else "#sum"


def show_stmt(stmt: Stmt, indent: str = "  ") -> list[str]:
    if isinstance(stmt, Apply):
        args = ", ".join(stmt.args)
        return [f"{indent}{stmt.result} = {stmt.prim}{show_params(stmt.prim, stmt.params)}({args})"]
    if isinstance(stmt, Slice):
        return [f"{indent}{stmt.result} = slice({stmt.arg}, {stmt.dim}, {stmt.axis})"]
    assert isinstance(stmt, Loop)
    lines = [f"{indent}{stmt.result} = loop {stmt.axis} {show_action(stmt.action)} {{"]
    for s in stmt.body:
        lines += show_stmt(s, indent + "  ")
    return [*lines, f"{indent}  yield {stmt.value}", f"{indent}}}"]


def show_func(func: Func) -> str:
    inputs = ", ".join(f"{i.name}: {show_shape(i.shape)}" for i in func.inputs)
    lines = [f"mesh {show_mesh(func.mesh)}", f"func {func.name}({inputs}) {{"]
    for s in func.body:
        lines += show_stmt(s)
    return "\n".join([*lines, f"  return {', '.join(func.results)}", "}"])
