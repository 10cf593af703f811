"""Transposition: a linear Dex program and a cotangent become a program that accumulates the
cotangent of every linear input into ``Accum`` references.

``T(L, c)`` is a statement (of type ``()`` or a table of them) adding ``c`` transposed through ``L``:

    T(ẋ, c)           = r_ẋ += c                 T(ẋ.i.j, c) = r_ẋ!i!j += c
    T(a + b, c)       = T(a, c); T(b, c)          T(a - b, c) = T(a, c); T(b, -c)
    T(p * a, c)       = T(a, p * c)               T(a / p, c) = T(a, c / p)
    T(-a, c)          = T(a, -c)                  T(sum ẋ, c) = for i:n. r_ẋ!i += c
    T((a, b), c)      = T(a, fst c); T(b, snd c)  T(fst ṗ, c) = fst r_ṗ += c
    T(for i:n. a, c)  = for i:n. T(a, c.i)
    T(let ẏ = a in b, c) = let (_, ċ) = run_accum τ \\r_ẏ. T(b, c) in T(a, ċ)
    T(let y = p in b, c) = let y = p in T(b, c)   (a primal let stays)
    T(if q then a else b, c) = if q then T(a, c) else T(b, c)     (and so for case)
    T(run_accum τ \\ṙ. a, c) = with_reader (snd c) \\q. T(a, fst c)
    T(ṙ!i += a, _)     = T(a, ask q!i)             (the cotangent of an accumulation is a read)

A read ``ẋ.i`` inside a ``for`` becomes ``r_ẋ!i += c``: an accumulation, so the transposed ``for``
has only ``Accum`` (and ``Read``) in its row and stays parallel: only the rules for ``State``
below introduce ``State``, so the transpose of a parallel program has none. A sequential loop
runs backwards, the state's cotangent held in a state ``cs`` of its own:

    T(run_state ṡ₀ \\ṡ. a, c) = let p = run_state (snd c) \\cs. T(a, fst c) in T(ṡ₀, snd p)
    T(for i:n. a, c)   = for j:n. let i = (n-1-ordinal j)@n in T(a, c.i)   (a updates ṡ)
    T(ṡ := a, _)       = let c' = get cs in cs := 0; T(a, c')
    T(get ṡ, c)        = cs := get cs + c

The cotangent of a pair or a table of pairs accumulates column by column (``cotangents``). A
run of ``let``s transposes to a run of ``let``s, last first (``spine``).
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from calculi.dex.check import is_monoid
from calculi.dex.cotangents import Direct, NoRefs, Refs, RefTree, allocate, assemble, index, sums
from calculi.dex.jvp import Linearized
from calculi.dex.pretty import show_type
from calculi.dex.spine import Spine, occurrences, transpose_run
from calculi.dex.syntax import (
    Accum,
    App,
    At,
    BinOp,
    Case,
    Expr,
    Fin,
    For,
    Handle,
    If,
    Index,
    IntLit,
    Let,
    Neg,
    Pair,
    PairT,
    Put,
    RealLit,
    RefIndex,
    Seq,
    TableT,
    Type,
    UnitLit,
    Var,
)
from calculi.dex.tangents import Names, fragment_error, is_zero


class Transposer:
    """``T(L, c)`` for the linear variables ``types`` (everything else is primal)."""

    def __init__(self, types: dict[str, Type], names: Names,
                 states: dict[str, Type] | None = None) -> None:
        self.types = types
        self.names = names
        self.states = states or {}
        """Each tangent ``State`` reference with the type of its state."""
        self.cstates: dict[str, str] = {}
        """Each tangent ``State`` reference's cotangent reference, run backwards."""
        self.readers: dict[str, str] = {}
        """Each linear accumulator's reader of its cotangent."""
        self.columns: dict[str, list[tuple[str, Type]]] = {}
        """The accumulators of each linear let that has them."""

    def place(self, e: Expr, refs: dict[str, RefTree]) -> RefTree | None:
        """The references ``r_ẋ!i!j`` for a linear ``ẋ.i.j``; ``None`` if ``e`` is not one."""
        match e:
            case Var(name=x) if x in refs:
                return refs[x]
            case Index(table=t, index=i):
                tree = self.place(t, refs)
                return None if tree is None else index(tree, i)
            case App(fun=Var(name="fst" | "snd" as p), arg=t):
                tree = self.place(t, refs)
                if isinstance(tree, Refs):
                    return tree.fst if p == "fst" else tree.snd
                return tree
        return None

    def accumulate(self, ref: Expr, ct: Expr, ty: Type | None) -> Expr:
        """``ref += ct``, ``ty`` being the type of ``ct`` (a real or a table of them)."""
        return Accum(ref, ct)

    def handler(self, ty: Type, ref: str, body: Expr) -> Expr:
        """The handler that sums what ``body`` accumulates into ``ref``, starting at zero."""
        return Handle("run_accum", None, ty, ref, body)

    def accumulate_tree(self, tree: RefTree, ct: Expr, ty: Type) -> Expr:
        assert not isinstance(tree, Direct)
        if isinstance(tree, NoRefs):
            return UnitLit()
        if not isinstance(tree, Refs):
            return self.accumulate(tree, ct, ty)
        if isinstance(ty, TableT):
            i = self.names.fresh("i")
            return self.atom(ct, lambda c: For(i, ty.index, self.accumulate_tree(
                index(tree, Var(i)), Index(c, Var(i)), ty.elem)))
        assert isinstance(ty, PairT)
        return self.atom(ct, lambda c: _seq(
            self.accumulate_tree(tree.fst, App(Var("fst"), c), ty.fst),
            self.accumulate_tree(tree.snd, App(Var("snd"), c), ty.snd)))

    def atom(self, ct: Expr, build: Callable[[Expr], Expr]) -> Expr:
        """``build(c)`` with ``ct`` bound to a name when it is not one already."""
        if isinstance(ct, Var | RealLit | UnitLit):
            return build(ct)
        c = self.names.fresh("ct")
        return Let(c, ct, build(Var(c)))

    def accumulators(self, columns: list[tuple[str, Type]], body: Expr) -> Expr:
        for ref, column in reversed(columns):
            body = self.handler(column, ref, body)
        return body

    def go(self, e: Expr, ct: Expr, refs: dict[str, RefTree]) -> Expr:
        if isinstance(e, Let):
            return transpose_run(self, e, ct, refs)
        return self.step(e, ct, refs)

    def step(self, e: Expr, ct: Expr, refs: dict[str, RefTree]) -> Expr:
        tree = self.place(e, refs)
        if tree is not None:
            ty = self.type_of(e)
            assert ty is not None
            return self.accumulate_tree(tree, ct, ty)
        if is_zero(e):
            return UnitLit()
        match e:
            case Pair(fst=a, snd=b):
                return self.atom(ct, lambda c: _seq(self.go(a, App(Var("fst"), c), refs),
                                                    self.go(b, App(Var("snd"), c), refs)))
            case BinOp(op="+" | "-", left=a, right=b):
                return self.atom(ct, lambda c: _seq(
                    self.go(a, c, refs), self.go(b, c if e.op == "+" else Neg(c), refs)))
            case BinOp(op="*", left=p, right=a):
                return self.go(a, BinOp("*", p, ct), refs)
            case BinOp(op="/", left=a, right=p):
                return self.go(a, BinOp("/", ct, p), refs)
            case Neg(arg=a):
                return self.go(a, Neg(ct), refs)
            case App(fun=Var(name="sum"), arg=a):
                table = self.place(a, refs)
                ty = self.type_of(a)
                if table is None or not isinstance(ty, TableT):
                    raise fragment_error("sum of a linear value that is not a tangent", e.span)
                i = self.names.fresh("i")
                return self.atom(ct, lambda c: For(i, ty.index, self.accumulate_tree(
                    index(table, Var(i)), c, ty.elem)))
            case For(body=body) if self.sequential(body):
                return self.backwards(e, ct, refs)
            case For(index=i, type=n, body=body):
                if isinstance(ct, UnitLit):
                    return For(i, n, self.go(body, ct, refs))
                return self.atom(ct, lambda c: For(i, n, self.go(body, Index(c, Var(i)), refs)))
            case If(cond=q, then=a, orelse=b):
                return self.atom(ct, lambda c: If(q, _statement(self.go(a, c, refs)),
                                                  _statement(self.go(b, c, refs))))
            case Case(scrutinee=s, alts=alts):
                return self.atom(ct, lambda c: Case(s, tuple(
                    (label, _statement(self.go(b, c, refs))) for label, b in alts)))
            case Handle(handler="run_accum", ref=name, body=body):
                reader = self.names.fresh("q")
                self.readers[name] = reader
                return self.atom(ct, lambda c: Handle("with_reader", App(Var("snd"), c), None, reader,
                                                      self.go(body, App(Var("fst"), c), refs)))
            case Accum(ref=r, value=v):
                return self.go(v, App(Var("ask"), self.reader(r)), refs)
            case Handle(handler="run_state", init=init, ref=name, body=body) if init is not None:
                return self.run_backwards(name, init, body, ct, refs, e)
            case Put() | App(fun=Var(name="get")):
                spine = Spine(self, refs)
                spine.send(e, ct)
                return spine.close()
        raise fragment_error(f"not a linear expression: {type(e).__name__}", e.span)

    def run_backwards(self, name: str, init: Expr, body: Expr, ct: Expr,
                      refs: dict[str, RefTree], e: Expr) -> Expr:
        """``T(run_state ṡ₀ \\ṡ. a, c) = let p = run_state (snd c) \\cs. T(a, fst c) in
        T(ṡ₀, snd p)``: the cotangent of the state, starting from the final state's, is carried
        back through ``a`` run backwards, and ends as the initial state's."""
        state = self.states[name]
        if not is_monoid(state):
            raise fragment_error(f"reverse mode of State covers a state of Real or tables of "
                                 f"reals, not {show_type(state)}", e.span)
        cs, p = self.names.fresh("cs"), self.names.fresh("p")
        self.cstates[name] = cs
        return self.atom(ct, lambda c: Let(p, Handle(
            "run_state", App(Var("snd"), c), None, cs, self.go(body, App(Var("fst"), c), refs)),
            self.go(init, App(Var("snd"), Var(p)), refs)))

    def sequential(self, body: Expr) -> bool:
        """Whether ``body`` updates a tangent state (so its ``for`` runs backwards)."""
        return bool(self.cstates) and any(x in self.cstates for x in occurrences(body))

    def backwards(self, loop: For, ct: Expr, refs: dict[str, RefTree]) -> Expr:
        """``T(for i:n. a, c) = for j:n. let i = (n - 1 - ordinal j)@n in T(a, c.i)`` for a
        sequential ``for``: its iterations transposed last first."""
        i, n, body = loop.index, loop.type, loop.body
        if not isinstance(n, Fin):
            raise fragment_error(f"reverse mode runs a State loop backwards over Fin n, not over "
                                 f"{show_type(n)}", loop.span)
        j = self.names.fresh(i)
        last = At(BinOp("-", IntLit(n.size - 1), App(Var("ordinal"), Var(j))), n)
        if isinstance(ct, UnitLit):
            return For(j, n, Let(i, last, self.go(body, ct, refs)))
        return self.atom(ct, lambda c: For(j, n, Let(i, last, self.go(body, Index(c, Var(i)),
                                                                         refs))))

    def state_ref(self, r: Expr) -> tuple[Expr, Type]:
        """The cotangent reference ``cs!i`` of the tangent state ``ṡ!i``, and what it holds."""
        if isinstance(r, RefIndex):
            ref, ty = self.state_ref(r.ref)
            assert isinstance(ty, TableT)
            return RefIndex(ref, r.index), ty.elem
        assert isinstance(r, Var)
        return Var(self.cstates[r.name]), self.states[r.name]

    def add_into(self, ref: Expr, ct: Expr, ty: Type) -> Expr:
        """``ref := get ref + ct``, entry by entry for a table."""
        if isinstance(ty, TableT):
            k = self.names.fresh("i")
            return self.atom(ct, lambda c: For(k, ty.index, self.add_into(
                RefIndex(ref, Var(k)), Index(c, Var(k)), ty.elem)))
        return Put(ref, BinOp("+", App(Var("get"), ref), ct))

    def reader(self, ref: Expr) -> Expr:
        """The reader ``q!i`` of the cotangent of the accumulator ``ṙ!i``."""
        if isinstance(ref, RefIndex):
            return RefIndex(self.reader(ref.ref), ref.index)
        assert isinstance(ref, Var)
        return Var(self.readers[ref.name])

    def type_of(self, e: Expr) -> Type | None:
        match e:
            case Var(name=x):
                return self.types.get(x)
            case Index(table=t):
                ty = self.type_of(t)
                return ty.elem if isinstance(ty, TableT) else None
            case App(fun=Var(name="fst" | "snd" as p), arg=t):
                ty = self.type_of(t)
                if isinstance(ty, PairT):
                    return ty.fst if p == "fst" else ty.snd
        return None


def _seq(a: Expr, b: Expr) -> Expr:
    if isinstance(a, UnitLit):
        return b
    return Seq(a, b)


def _statement(e: Expr) -> Expr:
    """``e; ()``: a statement of type ``()`` (``e`` may be a table of them)."""
    return e if isinstance(e, UnitLit) else Seq(e, UnitLit())


def transpose(lin: Linearized, ct: Expr, transposer: type[Transposer] | None = None) -> Expr:
    """The vjp program: the primal lets, then accumulators for the inputs around
    ``T(tangent, ct)``. Its value nests as ``((…((), ct_1)…), ct_k)`` with the inputs in order."""
    machine = (transposer or Transposer)(lin.types, lin.names, lin.states)
    refs: dict[str, RefTree] = {}
    columns: list[tuple[str, Type]] = []
    for d, ty in lin.inputs.values():
        refs[d], mine = allocate(ty, lin.names)
        columns += mine
    body: Expr = UnitLit()
    if lin.tangent is not None:
        body = machine.go(_nest(lin), ct, refs)
    p = lin.names.fresh("p")
    values = sums(Var(p), len(columns))
    result: Expr = UnitLit()
    for _, ty in lin.inputs.values():
        result = Pair(result, assemble(ty, values, lin.names))
    return Let(p, machine.accumulators(columns, body), result)


def _nest(lin: Linearized) -> Expr:
    assert lin.tangent is not None
    body = lin.tangent
    for b in reversed(lin.primal):
        body = Let(b.name, b.bound, body)
    return body


ONE = RealLit(Fraction(1))

__all__ = ["ONE", "Transposer", "transpose"]
