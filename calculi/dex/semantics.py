"""The reference interpreter, written as the rules: ``ρ ⊢ e ⇓ v``, one case per rule.

A handler allocates a cell for its reference: ``run_state v \\r. e`` starts it at ``v`` and returns
``(result, final)``; ``run_accum a \\r. e`` starts it at the zero of ``a`` and returns
``(result, sum)``; ``with_reader v \\r. e`` lets ``ask r`` read ``v``. ``for i:n. e`` evaluates
its body at every index; a parallel ``for`` (no ``State`` in its body's row) may visit the
indices in any ``order`` the caller gives, which is how order independence is tested.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from fractions import Fraction

from calculi.core import coverage
from calculi.core.errors import StuckError
from calculi.core.trace import Fuel
from calculi.dex.check import size
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
    TableT,
    Type,
    UnitLit,
    Var,
)
from calculi.dex.values import Buffer, Cell, Closure, Label, Ref, Table, Value, indices, ordinal

RULES = coverage.declare("dex", [
    "E-Var", "E-Lit", "E-Pair", "E-Lam", "E-App", "E-Let", "E-Seq", "E-IfTrue", "E-IfFalse",
    "E-Case", "E-Arith", "E-Compare", "E-Neg", "E-For", "E-ForParallel", "E-Index", "E-At",
    "E-Prim", "E-RunState", "E-RunAccum", "E-WithReader", "E-Get", "E-Put", "E-Ask", "E-Accum",
    "E-RefIndex",
])

Order = Callable[[int], Sequence[int]]

_UNARY: dict[str, Callable[[Value], Value]] = {
    "fst": lambda v: v[0],  # type: ignore[index]
    "snd": lambda v: v[1],  # type: ignore[index]
    "exp": lambda v: math.exp(v),  # type: ignore[arg-type]
    "log": lambda v: math.log(v),  # type: ignore[arg-type]
    "sqrt": lambda v: math.sqrt(v),  # type: ignore[arg-type]
    "to_real": lambda v: Fraction(v),  # type: ignore[arg-type]
    "floor": lambda v: math.floor(v),  # type: ignore[arg-type]
}

_ARITH: dict[str, Callable[[object, object], object]] = {
    "+": lambda a, b: a + b,  # type: ignore[operator]
    "-": lambda a, b: a - b,  # type: ignore[operator]
    "*": lambda a, b: a * b,  # type: ignore[operator]
    "/": lambda a, b: a / b,  # type: ignore[operator]
    "%": lambda a, b: a % b,  # type: ignore[operator]
    "<": lambda a, b: a < b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    "==": lambda a, b: a == b,
}


def zero(ty: Type) -> object:
    """The unit of ``run_accum``'s monoid, in the mutable form a cell holds."""
    if isinstance(ty, TableT):
        return Buffer(ty.index, [zero(ty.elem) for _ in range(size(ty.index))])
    return Fraction(0)


def thaw(value: Value) -> object:
    """A value as a cell holds it: tables become buffers, updated in place."""
    if isinstance(value, Table):
        return Buffer(value.index, [thaw(v) for v in value.elems])
    return value


def freeze(held: object) -> Value:
    if isinstance(held, Buffer):
        return Table(held.index, tuple(freeze(v) for v in held.items))
    return held  # type: ignore[return-value]


def evaluate(expr: Expr, env: dict[str, Value] | None = None, *, fuel: Fuel | None = None,
             parallel: set[int] | None = None, order: Order | None = None) -> Value:
    """``ρ ⊢ e ⇓ v`` for a well-typed ``e``. ``parallel`` holds the ``id`` of each parallel ``for``
    (``Checked.loops``), whose indices are then visited in ``order(n)``."""
    machine = Interpreter(fuel or Fuel(), parallel or set(), order)
    try:
        return machine.eval(expr, dict(env or {}))
    except RecursionError:
        raise StuckError("program nested too deeply to run (bind the inner parts with let)",
                         expr.span) from None


class Interpreter:
    def __init__(self, fuel: Fuel, parallel: set[int], order: Order | None) -> None:
        self.fuel = fuel
        self.parallel = parallel
        self.order = order
        self.free: dict[int, tuple[str, ...]] = {}

    @contextmanager
    def bind(self, env: dict[str, Value], name: str, value: Value) -> Iterator[None]:
        missing = object()
        old = env.get(name, missing)
        env[name] = value
        try:
            yield
        finally:
            if old is missing:
                del env[name]
            else:
                env[name] = old  # type: ignore[assignment]

    def eval(self, e: Expr, env: dict[str, Value]) -> Value:
        self.fuel.tick(e.span)
        match e:
            case Var(name=x):
                coverage.fired("dex", "E-Var")
                return env[x]
            case IntLit(value=v) | BoolLit(value=v):
                coverage.fired("dex", "E-Lit")
                return v
            case RealLit(value=v):
                coverage.fired("dex", "E-Lit")
                return v
            case UnitLit():
                coverage.fired("dex", "E-Lit")
                return ()
            case Pair(fst=a, snd=b):
                coverage.fired("dex", "E-Pair")
                return (self.eval(a, env), self.eval(b, env))
            case Lam(param=x, body=body):
                coverage.fired("dex", "E-Lam")
                captured = {y: env[y] for y in self.free_vars(e) if y in env}
                return Closure(x, body, captured)
            case App(fun=Var(name=p), arg=arg) if p in PRIMITIVES and p not in env:
                return self.primitive(p, self.eval(arg, env), e)
            case App(fun=f, arg=arg):
                fv, av = self.eval(f, env), self.eval(arg, env)
                assert isinstance(fv, Closure)
                coverage.fired("dex", "E-App")
                inner = dict(fv.env)
                inner[fv.param] = av
                return self.eval(fv.body, inner)
            case Let():
                return self.lets(e, env)
            case Seq(first=a, then=b):
                coverage.fired("dex", "E-Seq")
                self.eval(a, env)
                return self.eval(b, env)
            case If(cond=c, then=a, orelse=b):
                taken = self.eval(c, env)
                coverage.fired("dex", "E-IfTrue" if taken else "E-IfFalse")
                return self.eval(a if taken else b, env)
            case Case(scrutinee=s, alts=alts):
                coverage.fired("dex", "E-Case")
                return self.case(self.eval(s, env), alts, env)
            case BinOp(op=op, left=a, right=b):
                coverage.fired("dex", "E-Compare" if op in ("<", "<=", "==") else "E-Arith")
                av, bv = self.eval(a, env), self.eval(b, env)
                try:
                    return _ARITH[op](av, bv)  # type: ignore[return-value]
                except ZeroDivisionError:
                    raise StuckError("division by zero", e.span, rule="E-Arith") from None
            case Neg(arg=a):
                coverage.fired("dex", "E-Neg")
                return -self.eval(a, env)  # type: ignore[operator]
            case For():
                return self.loop(e, env)
            case Index(table=x, index=i):
                coverage.fired("dex", "E-Index")
                table, index = self.eval(x, env), self.eval(i, env)
                assert isinstance(table, Table)
                return table.elems[ordinal(index, table.index)]
            case At(value=v, index=n):
                coverage.fired("dex", "E-At")
                if isinstance(n, Enum):
                    assert isinstance(v, Var)
                    return Label(n.labels.index(v.name), n.labels)
                k = self.eval(v, env)
                assert isinstance(n, Fin) and isinstance(k, int)
                if not 0 <= k < n.size:
                    raise StuckError(f"index {k} is out of range for Fin {n.size}", e.span,
                                     rule="E-At")
                return k
            case Handle():
                return self.handle(e, env)
            case Accum(ref=r, value=v):
                coverage.fired("dex", "E-Accum")
                ref, value = self.eval(r, env), self.eval(v, env)
                assert isinstance(ref, Ref)
                self.accumulate(ref, value)
                return ()
            case Put(ref=r, value=v):
                coverage.fired("dex", "E-Put")
                ref, value = self.eval(r, env), self.eval(v, env)
                assert isinstance(ref, Ref)
                self.write(ref, value)
                return ()
            case RefIndex(ref=r, index=i):
                coverage.fired("dex", "E-RefIndex")
                ref, index = self.eval(r, env), self.eval(i, env)
                assert isinstance(ref, Ref)
                held = self.read(ref)
                assert isinstance(held, Buffer)
                return Ref(ref.cell, (*ref.path, ordinal(index, held.index)))
        raise StuckError(f"no rule for {type(e).__name__}", e.span)

    def lets(self, e: Let, env: dict[str, Value]) -> Value:
        """E-Let along a chain of lets, iteratively: thousands of lets run without deep recursion."""
        missing = object()
        saved: list[tuple[str, object]] = []
        link: Expr = e
        try:
            while isinstance(link, Let):
                coverage.fired("dex", "E-Let")
                if link is not e:
                    self.fuel.tick(link.span)
                value = self.eval(link.bound, env)
                saved.append((link.name, env.get(link.name, missing)))
                env[link.name] = value
                link = link.body
            return self.eval(link, env)
        finally:
            for name, old in reversed(saved):
                if old is missing:
                    del env[name]
                else:
                    env[name] = old  # type: ignore[assignment]

    def free_vars(self, lam: Lam) -> tuple[str, ...]:
        key = id(lam)
        if key not in self.free:
            self.free[key] = tuple(free_vars(lam))
        return self.free[key]

    def loop(self, e: For, env: dict[str, Value]) -> Value:
        n = e.type
        self.fuel.tick(e.span, size(n))
        points = list(indices(n))
        parallel = id(e) in self.parallel
        coverage.fired("dex", "E-ForParallel" if parallel else "E-For")
        visit: Sequence[int] = range(len(points))
        if parallel and self.order is not None:
            visit = self.order(len(points))
        out: list[Value] = [()] * len(points)
        with self.bind(env, e.index, ()):
            for k in visit:
                env[e.index] = points[k]
                out[k] = self.eval(e.body, env)
        return Table(n, tuple(out))

    def case(self, value: Value, alts: tuple[tuple[str, Expr], ...], env: dict[str, Value]) -> Value:
        assert isinstance(value, Label)
        label = value.labels[value.ordinal]
        return self.eval(next(body for name, body in alts if name == label), env)

    def primitive(self, p: str, v: Value, e: App) -> Value:
        if p in ("get", "ask"):
            coverage.fired("dex", "E-Get" if p == "get" else "E-Ask")
            assert isinstance(v, Ref)
            return freeze(self.read(v))
        coverage.fired("dex", "E-Prim")
        if p == "sum":
            assert isinstance(v, Table)
            total: object = Fraction(0)
            for x in v.elems:
                total = total + x  # type: ignore[operator]
            return total  # type: ignore[return-value]
        if p == "ordinal":
            return v.ordinal if isinstance(v, Label) else v
        try:
            return _UNARY[p](v)
        except (ValueError, OverflowError) as err:
            raise StuckError(f"{p} of {v}: {err}", e.span, rule="E-Prim") from None

    def read(self, ref: Ref) -> object:
        held = ref.cell.value
        for k in ref.path:
            assert isinstance(held, Buffer)
            held = held.items[k]
        return held

    def update(self, ref: Ref, new: Callable[[object], object]) -> None:
        """Replace the entry ``ref`` points at by ``new(old)``."""
        if not ref.path:
            ref.cell.value = new(ref.cell.value)
            return
        held = self.read(Ref(ref.cell, ref.path[:-1]))
        assert isinstance(held, Buffer)
        held.items[ref.path[-1]] = new(held.items[ref.path[-1]])

    def write(self, ref: Ref, value: Value) -> None:
        self.update(ref, lambda _: thaw(value))

    def accumulate(self, ref: Ref, value: Value) -> None:
        self.update(ref, lambda held: _add(held, value))

    def handle(self, e: Handle, env: dict[str, Value]) -> Value:
        rule = {"run_state": "E-RunState", "run_accum": "E-RunAccum"}.get(e.handler, "E-WithReader")
        coverage.fired("dex", rule)
        if e.init is not None:
            cell = Cell(thaw(self.eval(e.init, env)))
        else:
            assert e.monoid is not None
            self.fuel.tick(e.span, _volume(e.monoid))
            cell = Cell(zero(e.monoid))
        with self.bind(env, e.ref, Ref(cell, ())):
            result = self.eval(e.body, env)
        if e.handler == "with_reader":
            return result
        return (result, freeze(cell.value))


def _volume(ty: Type) -> int:
    return size(ty.index) * _volume(ty.elem) if isinstance(ty, TableT) else 1


def _add(held: object, value: Value) -> object:
    """``held ⊕ value`` in the monoid of reals under + (tables of them, entrywise)."""
    if isinstance(held, Buffer):
        assert isinstance(value, Table)
        for k, v in enumerate(value.elems):
            held.items[k] = _add(held.items[k], v)
        return held
    return held + value  # type: ignore[operator]


def free_vars(e: Expr) -> set[str]:
    """The names ``e`` uses from outside (primitive names included when not bound)."""
    out: set[str] = set()
    stack: list[tuple[Expr, frozenset[str]]] = [(e, frozenset())]
    while stack:
        node, bound = stack.pop()
        match node:
            case Var(name=x):
                if x not in bound:
                    out.add(x)
            case Lam(param=x, body=b) | For(index=x, body=b):
                stack.append((b, bound | {x}))
            case Let(name=x, bound=a, body=b):
                stack += [(a, bound), (b, bound | {x})]
            case Handle(init=init, ref=r, body=b):
                stack.append((b, bound | {r}))
                if init is not None:
                    stack.append((init, bound))
            case Case(scrutinee=s, alts=alts):
                stack += [(s, bound), *((b, bound) for _, b in alts)]
            case At(value=v, index=n):
                if not isinstance(n, Enum):
                    stack.append((v, bound))
            case _:
                stack += [(child, bound) for child in children(node)]
    return out


def children(e: Expr) -> list[Expr]:
    """The subexpressions of a constructor that binds nothing."""
    match e:
        case Pair(fst=a, snd=b) | App(fun=a, arg=b) | Seq(first=a, then=b) | BinOp(left=a, right=b):
            return [a, b]
        case Index(table=a, index=b) | RefIndex(ref=a, index=b):
            return [a, b]
        case Accum(ref=a, value=b) | Put(ref=a, value=b):
            return [a, b]
        case If(cond=a, then=b, orelse=c):
            return [a, b, c]
        case Neg(arg=a):
            return [a]
    return []


__all__ = ["RULES", "children", "evaluate", "free_vars", "zero"]
