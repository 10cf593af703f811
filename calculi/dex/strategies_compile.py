"""Hypothesis generators of the loop shapes the compiler's array rules match.

``window_programs()`` reads a table at an index affine in the loop indices
(``x.((c + a * ordinal i + b * ordinal k)@Fin m)``), summed against a vector (a convolution, a
correlation), over one table or the rows of a matrix, and sometimes behind guards
``if 0 <= e then if e < m then ... else 0.0 else 0.0`` that drop the lanes whose index would be
out of range. ``keyed_accumulation_programs()`` accumulate into the entry of a table computed per
index (a histogram, counted or weighted); ``scan_programs()`` are running sums from a zero or
non-zero start. ``extremum_programs()`` are ``if l < r then r else l`` and its kin (both
comparisons, both branch orders, a literal on either side or none, integers or reals, values
that tie with the literal), which compile to ``np.maximum``/``np.minimum``.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

from calculi.dex.strategies import Program, expr_of
from calculi.dex.syntax import (
    REAL,
    Accum,
    App,
    At,
    BinOp,
    Expr,
    Fin,
    For,
    Handle,
    If,
    Index,
    IntLit,
    Let,
    Put,
    RealLit,
    RefIndex,
    Seq,
    TableT,
    Type,
    Var,
)

ZERO = RealLit(Fraction(0))


def _ordinal(name: str) -> Expr:
    return App(Var("ordinal"), Var(name))


def _affine(offset: int, terms: list[tuple[int, str]]) -> Expr:
    """``offset + coef * ordinal name + ...`` as the program writes it."""
    e: Expr = IntLit(offset)
    for coef, name in terms:
        term = _ordinal(name) if coef == 1 else BinOp("*", IntLit(coef), _ordinal(name))
        e = BinOp("+", e, term)
    return e


def _varying(draw: st.DrawFn, ctx: dict[str, Type], name: str) -> Expr:
    """A real that differs from index to index of ``name`` (so that a misplaced read shows)."""
    slope = RealLit(Fraction(draw(st.integers(1, 9)), 2))
    ramp = BinOp("*", App(Var("to_real"), _ordinal(name)), slope)
    return BinOp("+", ramp, draw(expr_of(ctx, REAL, 1))) if draw(st.booleans()) else ramp


@st.composite
def window_programs(draw: st.DrawFn) -> Program:
    """``for [r.] i. sum (for k. x.[r.](c + a*i + b*k [+ d*r]) * w.k)``, the read in range on
    every lane, or out of range on some behind guards."""
    coefs = st.sampled_from([1, 1, 1, 0, -1, 2])
    sizes_from = st.integers(1, 6).map(lambda k: k % 6)  # zero now and then
    # a correlation's shape x.(c + i + k) in range against two taps or more, reads behind guards,
    # or neither
    shape = draw(st.sampled_from(["sliding", "guarded", "guarded", "plain"]))
    sliding = shape == "sliding"
    lanes = st.integers(1, 5) if shape == "guarded" else sizes_from  # (guards need lanes to drop)
    n, rows = draw(lanes), draw(lanes)
    taps = draw(st.integers(2, 5) if sliding else lanes)
    matrix = draw(st.booleans())
    terms = [(1 if sliding else draw(coefs), "i"), (1 if sliding else draw(coefs), "k")]
    terms += [(draw(coefs), "r")] if matrix else []
    sizes = {"i": n, "k": taps, "r": rows}
    low = sum(min(0, c * (sizes[v] - 1)) for c, v in terms if sizes[v])
    high = sum(max(0, c * (sizes[v] - 1)) for c, v in terms if sizes[v])
    guarded = shape == "guarded"
    if guarded:
        offset, m = draw(st.integers(-3, 3)), draw(st.integers(1, 5))
        if offset + low >= 0 and offset + high < m and draw(st.integers(0, 3)):
            offset = m - high  # mostly some lane out of range, for the guards to drop
    else:
        offset = draw(st.integers(0, 2)) - low
        m = offset + high + 1 + draw(st.integers(0, 2))
    position = _affine(offset, terms)
    table: Expr = Index(Var("x"), Var("r")) if matrix else Var("x")
    read: Expr = Index(table, At(position, Fin(m)))
    weight = Index(Var("w"), Var("k"))
    body: Expr = BinOp("*", *((read, weight) if draw(st.booleans()) else (weight, read)))
    if guarded:
        body = If(BinOp("<=", IntLit(0), position),
                  If(BinOp("<", position, IntLit(m)), body, ZERO), ZERO)
    program: Expr = For("i", Fin(n), App(Var("sum"), For("k", Fin(taps), body)))
    if matrix:
        program = For("r", Fin(rows), program)
    x_ctx: dict[str, Type] = {"t": Fin(m), **({"r": Fin(rows)} if matrix else {})}
    x: Expr = For("t", Fin(m), _varying(draw, x_ctx, "t"))
    if matrix:
        x = For("r", Fin(rows), x)
    w = For("t", Fin(taps), _varying(draw, {"t": Fin(taps)}, "t"))
    return Program(Let("x", x, Let("w", w, program)))


@st.composite
def keyed_accumulation_programs(draw: st.DrawFn) -> Program:
    """``snd (run_accum (Fin m=>Real) \\h. for i. h!(key i) += v)``, the key ``(a*i + c) % m`` or
    ``floor (x.i * s) % m``, the value a literal (a count) or a real of ``i`` (a weight)."""
    n, m = draw(st.integers(1, 7).map(lambda k: k % 7)), draw(st.integers(1, 4))
    x = For("t", Fin(n), _varying(draw, {"t": Fin(n)}, "t"))
    if draw(st.booleans()):
        key: Expr = _affine(draw(st.integers(-3, 3)), [(draw(st.integers(-2, 3)), "i")])
    else:
        scale = RealLit(Fraction(draw(st.integers(1, 8)), 2))
        key = App(Var("floor"), BinOp("*", Index(Var("x"), Var("i")), scale))
    target = RefIndex(Var("h"), At(BinOp("%", key, IntLit(m)), Fin(m)))
    value = (RealLit(Fraction(draw(st.integers(0, 6)), 2)) if draw(st.booleans())
             else draw(expr_of({"i": Fin(n), "x": TableT(Fin(n), REAL)}, REAL, 2)))
    loop = For("i", Fin(n), Accum(target, value))
    return Program(Let("x", x, App(Var("snd"),
                                   Handle("run_accum", None, TableT(Fin(m), REAL), "h", loop))))


@st.composite
def scan_programs(draw: st.DrawFn) -> Program:
    """``run_state s0 \\s. for i. s := get s + v; get s`` (totals and final state), ``v`` a real of
    ``i`` and a table ``x``, ``s0`` zero or not."""
    n = draw(st.integers(1, 7).map(lambda k: k % 7))
    x = For("t", Fin(n), draw(expr_of({"t": Fin(n)}, REAL, 2)))
    ctx = {"i": Fin(n), "x": TableT(Fin(n), REAL)}
    step = draw(expr_of(ctx, REAL, 2))
    init = ZERO if draw(st.booleans()) else RealLit(Fraction(draw(st.integers(-8, 8)), 4))
    total = BinOp("+", App(Var("get"), Var("s")), step)
    loop = For("i", Fin(n), Seq(Put(Var("s"), total), App(Var("get"), Var("s"))))
    return Program(Let("x", x, Handle("run_state", init, None, "s", loop)))


@st.composite
def extremum_programs(draw: st.DrawFn) -> Program:
    """``for i:Fin n. if l op r then r else l`` (or ``then l else r``), ``op`` ``<`` or ``<=``,
    ``l`` and ``r`` a value of ``i`` (a let-bound name or a read of a table) and a literal on
    either side, or two values; reals on a grid of halves, so that some lanes tie."""
    n = draw(st.integers(0, 6))
    real = draw(st.booleans())
    ctx: dict[str, Type] = {"t": Fin(n)}

    def ramp(offset: int) -> Expr:
        step = draw(st.integers(-2, 2))
        ordinal = BinOp("-", BinOp("*", IntLit(step), _ordinal("t")), IntLit(offset))
        if not real:
            return ordinal
        halves = BinOp("*", App(Var("to_real"), ordinal), RealLit(Fraction(1, 2)))
        return BinOp("+", halves, draw(expr_of(ctx, REAL, 1))) if draw(st.booleans()) else halves

    def literal() -> Expr:
        k = draw(st.integers(-2, 2))
        return RealLit(Fraction(k, 2)) if real else IntLit(k)

    x, y = For("t", Fin(n), ramp(draw(st.integers(0, 3)))), For("t", Fin(n), ramp(0))
    value: Expr = Var("a") if draw(st.booleans()) else Index(Var("x"), Var("i"))
    other = literal() if draw(st.integers(0, 3)) else Index(Var("y"), Var("i"))
    left, right = (value, other) if draw(st.booleans()) else (other, value)
    op = draw(st.sampled_from(["<", "<="]))
    then, orelse = (right, left) if draw(st.booleans()) else (left, right)
    body: Expr = If(BinOp(op, left, right), then, orelse)
    if value == Var("a"):
        body = Let("a", Index(Var("x"), Var("i")), body)
    program = Let("x", x, Let("y", y, For("i", Fin(n), body)))
    return Program(program)


__all__ = ["extremum_programs", "keyed_accumulation_programs", "scan_programs",
           "window_programs"]
