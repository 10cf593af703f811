"""The linear half's names, written final as unzip writes it: no renaming walk afterwards.

``def f.lin(t ; ẏ̄) = let (r̄) = unpack t in L`` is canonical (``rename.canonical``, the parser's
names) when every binder is named by the count of binders before it: ``t`` is 0, ``ẏ̄`` are
1 … m, the residuals r̄ are m+1 … m+|r̄|, and L's own binders follow, in the order L is written
(L is flat: U's right-hand sides bind nothing). The tape lists the residuals in the order L first
mentions them, so a residual's name is known at its first mention. L's binders are made before
|r̄| is known: they are drawn from ``LINEAR_NAMES`` on, and given their names, m+1+|r̄|+j, once it
is (``name_binders``), by setting the name slot of nodes unzip has made and not yet handed out.
The non-linear half needs none of this: drawn from 0 in the order it is written, it is canonical
as it is. Checked by ``linear_ad.unzip_writes_canonical_names``.
"""

from __future__ import annotations

from calculi.linear_ad.built import new_binder, new_letb, new_lvar, new_prim, new_var
from calculi.linear_ad.syntax import (
    Binder,
    Call,
    Drop,
    Expr,
    LetB,
    Lit,
    LVar,
    Prim,
    Ret,
    Tup,
    Var,
    subexpressions,
    var_of,
)

LINEAR_NAMES = 1 << 48
"""Where L's binders are named from until the tape's size is known: apart from every other name."""

_SET_BINDER = getattr(Binder, "name").__set__  # noqa: B009 (the slot's descriptor, which mypy does not see)
_SET_VAR = getattr(Var, "name").__set__  # noqa: B009
_SET_LVAR = getattr(LVar, "name").__set__  # noqa: B009


class Lin:
    """The names of one linear half ``f.lin`` with m linear parameters, as unzip writes it."""

    __slots__ = ("base", "binders_made", "lvars_made", "next", "residuals", "sub", "vars_made")

    def __init__(self, lparams: int) -> None:
        self.base = 1 + lparams
        """The first residual's name."""
        self.sub: dict[int, Var] = {}
        """A variable of the non-linear half ↦ the variable L reads: its residual, or its copy."""
        self.residuals: list[Var] = []
        """The non-linear half's variables L reads, in the order it first reads them: the tape."""
        self.next = LINEAR_NAMES
        self.binders_made: list[Binder] = []
        self.vars_made: list[Var] = []
        self.lvars_made: list[LVar] = []

    def params(self, lparams: tuple[Binder, ...], sub: dict[int, Expr]) -> tuple[Binder, ...]:
        """The linear parameters ``ẏ̄``, named 1 … m; ``sub`` maps the source's names to their uses."""
        out = []
        i = 1
        for b in lparams:
            hint = b.hint
            out.append(b if b.name == i and b.span is None else new_binder(i, hint, None))  # (shared)
            sub[b.name] = new_lvar(i, hint, None)
            i += 1
        return tuple(out)

    def binders(self, bs: tuple[Binder, ...], sub: dict[int, Expr]) -> tuple[Binder, ...]:
        """Linear binders of L for the source's ``bs`` (named once the tape's size is known)."""
        out = []
        n = self.next
        made, lmade = self.binders_made, self.lvars_made
        for b in bs:
            hint = b.hint
            nb = new_binder(n, hint, None)
            lv = new_lvar(n, hint, None)
            sub[b.name] = lv
            made.append(nb)
            lmade.append(lv)
            out.append(nb)
            n += 1
        self.next = n
        return tuple(out)

    def copy(self, b: LetB) -> LetB:
        """``let x̄ = eN`` of the non-linear half, recomputed in L: L reads x̄ from the copy."""
        rhs = self.expr(b.rhs)
        xs = []
        for x in b.binders:
            nx = new_binder(self.next, x.hint, None)
            self.next += 1
            v = var_of(nx)
            self.sub[x.name] = v
            self.binders_made.append(nx)
            self.vars_made.append(v)
            xs.append(nx)
        return new_letb(tuple(xs), (), rhs, None)

    def var(self, v: Var) -> Var:
        """What L reads for the non-linear half's ``v``: at its first read, a new residual."""
        out = self.sub.get(v.name)
        if out is None:
            residuals = self.residuals
            out = new_var(self.base + len(residuals), v.hint, None)
            residuals.append(v)
            self.sub[v.name] = out
        return out

    def expr(self, e: Expr) -> Expr:
        """A non-linear expression U wrote (binding nothing), as L reads it."""
        kind = type(e)
        if kind is Var:
            assert isinstance(e, Var)
            return self.var(e)
        if kind is Prim:
            assert isinstance(e, Prim)
            return new_prim(e.prim, tuple(map(self.expr, e.args)), e.largs, e.params, e.span)
        if kind is Lit:
            return e
        if kind is Ret:
            assert isinstance(e, Ret)
            return Ret(tuple(map(self.var, e.vars)), e.lvars, span=e.span)
        if kind is Tup:
            assert isinstance(e, Tup)
            return Tup(tuple(map(self.var, e.vars)), span=e.span)
        if kind is Call:
            assert isinstance(e, Call)
            return Call(e.func, tuple(map(self.var, e.args)), e.largs, span=e.span)
        if kind is Drop:
            assert isinstance(e, Drop)
            return Drop(self.expr(e.arg), span=e.span)
        raise AssertionError(f"U writes no non-linear {kind.__name__} for the linear half")

    def name_binders(self, residuals: int) -> None:
        """Give L's binders their names, now that the tape holds ``residuals`` values."""
        shift = self.base + residuals - LINEAR_NAMES
        for b in self.binders_made:
            _SET_BINDER(b, b.name + shift)
        for v in self.vars_made:
            _SET_VAR(v, v.name + shift)
        for lv in self.lvars_made:
            _SET_LVAR(lv, lv.name + shift)


def nonlin_name(name: str) -> str:
    return f"{name}.nonlin"


def lin_name(name: str) -> str:
    return f"{name}.lin"


def scale(q: Prim, sub: dict[int, Expr], lin: Lin) -> Prim:
    """A scale ``q(x̄)`` of the source's variables, written in the linear half's names: x̄ read there."""
    read = lin.sub.get
    args = []
    for x in q.args:
        v = sub[x.name]  # type: ignore[attr-defined]
        w = read(v.name)  # type: ignore[attr-defined]
        args.append(lin.var(v) if w is None else w)  # type: ignore[arg-type]
    return new_prim(q.prim, tuple(args), (), q.params, q.span)


def _as_ret(e: Expr) -> Expr:
    if isinstance(e, Var):
        return Ret((e,), ())
    if isinstance(e, LVar):
        return Ret((), (e,))
    return e


def _of_variables(e: Prim) -> bool:
    """A non-linear ``q(x̄)`` of variables only."""
    return not e.largs and not e.prim.linear and all(type(x) is Var for x in e.args)


def _contains_call(e: Expr) -> bool:
    return any(isinstance(node, Call) for node in subexpressions(e))
