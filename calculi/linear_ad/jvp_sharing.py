"""J's sharing (the prototype's ``splitTangents``): a non-linear variable that several sub-terms
mention is contracted implicitly; J makes that explicit, giving each use its own copy of the
tangent by a linear ``let (; ẋ1, ẋ2) = dup(ẋ)``, and binds each side of a result to a variable."""

from __future__ import annotations

from calculi.core import coverage
from calculi.linear_ad.built import (
    draws,
    new_binder,
    new_block,
    new_dup,
    new_letb,
    new_lvar,
    new_ret,
    new_var,
)
from calculi.linear_ad.freevars import FV, sorted_names
from calculi.linear_ad.names import Supply
from calculi.linear_ad.rules import fire
from calculi.linear_ad.syntax import Binding, Block, Expr, LVar, Ret, Var, lvar_of, var_of

Tangents = dict[int, LVar]
Names = tuple[int, ...]
"""Free names of a term, sorted, each once."""


def block_of(out: list[Binding], result: Expr) -> Expr:
    """``block(out, result)`` for a ``result`` that is not a block."""
    return new_block(tuple(out), result, None) if out else result


class Sharing:
    """The names J draws (``supply``) and how it shares tangents among the items of a block."""

    def __init__(self) -> None:
        self.supply = Supply()
        self.fv_cache: dict[int, FV] = {}
        self.counting = coverage.active()

    def fv(self, e: Expr) -> Names:
        """The non-linear free names of ``e``, sorted, each once."""
        return sorted_names(e, self.fv_cache)

    def split(self, uses: list[Names], tangents: Tangents, out: list[Binding]) -> list[Tangents]:
        """Give each of ``uses`` its own tangent for every variable it mentions, dup-ing shared ones."""
        count: dict[int, int] = {}
        for fv in uses:
            for v in fv:
                count[v] = count.get(v, 0) + 1
        return [self._take(fv, count, tangents, out) for fv in uses]

    def bind(self, out: list[Binding], primal: Expr, tangent: Expr, hint: str) -> tuple[Var, LVar]:
        """(primal ; tangent) as variables, binding each side in ``out`` unless it is a variable."""
        supply = self.supply
        if type(primal) is Var:
            p = primal
        else:
            n = supply.next
            supply.next = n + 1
            out.append(new_letb((new_binder(n, hint, None),), (), primal, None))
            p = new_var(n, hint, None)
        if type(tangent) is LVar:
            t = tangent
        else:
            n = supply.next
            supply.next = n + 1
            dhint = "d" + hint  # (``dotted``)
            out.append(new_letb((), (new_binder(n, dhint, None),), tangent, None))
            t = new_lvar(n, dhint, None)
        return p, t

    def pair(self, out: list[Binding], primal: Expr, tangent: Expr, hint: str = "v") -> Expr:
        """(primal ; tangent) as a Ret of variables, binding each side unless it is a variable."""
        p, t = self.bind(out, primal, tangent, hint)
        return block_of(out, new_ret((p,), (t,)))

    def spliced(self, out: list[Binding], e: Expr, hints: tuple[str, ...], lhints: tuple[str, ...],
                start: int) -> tuple[tuple[Var, ...], tuple[LVar, ...]]:
        """Bind the mixed result of ``e`` (whose names were drawn from ``start`` on) in ``out``; a
        block ending in ``(x̄ ; ẏ̄)`` is spliced in, so J's output stays one flat chain. A block
        left nested gives its names back: the binders after it are named from ``start``."""
        if isinstance(e, Block) and isinstance(e.result, Ret):
            out.extend(e.bindings)
            e = e.result
        if isinstance(e, Ret):
            return e.vars, e.lvars
        self.supply.next = start
        xs = draws(self.supply, hints)
        ys = draws(self.supply, lhints)
        out.append(new_letb(xs, ys, e, None))
        return tuple(map(var_of, xs)), tuple(map(lvar_of, ys))

    def _take(self, fv: Names, count: dict[int, int], tangents: Tangents,
              out: list[Binding]) -> Tangents:
        """The tangents one item of a block needs, dup-ing those that later items need too."""
        part: Tangents = {}
        for v in fv:  # (sorted: see ``fv``)
            n = count[v] - 1
            count[v] = n
            if n > 0:
                if self.counting:
                    fire("J(share)")
                t = tangents[v]
                hint = t.hint
                supply = self.supply
                k = supply.next
                supply.next = k + 2
                ab = (new_binder(k, hint, None), new_binder(k + 1, hint, None))
                out.append(new_letb((), ab, new_dup(t), None))
                part[v] = new_lvar(k, hint, None)
                tangents[v] = new_lvar(k + 1, hint, None)
            else:
                part[v] = tangents.pop(v)
        return part
