"""Expressions of the compiler to NumPy (``calculi.dex.compile``): arithmetic over loop axes,
branches lane by lane, ``sum (for j. a * b)`` as one ``einsum`` or a sliding-window correlation,
primitives with the interpreter's run-time errors.
"""

from __future__ import annotations

import numpy as np

from calculi.dex import arrays, compile_rules
from calculi.dex.arrays import (
    INT_LIMIT,
    UNARY,
    Affine,
    Arr,
    Idx,
    Unsupported,
    align,
    arith,
    as_index,
    check_int,
    loop_index,
)
from calculi.dex.check import size
from calculi.dex.compile_loops import LoopCompiler, RefV, effectful
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


class Compiler(LoopCompiler):
    """A closed program's value in NumPy (raises ``Unsupported`` where it cannot)."""

    def eval(self, e: Expr, env: dict[str, object]) -> object:
        match e:
            case Var(name=x):
                return env[x]
            case IntLit(value=v):
                if abs(v) >= INT_LIMIT:
                    raise Unsupported("an integer beyond 62 bits")
                return Arr(np.array(v, dtype=np.int64), (), Affine(v))
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
                    "sum" not in env and id(loop) in self.parallel and not effectful(loop.body)):
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
            case Let():
                inner = dict(env)  # one scope for the whole spine: a chain of n lets is O(n)
                while isinstance(e, Let):
                    inner[e.name] = self.eval(e.bound, inner)
                    e = e.body
                return self.eval(e, inner)
            case Seq(first=a, then=b):
                self.eval(a, env)
                return self.eval(b, env)
            case If(cond=BinOp(op="<" | "<=" as op, left=l, right=r), then=a, orelse=b) if (
                    (a, b) in ((r, l), (l, r)) and not effectful(e)):
                return self.extremum(op, "max" if (a, b) == (r, l) else "min", e, env)
            case If(cond=c, then=a, orelse=b):
                cond = self.eval(c, env)
                assert isinstance(cond, Arr)
                if not cond.axes:
                    return self.eval(a if bool(cond.data) else b, env)
                if effectful(a) or effectful(b):
                    raise Unsupported("effects under a branch that depends on a loop index")
                with np.errstate(all="ignore"):
                    branches = [self.guarded(cond, a, env),
                                self.guarded(Arr(~cond.data, cond.axes), b, env)]
                    return self.select(cond, branches, e)
            case Case(scrutinee=s, alts=alts):
                scrutinee = self.eval(s, env)
                assert isinstance(scrutinee, Idx) and scrutinee.labels is not None
                bodies = dict(alts)
                ordered = [bodies[label] for label in scrutinee.labels]
                if not scrutinee.ordinal.axes:
                    return self.eval(ordered[int(scrutinee.ordinal.data)], env)
                if any(effectful(b) for b in ordered):
                    raise Unsupported("effects under a case that depends on a loop index")
                with np.errstate(all="ignore"):
                    ordinal = scrutinee.ordinal
                    return self.select(ordinal, [
                        self.guarded(Arr(ordinal.data == k, ordinal.axes), b, env)
                        for k, b in enumerate(ordered)], e)
            case BinOp(op=op, left=a, right=b):
                return self.binop(op, self.eval(a, env), self.eval(b, env), e)
            case Neg(arg=a):
                av = self.eval(a, env)
                assert isinstance(av, Arr)
                if av.affine is not None:
                    return arrays.affine(Affine(0).plus(av.affine, -1))
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
                position = self.eval(v, env)
                assert isinstance(position, Arr) and isinstance(n, Fin)
                return Idx(self.in_range(position, n.size, e), n.size)
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
        correlated = compile_rules.correlate(a, b, axis)
        if correlated is not None:
            return correlated
        union = tuple(sorted({*a.axes, *b.axes}))
        letters = {ax: chr(ord("a") + k) for k, ax in enumerate(union)}
        kept = tuple(ax for ax in union if ax != axis)
        spec = (f"{''.join(letters[x] for x in a.axes)},{''.join(letters[x] for x in b.axes)}"
                f"->{''.join(letters[x] for x in kept)}")
        try:
            return Arr(np.einsum(spec, a.data, b.data, optimize=True), kept)
        except ValueError:
            return None

    def extremum(self, op: str, kind: str, e: If, env: dict[str, object]) -> object:
        """``if l op r then r else l`` (``max``) or ``then l else r`` (``min``): one
        ``np.maximum``/``np.minimum`` where that is exact, else a choice lane by lane between the
        two values the comparison computed (the branches are not evaluated again)."""
        then = self.eval(e.then, env)
        orelse = self.eval(e.orelse, env) if e.orelse != e.then else then
        if isinstance(then, Arr) and isinstance(orelse, Arr) and (then.axes or orelse.axes):
            picked = compile_rules.extremum(
                kind, op, then, orelse, _may_be_nan(e.then, then), _may_be_nan(e.orelse, orelse),
                isinstance(e.orelse, RealLit) and e.orelse.value == 0)
            if picked is not None:
                return picked
        left, right = (then, orelse) if kind == "min" else (orelse, then)
        cond = self.binop(op, left, right, e)
        if not cond.axes:
            return then if bool(cond.data) else orelse
        return self.select(cond, [then, orelse], e)

    def binop(self, op: str, lv: object, rv: object, e: Expr) -> Arr:
        if isinstance(lv, Idx) and isinstance(rv, Idx):
            lv, rv = lv.ordinal, rv.ordinal
        assert isinstance(lv, Arr) and isinstance(rv, Arr)
        if lv.affine is not None and rv.affine is not None:
            combined = compile_rules.affine_op(op, lv.affine, rv.affine)
            if combined is not None:
                return arrays.affine(combined)
        (xd, yd), axes = align([lv, rv])
        try:
            result = arith(op, xd, yd)
            if op != "%":
                return Arr(check_int(result), axes)
            divisor = (int(yd.flat[0]) if yd.size == 1 and xd.dtype.kind == "i"
                       and yd.dtype.kind == "i" else 0)
            return Arr(result, axes, bounds=(0, divisor - 1) if divisor > 0 else None)
        except (ZeroDivisionError, FloatingPointError):
            raise self.stuck("division by zero", e, "E-Arith") from None

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
                low, high = (floored.min(), floored.max()) if floored.size else (0.0, 0.0)
                if not (np.isfinite(low) and np.isfinite(high)):
                    raise self.stuck(f"floor of {v.data[~np.isfinite(floored)].flat[0]}", e,
                                     "E-Prim")
                if max(-low, high) >= INT_LIMIT:
                    raise Unsupported("an integer beyond 62 bits")
                return Arr(floored.astype(np.int64), v.axes)
        try:
            with np.errstate(all="raise"):
                return Arr(UNARY[p](v.data), v.axes)
        except FloatingPointError as err:
            raise self.stuck(f"{p}: {err}", e, "E-Prim") from None


def _may_be_nan(e: Expr, value: Arr) -> bool:
    return not isinstance(e, RealLit | IntLit) and value.data.dtype.kind == "f"
