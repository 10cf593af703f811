"""Hypothesis generators of well-typed Dex programs, by construction, shaped like what users write.

``programs()`` draws a closed program: a run of ``let``s binding tables and scalars (reusing a few
names, so later ones shadow earlier ones, the primitive ``sum`` included), then a result. Bodies
nest ``for`` two or three deep, index tables with the loop's own index, a literal, or a computed
``k@Fin n``, and use the handlers: accumulation into a real or into one entry of a table
(``r!i += v``), state threaded through a sequential ``for``, readers asked inside a ``for``.
Arithmetic is exact (``+ - *`` on literals with a decimal point), so order independence is
checked with rational numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from hypothesis import strategies as st

from calculi.dex.pretty import show
from calculi.dex.strategies_inference import loop
from calculi.dex.syntax import (
    INT,
    REAL,
    Accum,
    App,
    At,
    BinOp,
    Case,
    Enum,
    Expr,
    Fin,
    For,
    FunT,
    Handle,
    If,
    Index,
    IntLit,
    Lam,
    Let,
    Neg,
    Pair,
    PairT,
    Put,
    RealLit,
    RefIndex,
    RefT,
    Seq,
    TableT,
    Type,
    Var,
)

NAMES = ("x", "y", "z", "sum", "i", "j", "f")
INDEX_NAMES = ("i", "j", "k", "x")
REF_NAMES = ("r", "s", "acc", "x")
COLOR = Enum(("red", "green", "blue"))


@dataclass(frozen=True, slots=True)
class Program:
    """A generated program (printed with ``show`` when a property fails)."""

    expr: Expr

    def __str__(self) -> str:
        return show(self.expr)


Ctx = dict[str, Type]


def _bind(ctx: Ctx, name: str, ty: Type) -> Ctx:
    return {**ctx, name: ty}


def _vars(ctx: Ctx, ty: Type) -> list[str]:
    return [x for x, t in ctx.items() if t == ty]


def _prim(ctx: Ctx, name: str) -> bool:
    return name not in ctx


def _real_literal(draw: st.DrawFn) -> Expr:
    return RealLit(Fraction(draw(st.integers(0, 40)), draw(st.sampled_from([1, 2, 4, 10]))))


def _index_of(draw: st.DrawFn, ctx: Ctx, n: Type) -> Expr:
    """An index of ``n``: a variable, a literal ``k@Fin n``, or a computed one, always in range."""
    names = _vars(ctx, n)
    if isinstance(n, Fin):
        choices = ["literal"] * (n.size > 0) + ["var"] * 3 * bool(names)
        ints = [x for x, t in ctx.items() if isinstance(t, Fin)]
        if n.size > 0 and ints and _prim(ctx, "ordinal"):
            choices.append("computed")
        how = draw(st.sampled_from(choices))
        if how == "var":
            return Var(draw(st.sampled_from(names)))
        if how == "literal":
            return At(IntLit(draw(st.integers(0, n.size - 1))), n)
        other = draw(st.sampled_from(ints))
        shift = draw(st.integers(0, 2))
        ordinal = App(Var("ordinal"), Var(other))
        return At(BinOp("%", BinOp("+", ordinal, IntLit(shift)), IntLit(n.size)), n)
    if isinstance(n, Enum):
        use_var = draw(st.booleans())
        if names and use_var:
            return Var(draw(st.sampled_from(names)))
        return At(Var(draw(st.sampled_from(n.labels))), n)
    assert isinstance(n, PairT)
    return Pair(_index_of(draw, ctx, n.fst), _index_of(draw, ctx, n.snd))


def _inhabited(ctx: Ctx, n: Type) -> bool:
    if isinstance(n, Fin):
        return n.size > 0 or bool(_vars(ctx, n))
    if isinstance(n, PairT):
        return _inhabited(ctx, n.fst) and _inhabited(ctx, n.snd)
    return True


def _expr_of(draw: st.DrawFn, ctx: Ctx, ty: Type, depth: int) -> Expr:
    """A pure-or-effectful expression of type ``ty`` in ``ctx`` (effects only on refs in ``ctx``)."""
    names = _vars(ctx, ty)
    leaf = depth <= 0
    options: list[str] = ["var"] * 2 * bool(names)
    if ty == REAL:
        options += ["lit"] + ([] if leaf else ["arith", "arith", "neg", "let", "if", "app", "sum",
                                                "index", "accum", "state", "reader", "case"])
        if any(isinstance(t, RefT) and t.kind in ("State", "Read") and t.elem == REAL
               for t in ctx.values()):
            options += ["read_ref"] * 2
    elif ty == INT:
        options += ["lit"] + ([] if leaf else ["int_arith", "ordinal", "let"])
    elif isinstance(ty, TableT):
        options += ["for"] * 3 + ([] if leaf else ["let"])
    elif isinstance(ty, PairT):
        options += ["pair"]
    if not options:
        options = ["lit"]
    how = draw(st.sampled_from(options))
    sub = depth - 1
    match how:
        case "var":
            return Var(draw(st.sampled_from(names)))
        case "lit":
            return _real_literal(draw) if ty == REAL else IntLit(draw(st.integers(0, 9)))
        case "arith":
            op = draw(st.sampled_from(["+", "-", "*"]))
            return BinOp(op, _expr_of(draw, ctx, REAL, sub), _expr_of(draw, ctx, REAL, sub))
        case "neg":
            return Neg(_expr_of(draw, ctx, REAL, sub))
        case "int_arith":
            op = draw(st.sampled_from(["+", "-", "*", "%"]))
            right = IntLit(draw(st.integers(1, 5))) if op == "%" else _expr_of(draw, ctx, INT, sub)
            return BinOp(op, _expr_of(draw, ctx, INT, sub), right)
        case "ordinal":
            fins = [x for x, t in ctx.items() if isinstance(t, Fin | Enum)]
            if fins and _prim(ctx, "ordinal"):
                return App(Var("ordinal"), Var(draw(st.sampled_from(fins))))
            return IntLit(draw(st.integers(0, 9)))
        case "let":
            bound_ty = draw(small_types())
            name = draw(st.sampled_from(NAMES))
            bound = _expr_of(draw, ctx, bound_ty, sub)
            return Let(name, bound, _expr_of(draw, _bind(ctx, name, bound_ty), ty, sub))
        case "if":
            cond = BinOp(draw(st.sampled_from(["<", "<="])), _expr_of(draw, ctx, REAL, sub),
                         _expr_of(draw, ctx, REAL, sub))
            return If(cond, _expr_of(draw, ctx, REAL, sub), _expr_of(draw, ctx, REAL, sub))
        case "case":
            scrutinee = _index_of(draw, ctx, COLOR)
            alts = [(label, _expr_of(draw, ctx, REAL, sub)) for label in COLOR.labels]
            return Case(scrutinee, tuple(draw(st.permutations(alts))))
        case "app":
            name = draw(st.sampled_from(NAMES))
            lam = Lam(name, REAL, _expr_of(draw, _bind(ctx, name, REAL), REAL, sub))
            if draw(st.booleans()):
                return App(lam, _expr_of(draw, ctx, REAL, sub))
            fname = draw(st.sampled_from(NAMES))
            call = App(Var(fname), _expr_of(draw, _bind(ctx, fname, lam_type()), REAL, sub))
            return Let(fname, lam, call)
        case "sum":
            n = draw(index_sets())
            table = _expr_of(draw, ctx, TableT(n, REAL), sub)
            if _prim(ctx, "sum"):
                return App(Var("sum"), table)
            return Index(table, _index_of(draw, ctx, n)) if _inhabited(ctx, n) else _real_literal(draw)
        case "index":
            n = draw(index_sets())
            if not _inhabited(ctx, n):
                return _real_literal(draw)
            return Index(_expr_of(draw, ctx, TableT(n, REAL), sub), _index_of(draw, ctx, n))
        case "read_ref":
            refs = [x for x, t in ctx.items() if isinstance(t, RefT) and t.elem == REAL
                    and t.kind in ("State", "Read")]
            ref = draw(st.sampled_from(refs))
            kind = ctx[ref]
            assert isinstance(kind, RefT)
            prim = "get" if kind.kind == "State" else "ask"
            return App(Var(prim), Var(ref)) if _prim(ctx, prim) else _real_literal(draw)
        case "accum":
            return _accumulation(draw, ctx, sub)
        case "state":
            return _state_loop(draw, ctx, sub)
        case "reader":
            name = draw(st.sampled_from(REF_NAMES))
            init = _expr_of(draw, ctx, REAL, sub)
            inner = _bind(ctx, name, RefT("Read", REAL, name, 0))
            body = _expr_of(draw, inner, TableT(draw(index_sets()), REAL), sub)
            return Handle("with_reader", init, None, name, App(Var("sum"), body)) \
                if _prim(inner, "sum") else Handle("with_reader", init, None, name,
                                                   _expr_of(draw, inner, REAL, sub))
        case "for":
            assert isinstance(ty, TableT)
            index = draw(st.sampled_from(INDEX_NAMES))
            inner = _bind(ctx, index, ty.index)
            if not leaf and draw(st.integers(0, 2)) == 0:  # pointful: for i. e.i, fixing the index set
                # of i (not at a leaf: e is of the same type, so a leaf could nest without end, |n| lanes
                # a level: seven levels of 9 lanes were 4.8 million)
                return loop(draw, index, ty.index, Index(_expr_of(draw, inner, ty, sub), Var(index)))
            return loop(draw, index, ty.index, _expr_of(draw, inner, ty.elem, sub))
        case "pair":
            assert isinstance(ty, PairT)
            return Pair(_expr_of(draw, ctx, ty.fst, sub), _expr_of(draw, ctx, ty.snd, sub))
    raise AssertionError(how)


expr_of = st.composite(_expr_of)
index_of = st.composite(_index_of)


def lam_type() -> Type:
    return FunT(REAL, (), REAL)


def _accumulation(draw: st.DrawFn, ctx: Ctx, depth: int, into_table: bool | None = None) -> Expr:
    """``snd (run_accum Real \\r. for i:n. r += e)``, or a histogram into ``r!j`` then its sum."""
    name = draw(st.sampled_from(REF_NAMES))
    n = draw(index_sets())
    index = draw(st.sampled_from([i for i in INDEX_NAMES if i != name]))
    if into_table if into_table is not None else draw(st.booleans()):
        bins = draw(fins())
        monoid: Type = TableT(bins, REAL)
        inner = _bind(_bind(ctx, name, RefT("Accum", monoid, name, 0)), index, n)
        target: Expr = RefIndex(Var(name), _index_of(draw, inner, bins)) if _inhabited(inner, bins) \
            else Var(name)
        value = _expr_of(draw, inner, REAL if target != Var(name) else monoid, depth)
    else:
        monoid = REAL
        inner = _bind(_bind(ctx, name, RefT("Accum", REAL, name, 0)), index, n)
        target, value = Var(name), _expr_of(draw, inner, REAL, depth)
    body: Expr = Accum(target, value)
    if draw(st.booleans()):
        body = Seq(body, Accum(target, _expr_of(draw, inner, REAL if target != Var(name) else monoid,
                                                    depth - 1)))
    handler = Handle("run_accum", None, monoid, name, loop(draw, index, n, body))
    result = App(Var("snd"), handler) if _prim(ctx, "snd") else None
    if result is None:
        return _real_literal(draw)
    if monoid == REAL:
        return result
    return App(Var("sum"), result) if _prim(ctx, "sum") else _real_literal(draw)


def _state_loop(draw: st.DrawFn, ctx: Ctx, depth: int) -> Expr:
    """``snd (run_state e \\s. for i:n. s := f (get s) i)``: a sequential loop (a running total)."""
    name = draw(st.sampled_from(REF_NAMES))
    n = draw(index_sets())
    index = draw(st.sampled_from([i for i in INDEX_NAMES if i != name]))
    inner = _bind(_bind(ctx, name, RefT("State", REAL, name, 0)), index, n)
    if not _prim(inner, "get") or not _prim(ctx, "snd"):
        return _real_literal(draw)
    factor = RealLit(draw(st.sampled_from([Fraction(0), Fraction(1, 2), Fraction(2), Fraction(3)])))
    pure = _bind(ctx, index, n)  # the state enters the step once, so it grows no faster than affinely
    if name in ctx:
        pure = {x: t for x, t in pure.items() if x != name}
    scale = BinOp("*", App(Var("get"), Var(name)),
                  BinOp("+", factor, _expr_of(draw, pure, REAL, depth - 2)))
    step = BinOp("+", scale, BinOp("+", _position(inner, index, n), _expr_of(draw, pure, REAL,
                                                                              depth - 1)))
    init = _expr_of(draw, ctx, REAL, depth)
    if draw(st.booleans()):  # a running sum, returning the table of totals
        total = BinOp("+", App(Var("get"), Var(name)), _expr_of(draw, pure, REAL, depth - 1))
        loop = For(index, n, Seq(Put(Var(name), total), App(Var("get"), Var(name))))
        project = draw(st.sampled_from(["fst", "snd"]))
        return App(Var("sum"), App(Var("fst"), Handle("run_state", init, None, name, loop))) \
            if project == "fst" and _prim(ctx, "sum") else \
            App(Var("snd"), Handle("run_state", init, None, name, loop))
    return App(Var("snd"), Handle("run_state", init, None, name, For(index, n, Put(Var(name), step))))


def _position(ctx: Ctx, index: str, n: Type) -> Expr:
    """A real that tells the indices of ``n`` apart (so that a running state depends on order)."""
    if not _prim(ctx, "to_real") or not _prim(ctx, "ordinal"):
        return RealLit(Fraction(1))
    if isinstance(n, PairT):
        if not _prim(ctx, "fst"):
            return RealLit(Fraction(1))
        return App(Var("to_real"), App(Var("ordinal"), App(Var("fst"), Var(index))))
    return App(Var("to_real"), App(Var("ordinal"), Var(index)))


_FINS = [Fin(n) for n in range(4)]
_INDEX_SETS: list[Type] = [*_FINS, *_FINS, COLOR, *(PairT(a, b) for a in _FINS[1:] for b in _FINS)]
_SMALL_TYPES: list[Type] = [REAL, REAL, INT, PairT(REAL, INT),
                            *(TableT(n, REAL) for n in _INDEX_SETS[4:]),
                            *(TableT(a, TableT(b, REAL)) for a in _FINS[1:] for b in _FINS[1:])]


def fins() -> st.SearchStrategy[Type]:
    return st.sampled_from(_FINS)


def index_sets() -> st.SearchStrategy[Type]:
    return st.sampled_from(_INDEX_SETS)


def small_types() -> st.SearchStrategy[Type]:
    return st.sampled_from(_SMALL_TYPES)


@st.composite
def loop_bodies(draw: st.DrawFn, depth: int = 3) -> tuple[str, Type, Expr]:
    """An index name, an index set, and a real-valued body using the index (for loop laws)."""
    n = draw(index_sets())
    index = draw(st.sampled_from(INDEX_NAMES))
    return index, n, _expr_of(draw, {index: n}, REAL, depth)


@st.composite
def histogram_programs(draw: st.DrawFn, depth: int = 3) -> Program:
    """A histogram: a for accumulating into entries of a table, the entry computed per index."""
    return Program(_accumulation(draw, {}, depth, into_table=True))


@st.composite
def state_programs(draw: st.DrawFn, depth: int = 3) -> Program:
    """A program whose result is a running state threaded through a sequential ``for``."""
    return Program(_state_loop(draw, {}, depth))


@st.composite
def programs(draw: st.DrawFn, depth: int = 4, result: Type | None = None) -> Program:
    """A closed, well-typed program: a few ``let``s, then a result of ``result`` (drawn if None)."""
    ctx: Ctx = {}
    bindings: list[tuple[str, Expr]] = []
    for _ in range(draw(st.integers(0, 3))):
        ty = draw(small_types())
        name = draw(st.sampled_from(NAMES))
        bindings.append((name, _expr_of(draw, ctx, ty, depth - 1)))
        ctx = _bind(ctx, name, ty)
    body = _expr_of(draw, ctx, result or draw(small_types()), depth)
    for name, bound in reversed(bindings):
        body = Let(name, bound, body)
    return Program(body)


__all__ = [
    "Program",
    "expr_of",
    "histogram_programs",
    "index_of",
    "index_sets",
    "loop_bodies",
    "programs",
    "small_types",
    "state_programs",
]
