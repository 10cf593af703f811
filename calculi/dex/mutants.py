"""Seeded bugs the theorem suite must kill, each a small change to one rule.

* ``state_for_parallel``: T-For calls every ``for`` parallel, State in its body or not.
* ``accum_overwrites``: E-Accum writes the value instead of adding it (``r := v`` for ``r += v``).
* ``at_off_by_one``: T-At accepts the literal ``n@Fin n``.
* ``transpose_state``: the transpose of a read ``x.i`` updates a ``State`` reference
  (``r!i := get (r!i) + c``) instead of accumulating into an ``Accum`` one.
* ``scatter_overwrites``: the compiler scatters ``r!i += v`` with ``r[i] += v`` on arrays, so that a
  repeated index adds once (the classic bug ``np.add.at`` exists for).
"""

from __future__ import annotations

from typing import Any

from calculi.core.mutants import Mutant, patch
from calculi.dex import arrays, check, semantics, transpose
from calculi.dex.jvp import zero_of
from calculi.dex.syntax import App, BinOp, Expr, For, Handle, Index, Put, RefIndex, TableT, Type, Var


def _all_parallel(self: check.Checked) -> set[int]:
    return {id(loop) for loop, _ in self.loops}


def _overwrite(held: object, value: object) -> object:
    return semantics.thaw(value)  # type: ignore[arg-type]


def _buffered_scatter(target: Any, where: tuple[Any, ...], values: Any) -> None:
    target[where] += values


class _StateTransposer(transpose.Transposer):
    def accumulate(self, ref: Expr, ct: Expr, ty: Type | None) -> Expr:
        if isinstance(ty, TableT):
            i = self.names.fresh("i")
            return For(i, ty.index, self.accumulate(RefIndex(ref, Var(i)), Index(ct, Var(i)),
                                                    ty.elem))
        return Put(ref, BinOp("+", App(Var("get"), ref), ct))

    def handler(self, ty: Type, ref: str, body: Expr) -> Expr:
        return Handle("run_state", zero_of(ty), None, ref, body)


MUTANTS = [
    Mutant("dex.state_for_parallel", "dex", "a for with State in its body counted as parallel",
           lambda: patch(check.Checked, "parallel", property(_all_parallel)),
           "dex.effects.parallel_for_order"),
    Mutant("dex.accum_overwrites", "dex", "r += v writes v instead of adding it",
           lambda: patch(semantics, "_add", _overwrite), "dex.effects.accum_is_sum"),
    Mutant("dex.at_off_by_one", "dex", "the literal n@Fin n is accepted as an index",
           lambda: patch(check, "in_range", lambda k, n: 0 <= k <= n), "dex.types.index_range"),
    Mutant("dex.scatter_overwrites", "dex", "the compiled r!i += v adds once per distinct index",
           lambda: patch(arrays, "scatter", _buffered_scatter), "dex.compiler"),
    Mutant("dex.transpose_state", "dex", "the transpose of a read updates a State reference",
           lambda: patch(transpose, "Transposer", _StateTransposer),
           "dex.ad.transpose_parallel"),
]
