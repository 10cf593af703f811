"""Forward mode of the effects: each handler's reference gets a tangent reference of the same kind.

    J(with_reader v \\r. e)  = let v' = v in J(e)[ask r := v'] (a reader is its value; its tangent
                              is read where the primal is: J(ask r!i) = v̇'.i)
    J(run_accum a \\r. e)    = run_accum a \\ṙ. J(e)          J(r!i += v) = ṙ!i += v̇
    J(run_state s \\r. e)    = run_state ṡ \\ṙ. J(e)          J(r := v)   = ṙ := v̇
                                                             J(get r)    = get ṙ

The primal handler keeps its body's intermediates as residuals (like a ``for``), which the linear
handler's body reads back. A reference let-bound or passed to a function is an alias of it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace

from calculi.dex.semantics import free_vars
from calculi.dex.syntax import (
    UNIT,
    Accum,
    App,
    Expr,
    Handle,
    Index,
    Pair,
    PairT,
    Put,
    RefIndex,
    TableT,
    Type,
    UnitLit,
    Var,
)
from calculi.dex.tangents import (
    Binding,
    Names,
    differentiable,
    fragment_error,
    keep_residuals,
    linear_half,
    zero_of,
)

Jvp = tuple[Expr, Expr | None, Type]
"""The primal atom of an expression, its tangent (``None``: zero), and its type."""


@dataclass(frozen=True, slots=True)
class RefInfo:
    """A reference (``kind`` of ``Read``, ``State``, ``Accum``) to a value of ``elem``: the primal
    and tangent references, or, for a reader, the primal and tangent values it reads."""

    kind: str
    primal: Expr
    tangent: Expr | None
    elem: Type


def _fst(e: Expr) -> Expr:
    return App(Var("fst"), e)


def _snd(e: Expr) -> Expr:
    return App(Var("snd"), e)


class EffectRules(ABC):
    """The effect cases of ``J``; the host class supplies ``go``, ``primal`` and ``linear``."""

    names: Names

    def __init__(self) -> None:
        self.refs: dict[str, RefInfo] = {}
        self.states: dict[str, Type] = {}
        """Each tangent ``State`` reference with the type of its primal state."""

    @abstractmethod
    def go(self, e: Expr, out: list[Binding]) -> Jvp:
        """J of a sub-expression, its bindings written to ``out``."""

    @abstractmethod
    def primal(self, out: list[Binding], base: str, bound: Expr) -> Var:
        """Bind ``bound`` (a primal value) to a fresh name based on ``base``."""

    @abstractmethod
    def linear(self, out: list[Binding], base: str, bound: Expr, ty: Type) -> Var:
        """Bind ``bound`` (a tangent of type ``ty``) to a fresh name based on ``base``."""

    def ref_of(self, e: Expr, out: list[Binding]) -> RefInfo:
        match e:
            case Var(name=x) if x in self.refs:
                return self.refs[x]
            case RefIndex(ref=r, index=i):
                info = self.ref_of(r, out)
                pi, _, _ = self.go(i, out)
                assert isinstance(info.elem, TableT)
                at = Index if info.kind == "Read" else RefIndex
                return RefInfo(info.kind, at(info.primal, pi),
                               None if info.tangent is None else at(info.tangent, pi), info.elem.elem)
        raise fragment_error("reverse mode follows references named by their handler, not "
                             "computed ones", e.span)

    def alias(self, name: str, bound: Expr, out: list[Binding]) -> bool:
        """``let name = r!i`` for a reference: ``name`` stands for it from now on."""
        root = bound
        while isinstance(root, RefIndex):
            root = root.ref
        if not (isinstance(root, Var) and root.name in self.refs):
            return False
        self.refs[name] = self.ref_of(bound, out)
        return True

    def effect(self, e: Expr, out: list[Binding]) -> Jvp | None:
        match e:
            case Handle(handler="with_reader", init=init, ref=r, body=body):
                assert init is not None
                pv, dv, tv = self.go(init, out)
                v = self.primal(out, "v", pv)
                d = None if dv is None else self.linear(out, "v", dv, tv)
                self.refs[r] = RefInfo("Read", v, d, tv)
                return self.go(body, out)
            case Handle():
                return self.handle(e, out)
            case Accum(ref=r, value=v) | Put(ref=r, value=v):
                info = self.ref_of(r, out)
                pv, dv, tv = self.go(v, out)
                self.primal(out, "u", replace(e, ref=info.primal, value=pv))
                if info.tangent is not None and (dv is not None or isinstance(e, Put)):
                    self.linear(out, "u", replace(e, ref=info.tangent, value=dv or zero_of(tv)), UNIT)
                return UnitLit(), None, UNIT
        return None

    def read(self, p: str, a: Expr, e: Expr, out: list[Binding]) -> Jvp:
        """``ask r`` reads the reader's value; ``get r`` reads the state and its tangent."""
        info = self.ref_of(a, out)
        if p == "ask":
            return info.primal, info.tangent, info.elem
        g = self.primal(out, "g", App(Var("get"), info.primal, span=e.span))
        if info.tangent is None:
            return g, None, info.elem
        return g, self.linear(out, "g", App(Var("get"), info.tangent), info.elem), info.elem

    def handle(self, e: Handle, out: list[Binding]) -> Jvp:
        """``run_accum`` and ``run_state``: the primal handler returns ``((b, R), s)``, its
        result, residuals and sum or final state; the linear one replays ``R``."""
        init, dinit, elem = None, None, e.monoid
        if e.init is not None:
            init, dinit, elem = self.go(e.init, out)
        assert elem is not None
        kind = "State" if e.handler == "run_state" else "Accum"
        dr = self.names.fresh("d" + e.ref) if differentiable(elem) else None
        self.refs[e.ref] = RefInfo(kind, Var(e.ref), None if dr is None else Var(dr), elem)
        if dr is not None and kind == "State":
            self.states[dr] = elem
        inner: list[Binding] = []
        pb, db, tb = self.go(e.body, inner)
        h = self.primal(out, "h", replace(e, init=init, body=keep_residuals(inner, pb)))
        ty = PairT(tb, elem)
        t = self.primal(out, "t", Pair(_fst(_fst(Var(h.name))), _snd(Var(h.name))))
        if dr is None and db is None and not any(b.linear for b in inner):
            return t, None, ty
        body = linear_half(inner, _snd(_fst(h)), self.names, db or zero_of(tb))
        if dr is None:
            if db is None:
                self.linear(out, "u", body, UNIT)
                return t, None, ty
            return t, Pair(self.linear(out, "t", body, tb), UnitLit()), ty
        start = None if e.init is None else (dinit or zero_of(elem))
        return t, self.linear(out, "h", replace(e, init=start, ref=dr, body=body), ty), ty

    def recomputed(self, inner: list[Binding]) -> list[Binding]:
        """A branch's lets for its linear twin: its effects on outer references are left to the
        primal branch (``+=`` and ``:=`` return ``()``); a branch that reads state or runs a loop
        with effects on an outer reference cannot be replayed and is refused."""
        outer = {x for x, info in self.refs.items() if info.kind != "Read"}
        kept = []
        for b in inner:
            if not b.linear and isinstance(b.bound, Accum | Put):
                continue
            if not b.linear and (used := free_vars(b.bound) & outer):
                raise fragment_error(
                    f"an if or case with a tangent whose branch reads or updates "
                    f"{', '.join(sorted(x.split(chr(39))[0] for x in used))} (a get, or a loop or "
                    "handler with effects on it): bind its value with let before the branch",
                    b.bound.span)
            kept.append(b)
        return kept


__all__ = ["EffectRules", "Jvp", "RefInfo"]
