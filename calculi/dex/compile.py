"""A compiler of Dex to NumPy: a parallel ``for`` becomes array operations over a new axis.

The body of a parallel ``for i:n. e`` is compiled once, with ``i`` bound to ``arange(|n|)`` along a
fresh *loop axis*; every value carries the loop axes it varies along (``Arr.axes``, outermost
first), and operations broadcast them against each other, as ``vmap`` does. So ``for`` over an
elementwise body is one elementwise operation; ``x.i`` with ``i`` the loop's own index is a view
of ``x`` and otherwise a gather (``take_along_axis``); ``sum (for j. a * b)`` is one ``einsum``;
``sum`` is a reduction over the table's axis. Accumulation ``r += v`` sums ``v`` over the loops
inside the handler, and ``r!i += v`` scatters (``bincount`` or ``np.add.at``). A ``for`` with
``State`` in its body is sequential: a running sum ``s := get s + v; get s`` becomes a ``cumsum``
(same order of additions as the loop), anything else runs as a Python loop over the same
operations. What the compiler does not cover (effects under a branch that depends on a loop
index, a table of functions, an integer that may overflow 62 bits, a loop nest of more than
``MAX_LANES`` iterations) is run by the reference interpreter instead, whole: ``Compiled.mode``
says which.

Reals are float64 here, where the interpreter keeps literals exact; the compiler theorem compares
the two within a relative 1e-9. A branch of an ``if`` that depends on a loop index is evaluated on
every lane with floating-point errors ignored; the lanes it does not select are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from calculi.core.errors import StuckError
from calculi.dex import arrays
from calculi.dex.arrays import (
    INT_LIMIT,
    UNARY,
    Arr,
    Idx,
    Unsupported,
    align,
    arith,
    as_index,
    check_int,
    dims,
    empty_table,
    from_numpy,
    full,
    gather_axis,
    index_value,
    loop_index,
    stack,
    to_numpy,
)
from calculi.dex.check import Checked, check, size
from calculi.dex.semantics import children, evaluate, free_vars
from calculi.dex.syntax import (
    PRIMITIVES,
    Accum,
    App,
    At,
    BinOp,
    BoolLit,
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
    Put,
    RealLit,
    RefIndex,
    Seq,
    UnitLit,
    Var,
)
from calculi.dex.values import Closure


@dataclass(slots=True)
class Cell:
    value: object
    axes: tuple[int, ...]
    """The loop axes active where the handler was entered (its value may vary along them)."""


@dataclass(slots=True)
class RefV:
    cell: Cell
    path: tuple[Idx, ...]




def _effectful(e: Expr) -> bool:
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, Accum | Put):
            return True
        match node:
            case Lam(body=b) | For(body=b):
                stack.append(b)
            case Let(bound=a, body=b):
                stack += [a, b]
            case Handle(init=init, body=b):
                stack += [b] + ([init] if init is not None else [])
            case Case(scrutinee=s, alts=alts):
                stack += [s, *(b for _, b in alts)]
            case At(value=v):
                stack.append(v)
            case _:
                stack += children(node)
    return False


MAX_LANES = 2**28
"""The most iterations a nest of loops may have in compiled form (else the interpreter, whose
fuel bounds it)."""


class _Compiler:
    def __init__(self, checked: Checked) -> None:
        self.parallel = checked.parallel
        self.bodies = checked.bodies
        self.axes = 0
        self.active: list[tuple[int, int]] = []
        """The loop axes being compiled, outermost first, with their sizes."""

    def eval(self, e: Expr, env: dict[str, object]) -> object:
        match e:
            case Var(name=x):
                return env[x]
            case IntLit(value=v):
                if abs(v) >= INT_LIMIT:
                    raise Unsupported("an integer beyond 62 bits")
                return Arr(np.array(v, dtype=np.int64), ())
            case RealLit(value=v):
                return Arr(np.array(float(v)), ())
            case BoolLit(value=v):
                return Arr(np.array(v), ())
            case UnitLit():
                return ()
            case Pair(fst=a, snd=b):
                return (self.eval(a, env), self.eval(b, env))
            case Lam(param=x, body=body):
                captured = dict(env)

                def call(arg: object) -> object:
                    inner = dict(captured)
                    inner[x] = arg
                    return self.eval(body, inner)

                return call
            case App(fun=Var(name="sum"), arg=For(body=BinOp(op="*")) as loop) if (
                    "sum" not in env and id(loop) in self.parallel and not _effectful(loop.body)):
                contracted = self.contract(loop, env)
                if contracted is not None:
                    return contracted
                return self.primitive("sum", self.eval(loop, env), e)
            case App(fun=Var(name=p), arg=arg) if p in PRIMITIVES and p not in env:
                return self.primitive(p, self.eval(arg, env), e)
            case App(fun=f, arg=arg):
                fn = self.eval(f, env)
                assert callable(fn)
                return fn(self.eval(arg, env))
            case Let(name=x, bound=bound, body=body):
                inner = dict(env)
                inner[x] = self.eval(bound, env)
                return self.eval(body, inner)
            case Seq(first=a, then=b):
                self.eval(a, env)
                return self.eval(b, env)
            case If(cond=c, then=a, orelse=b):
                cond = self.eval(c, env)
                assert isinstance(cond, Arr)
                if not cond.axes:
                    return self.eval(a if bool(cond.data) else b, env)
                if _effectful(a) or _effectful(b):
                    raise Unsupported("effects under a branch that depends on a loop index")
                with np.errstate(all="ignore"):
                    return self.select(cond, [self.eval(a, env), self.eval(b, env)], e)
            case Case(scrutinee=s, alts=alts):
                scrutinee = self.eval(s, env)
                assert isinstance(scrutinee, Idx) and scrutinee.labels is not None
                bodies = dict(alts)
                ordered = [bodies[label] for label in scrutinee.labels]
                if not scrutinee.ordinal.axes:
                    return self.eval(ordered[int(scrutinee.ordinal.data)], env)
                if any(_effectful(b) for b in ordered):
                    raise Unsupported("effects under a case that depends on a loop index")
                with np.errstate(all="ignore"):
                    return self.select(scrutinee.ordinal, [self.eval(b, env) for b in ordered], e)
            case BinOp(op=op, left=a, right=b):
                lv, rv = self.eval(a, env), self.eval(b, env)
                if isinstance(lv, Idx) and isinstance(rv, Idx):
                    lv, rv = lv.ordinal, rv.ordinal
                assert isinstance(lv, Arr) and isinstance(rv, Arr)
                (xd, yd), axes = align([lv, rv])
                try:
                    result = arith(op, xd, yd)
                    return Arr(result if op == "%" else check_int(result), axes)
                except (ZeroDivisionError, FloatingPointError):
                    raise StuckError("division by zero", e.span, rule="E-Arith") from None
            case Neg(arg=a):
                av = self.eval(a, env)
                assert isinstance(av, Arr)
                return Arr(-av.data, av.axes)
            case For():
                return self.loop(e, env)
            case Index(table=t, index=i):
                return self.index(self.eval(t, env), self.eval(i, env))
            case At(value=v, index=n):
                if isinstance(n, Enum):
                    assert isinstance(v, Var)
                    label = n.labels.index(v.name)
                    return Idx(Arr(np.array(label), ()), len(n.labels), n.labels)
                ordinal = self.eval(v, env)
                assert isinstance(ordinal, Arr) and isinstance(n, Fin)
                data = ordinal.data
                if data.size and (data.min() < 0 or data.max() >= n.size):
                    bad = int(data[(data < 0) | (data >= n.size)].flat[0])
                    raise StuckError(f"index {bad} is out of range for Fin {n.size}", e.span,
                                     rule="E-At")
                return Idx(ordinal, n.size)
            case Handle():
                return self.handle(e, env)
            case Accum(ref=r, value=v):
                ref, value = self.eval(r, env), self.eval(v, env)
                assert isinstance(ref, RefV)
                self.accumulate(ref, value)
                return ()
            case Put(ref=r, value=v):
                ref, value = self.eval(r, env), self.eval(v, env)
                assert isinstance(ref, RefV)
                if ref.path:
                    raise Unsupported("a write into one entry of a state table")
                ref.cell.value = value
                return ()
            case RefIndex(ref=r, index=i):
                ref, index = self.eval(r, env), self.eval(i, env)
                assert isinstance(ref, RefV)
                return RefV(ref.cell, (*ref.path, as_index(index)))
        raise Unsupported(type(e).__name__)

    def contract(self, loop: For, env: dict[str, object]) -> Arr | None:
        """``sum (for j. a * b)`` as one ``einsum`` over ``j`` (a matrix product, a dot), without
        the table of products; ``None`` when ``a * b`` is not a product of two reals."""
        assert isinstance(loop.body, BinOp)
        count = size(loop.type)
        self.axes += 1
        axis = self.axes
        self.active.append((axis, count))
        inner = dict(env)
        inner[loop.index] = loop_index(loop.type, count, axis)
        try:
            a, b = self.eval(loop.body.left, inner), self.eval(loop.body.right, inner)
        finally:
            self.active.pop()
        if not (isinstance(a, Arr) and isinstance(b, Arr)) or axis not in (*a.axes, *b.axes):
            return None
        if a.data.ndim != len(a.axes) or b.data.ndim != len(b.axes) or a.data.dtype.kind != "f":
            return None
        union = tuple(sorted({*a.axes, *b.axes}))
        letters = {ax: chr(ord("a") + k) for k, ax in enumerate(union)}
        kept = tuple(ax for ax in union if ax != axis)
        spec = (f"{''.join(letters[x] for x in a.axes)},{''.join(letters[x] for x in b.axes)}"
                f"->{''.join(letters[x] for x in kept)}")
        try:
            return Arr(np.einsum(spec, a.data, b.data, optimize=True), kept)
        except ValueError:
            return None

    def select(self, which: Arr, branches: list[object], e: Expr) -> object:
        """Lane by lane, the branch ``which`` picks (``which`` is a Bool: True picks the first)."""
        if all(isinstance(b, tuple) for b in branches):
            parts = [self.select(which, [b[k] for b in branches], e)  # type: ignore[index]
                     for k in range(len(branches[0]))]  # type: ignore[arg-type]
            return tuple(parts)
        if not all(isinstance(b, Arr) for b in branches):
            raise Unsupported("a branch of functions or indices that depends on a loop index")
        arrays, axes = align([which, *branches])  # type: ignore[list-item]
        cond, rest = arrays[0], arrays[1:]
        depth = max(r.ndim for r in rest)
        cond = cond.reshape(cond.shape + (1,) * (depth - cond.ndim))
        if which.data.dtype == bool:
            return Arr(np.where(cond, rest[0], rest[1]), axes)
        return Arr(np.choose(cond, np.broadcast_arrays(*rest)), axes)

    def primitive(self, p: str, v: object, e: App) -> object:
        if p in ("fst", "snd"):
            assert isinstance(v, tuple)
            return v[0] if p == "fst" else v[1]
        if p in ("get", "ask"):
            assert (isinstance(v, RefV) and not v.path) or isinstance(v, RefV)
            return self.read(v)
        if p == "ordinal":
            assert isinstance(v, Idx)
            return v.ordinal
        assert isinstance(v, Arr), p
        match p:
            case "sum":
                return Arr(v.data.sum(axis=len(v.axes)), v.axes)
            case "to_real":
                return Arr(v.data.astype(np.float64), v.axes)
            case "floor":
                floored = np.floor(v.data)
                if not np.isfinite(floored).all() or (np.abs(floored) >= INT_LIMIT).any():
                    raise StuckError(f"floor of {v.data[~np.isfinite(floored)].flat[0]}", e.span,
                                     rule="E-Prim")
                return Arr(floored.astype(np.int64), v.axes)
        try:
            with np.errstate(all="raise"):
                return Arr(UNARY[p](v.data), v.axes)
        except FloatingPointError as err:
            raise StuckError(f"{p}: {err}", e.span, rule="E-Prim") from None

    # -- loops, indexing, handlers ----------------------------------------------------------

    def loop(self, e: For, env: dict[str, object]) -> object:
        count = size(e.type)
        inner = dict(env)
        if count * math.prod(n for _, n in self.active) > MAX_LANES:
            raise Unsupported(f"a loop nest of more than {MAX_LANES:,} lanes")
        if id(e) in self.parallel:
            self.axes += 1
            axis = self.axes
            self.active.append((axis, count))
            inner[e.index] = loop_index(e.type, count, axis)
            try:
                return gather_axis(self.eval(e.body, inner), axis, count)
            finally:
                self.active.pop()
        scanned = self.scan(e, env, count)
        if scanned is not None:
            return scanned
        results = []
        for k in range(count):
            inner[e.index] = index_value(e.type, Arr(np.array(k), ()))
            results.append(self.eval(e.body, inner))
        if not results:
            return empty_table(self.bodies[id(e)], self.active)
        return stack(results)

    def scan(self, e: For, env: dict[str, object], count: int) -> object:
        """A running sum ``for i. s := get s + v; get s`` (or without the ``get s``) where ``v``
        does not read ``s``: the ``v``s as one parallel ``for``, then ``cumsum``. Anything else
        (``None``) runs as a loop."""
        body, result = e.body, None
        match body:
            case Seq(first=first, then=then):
                body, result = first, then
        match body:
            case Put(ref=Var(name=s), value=BinOp(op="+", left=App(fun=Var(name="get"),
                                                                     arg=Var(name=s2)), right=v)):
                pass
            case _:
                return None
        ref = env.get(s)
        if (s != s2 or not isinstance(ref, RefV) or ref.path or "get" in env or _effectful(v)
                or result not in (None, App(Var("get"), Var(s))) or e.index == s or count == 0):
            return None
        if any(x == s or callable(env.get(x)) for x in free_vars(v)):
            return None
        start = ref.cell.value
        if not isinstance(start, Arr) or start.data.ndim != len(start.axes) \
                or start.data.dtype.kind != "f":
            return None
        self.axes += 1
        axis = self.axes
        self.active.append((axis, count))
        inner = dict(env)
        inner[e.index] = loop_index(e.type, count, axis)
        try:
            steps = gather_axis(self.eval(v, inner), axis, count)
        finally:
            self.active.pop()
        assert isinstance(steps, Arr)
        (initial, increments), axes = align([start, steps])
        lanes = np.broadcast_shapes(initial.shape, increments.shape[:len(axes)])
        column = np.broadcast_to(initial[..., None], (*lanes, 1))
        totals = np.cumsum(np.concatenate([column, np.broadcast_to(increments, (*lanes, count))],
                                          axis=-1), axis=-1)[..., 1:]
        ref.cell.value = Arr(np.array(totals[..., -1]), axes)
        return Arr(totals, axes) if result is not None else ()

    def index(self, table: object, index: object) -> object:
        if isinstance(table, tuple):
            return tuple(self.index(part, index) for part in table)
        if not isinstance(table, Arr):
            raise Unsupported("indexing a table of functions or indices")
        idx = as_index(index)
        p = len(table.axes)
        if idx.loop is not None and idx.loop not in table.axes and table.data.shape[p] == idx.size:
            axes = tuple(sorted((*table.axes, idx.loop)))
            return Arr(np.moveaxis(table.data, p, axes.index(idx.loop)), axes)
        (td, od), axes = align([table, idx.ordinal])
        p = len(axes)
        od = od.reshape(od.shape + (1,) * (td.ndim - p))
        return Arr(np.take_along_axis(td, od, axis=p).squeeze(axis=p), axes)

    def handle(self, e: Handle, env: dict[str, object]) -> object:
        active = tuple(axis for axis, _ in self.active)
        if e.init is not None:
            cell = Cell(self.eval(e.init, env), active)
        else:
            assert e.monoid is not None
            shape = tuple(n for _, n in self.active) + dims(e.monoid)
            cell = Cell(Arr(np.zeros(shape), active), active)
        inner = dict(env)
        inner[e.ref] = RefV(cell, ())
        result = self.eval(e.body, inner)
        if e.handler == "with_reader":
            return result
        return (result, cell.value)

    def read(self, ref: RefV) -> object:
        value = ref.cell.value
        for index in ref.path:
            value = self.index(value, index)
        return value

    def accumulate(self, ref: RefV, value: object) -> None:
        """``r += v`` once per iteration of every loop inside the handler: ``v`` summed over
        those loops' axes; ``r!i += v`` scatters each lane's ``v`` to its ``i`` (``np.add.at``)."""
        held = ref.cell.value
        assert isinstance(held, Arr) and isinstance(value, Arr)
        axes = tuple(axis for axis, _ in self.active)
        shape = tuple(n for _, n in self.active)
        values = full(value, axes, shape)
        if not ref.path:
            inner = tuple(p for p, axis in enumerate(axes) if axis not in held.axes)
            held.data += values.sum(axis=inner) if inner else values
            return
        targets = tuple(
            np.broadcast_to(np.arange(n).reshape((1,) * p + (-1,) + (1,) * (len(axes) - p - 1)),
                            shape)
            for p, (axis, n) in enumerate(self.active) if axis in held.axes)
        points = tuple(full(i.ordinal, axes, shape) for i in ref.path)
        arrays.scatter(held.data, (*targets, *points), values)


# -- the compiled program ----------------------------------------------------------------------


@dataclass(slots=True)
class Compiled:
    """A program compiled to NumPy; calling it runs it (on arguments, for a function)."""

    expr: Expr
    checked: Checked
    mode: str = "numpy"
    """``numpy``, or ``interpreter`` once a run met something the compiler does not cover."""

    def __call__(self, *args: object) -> object:
        if self.mode == "numpy":
            try:
                with np.errstate(all="ignore"):
                    return self.run(args)
            except Unsupported:
                self.mode = "interpreter"
            except RecursionError:
                raise StuckError("program nested too deeply to compile (bind the inner parts with "
                                 "let at the top level)", self.expr.span) from None
        return self.interpret(args)

    def run(self, args: Sequence[object]) -> object:
        result = _Compiler(self.checked).eval(self.expr, {})
        for arg in args:
            assert callable(result)
            result = result(Arr(np.asarray(arg), ()))
        return _output(result)

    def interpret(self, args: Sequence[object]) -> object:
        value = evaluate(self.expr, parallel=self.checked.parallel)
        ty = self.checked.type
        for arg in args:
            assert isinstance(value, Closure) and isinstance(ty, FunT)
            env = dict(value.env)
            env[value.param] = from_numpy(arg, ty.arg)
            value = evaluate(value.body, env, parallel=self.checked.parallel)
            ty = ty.res
        return to_numpy(value)


def compile_program(expr: Expr) -> Compiled:
    """Compile a closed, well-typed program (checked here)."""
    return Compiled(expr, check(expr))


def _output(result: object) -> object:
    if isinstance(result, Arr):
        return result.data
    if isinstance(result, Idx):
        return result.ordinal.data
    if isinstance(result, tuple):
        return tuple(_output(r) for r in result)
    if callable(result):
        raise Unsupported("a function as the result")
    return result
