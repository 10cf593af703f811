"""Transposing a run of ``let``s flat: the transposed run is a run of ``let``s again, so a body of
thousands of lets transposes in linear time to a program no deeper than itself.

A linear real ``ẏ`` all of whose uses in the run are *direct* (reached from a bound's root
through ``+``, ``-``, ``-a``, ``p * a``, ``a / p``, ``ṙ += a`` and ``ṡ := a`` only) needs no
accumulator: its cotangent is the sum of the contributions its uses send it, bound once they
are all known:

    T(let ẏ = a in b, c) = T(b, c) ⊳ ċ_ẏ = Σ contributions ; T(a, ċ_ẏ)

The run's primal lets come first, in order (they never read a linear one), then the
transposed linear lets, last first (which is also the order a ``State``'s cotangent needs). A
linear let used otherwise (a table read in a ``for``) gets its ``run_accum``, as in the rule
for ``let ẏ`` of ``transpose``; the contributions pending at that point are summed inside its
handler and handed out through its result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from calculi.dex.cotangents import Direct, RefTree, allocate, assemble, sums
from calculi.dex.syntax import (
    REAL,
    Accum,
    App,
    BinOp,
    Case,
    Expr,
    Let,
    Neg,
    Pair,
    Put,
    RealLit,
    UnitLit,
    Var,
)
from calculi.dex.tangents import zero_of

if TYPE_CHECKING:
    from calculi.dex.transpose import Transposer


def occurrences(e: Expr) -> Iterator[str]:
    """Every variable occurrence in ``e``."""
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, Var):
            yield node.name
        elif isinstance(node, Case):
            stack.append(node.scrutinee)
            stack += [alt for _, alt in node.alts]
        else:
            stack += [v for name in type(node).__slots__
                      if isinstance(v := getattr(node, name), Expr)]


def direct_uses(e: Expr, out: list[str]) -> None:
    """The variables at direct positions of ``e``."""
    while True:
        match e:
            case Var(name=x):
                out.append(x)
                return
            case BinOp(op="+" | "-", left=a, right=b):
                direct_uses(a, out)
                e = b
            case BinOp(op="*", right=a) | BinOp(op="/", left=a) | Neg(arg=a) | Put(value=a):
                e = a
            case Accum(value=a):
                e = a
            case _:
                return


class Spine:
    """The transposition of one run of lets, built as a list of lets in evaluation order."""

    def __init__(self, machine: Transposer, refs: dict[str, RefTree]) -> None:
        self.machine = machine
        self.refs = refs
        self.items: list[tuple[str, Expr]] = []
        self.pending: dict[str, list[Expr]] = {}

    def emit(self, base: str, e: Expr) -> Var:
        name = self.machine.names.fresh(base)
        self.items.append((name, e))
        return Var(name)

    def atom(self, ct: Expr) -> Expr:
        return ct if isinstance(ct, Var | RealLit) else self.emit("ct", ct)

    def send(self, e: Expr, ct: Expr) -> None:
        """``T(e, ct)`` at the level of the run: direct positions by name, the rest as statements."""
        match e:
            case Var(name=x) if isinstance(self.refs.get(x), Direct):
                self.pending.setdefault(x, []).append(ct)
            case BinOp(op="+" | "-", left=a, right=b):
                c = self.atom(ct)
                self.send(a, c)
                self.send(b, c if e.op == "+" else Neg(c))
            case BinOp(op="*", left=p, right=a):
                self.send(a, BinOp("*", p, ct))
            case BinOp(op="/", left=a, right=p):
                self.send(a, BinOp("/", ct, p))
            case Neg(arg=a):
                self.send(a, Neg(ct))
            case Accum(ref=r, value=v):
                self.send(v, App(Var("ask"), self.machine.reader(r)))
            case Put(ref=r, value=v):
                ref, ty = self.machine.state_ref(r)
                c = self.emit("ct", App(Var("get"), ref))
                self.emit("u", Put(ref, zero_of(ty)))
                self.send(v, c)
            case App(fun=Var(name="get"), arg=r):
                ref, ty = self.machine.state_ref(r)
                self.emit("u", self.machine.add_into(ref, ct, ty))
            case _:
                statement = self.machine.step(e, ct, self.refs)
                if not isinstance(statement, UnitLit):
                    self.emit("u", statement)

    def close(self) -> Expr:
        """The lets built so far, ending in ``()``."""
        body: Expr = UnitLit()
        for name, bound in reversed(self.items):
            body = Let(name, bound, body)
        return body

    def total(self, name: str) -> Expr | None:
        parts = self.pending.pop(name, [])
        if not parts:
            return None
        out = parts[0]
        for part in parts[1:]:
            out = BinOp("+", out, part)
        return out

    def accumulated(self, let: Let) -> None:
        """``let ẏ = a`` with an accumulator: its handler wraps what is built so far, which
        returns the sums pending for lets further up, bound again outside under their names."""
        columns = self.machine.columns[let.name]
        if not columns:
            self.send(let.bound, UnitLit())
            return
        carried = []
        for z in list(self.pending):
            summed = self.total(z)
            assert summed is not None
            carried.append((z, self.emit("ct", summed).name))
        body: Expr = UnitLit()
        for _, part in reversed(carried):
            body = Pair(Var(part), body)
        for name, bound in reversed(self.items):
            body = Let(name, bound, body)
        self.items = []
        p = self.emit("p", self.machine.accumulators(columns, body))
        value: Expr = p
        for _ in columns:
            value = App(Var("fst"), value)
        for z, part in carried:
            self.items.append((part, App(Var("fst"), value)))
            value = App(Var("snd"), value)
            self.pending[z] = [Var(part)]
        cotangent = assemble(self.machine.types[let.name], sums(p, len(columns)), self.machine.names)
        self.send(let.bound, self.emit("ct", cotangent))


def transpose_run(machine: Transposer, e: Expr, ct: Expr, refs: dict[str, RefTree]) -> Expr:
    """``T(let … in e, ct)`` for a run of lets, flat."""
    frames: list[Let] = []
    while isinstance(e, Let):
        frames.append(e)
        e = e.body
    linear = [let for let in frames if let.name in machine.types]
    uses: Counter[str] = Counter()
    direct: Counter[str] = Counter()
    for bound in [let.bound for let in linear] + [e]:
        uses.update(x for x in occurrences(bound) if x in machine.types)
        found: list[str] = []
        direct_uses(bound, found)
        direct.update(found)
    for let in linear:
        if machine.types[let.name] == REAL and uses[let.name] == direct[let.name]:
            refs[let.name] = Direct(let.name)
        else:
            refs[let.name], machine.columns[let.name] = allocate(machine.types[let.name],
                                                                 machine.names)
    spine = Spine(machine, refs)
    spine.send(e, ct)
    for let in reversed(linear):
        if isinstance(refs[let.name], Direct):
            summed = spine.total(let.name)
            if summed is not None:
                spine.send(let.bound, spine.atom(summed))
        else:
            spine.accumulated(let)
    body = spine.close()
    for let in reversed(frames):
        if let.name not in machine.types:
            body = Let(let.name, let.bound, body)
    return body


__all__ = ["Spine", "direct_uses", "occurrences", "transpose_run"]
