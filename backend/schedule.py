"""The executor's rewrites of a flattened function body, and its buffer plan.

A body is a list of instructions ``outs = op(ins)`` over value numbers. Every primitive is pure,
so the rewrites below preserve the values of the results:

* ``propagate_zeros``: a linear map sends 0 to 0 (``L(s̄ ; 0) = 0``, ``0 ⊕ v = v``, ``s ⊙ 0 = 0``),
  which removes the tangent work of constants and integer inputs;
* ``merge_common``: two applications of one primitive, with equal parameters, to the same values
  are one value (``let y = p(x̄) in … p(x̄) …  ↦  … y …``); the JVP rules rely on it where a slope is
  written with the primal's own result, as in J(tanh v) = (tanh v ; tanh_grad(tanh v) ⊙ v̇);
* ``dead_code``: instructions whose results nobody reads are removed (``drop`` evaluates nothing);
* ``sink``: each non-linear primitive moves to just before its first use;
* ``elide_broadcasts``: a broadcast read only by elementwise ufuncs is left to NumPy's own
  broadcasting;
* ``plan_buffers``: an elementwise primitive writes its result into the buffer of an argument
  that dies there (NumPy's ``out=``), when that buffer is the program's own (made by a primitive
  that returns new arrays, never viewed or held by a tuple) and has the result's shape and dtype.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from calculi.linear_ad.primitives import LADD
from calculi.linear_ad.syntax import Prim


@dataclass(slots=True)
class Instr:
    """``outs = op(ins)``; ``kind`` is prim, const, zero, lit, alias, tup, untup or call."""

    kind: str
    outs: tuple[int, ...]
    ins: tuple[int, ...]
    op: Any = None


def propagate_zeros(code: list[Instr]) -> tuple[list[Instr], dict[int, int]]:
    """Linear maps send zero to zero: ``L(s̄ ; 0) = 0``, ``0 ⊕ v = v``; fold them."""
    zero: dict[int, Any] = {}
    alias: dict[int, int] = {}
    out: list[Instr] = []
    for ins in code:
        args = tuple(alias.get(i, i) for i in ins.ins)
        ins = Instr(ins.kind, ins.outs, args, ins.op)
        if ins.kind == "zero":
            zero[ins.outs[0]] = ins.op
        elif ins.kind == "prim" and ins.op.prim.linear:
            p: Prim = ins.op
            lin = args[len(p.args):]
            zeros = [a for a in lin if a in zero]
            if lin and len(zeros) == len(lin):
                zero[ins.outs[0]] = zero[lin[0]] if p.prim is LADD else ZeroOf(p)
                out.append(Instr("zero", ins.outs, (), zero[ins.outs[0]]))
                continue
            if p.prim is LADD and zeros:
                alias[ins.outs[0]] = next(a for a in lin if a not in zero)
                continue
        out.append(ins)
    return out, alias


class ZeroOf:
    """The type of a linear primitive's result, worked out when the zero is materialised."""

    def __init__(self, p: Prim) -> None:
        self.prim = p


def sink(code: list[Instr], results: tuple[int, ...]) -> list[Instr]:
    """Schedule each non-linear primitive just before its first use (linear code keeps its order),
    so values a checkpoint policy recomputes live only while the backward sweep needs them."""
    producer = {o: i for i, ins in enumerate(code) for o in ins.outs}
    done = [False] * len(code)
    order: list[Instr] = []

    def demand(start: int) -> None:
        stack = [(start, False)]
        while stack:
            i, ready = stack.pop()
            if done[i]:
                continue
            if ready:
                done[i] = True
                order.append(code[i])
                continue
            stack.append((i, True))
            for v in reversed(code[i].ins):
                j = producer.get(v)
                if j is not None and not done[j]:
                    stack.append((j, False))

    for i, ins in enumerate(code):
        deferred = ins.kind in ("prim", "const", "lit") and not (ins.kind == "prim" and ins.op.prim.linear)
        if not deferred:
            demand(i)
    for r in results:
        j = producer.get(r)
        if j is not None:
            demand(j)
    return order


def dead_code(code: list[Instr], results: tuple[int, ...]) -> list[Instr]:
    live = set(results)
    kept: list[Instr] = []
    for ins in reversed(code):
        if ins.kind == "call" or any(o in live for o in ins.outs):
            kept.append(ins)
            live.update(ins.ins)
    kept.reverse()
    return kept


def merge_common(code: list[Instr]) -> tuple[list[Instr], dict[int, int]]:
    """``p[ps](x̄)`` computed twice is computed once: later copies become aliases of the first."""
    seen: dict[tuple[Any, ...], int] = {}
    alias: dict[int, int] = {}
    out: list[Instr] = []
    for ins in code:
        args = tuple(alias.get(i, i) for i in ins.ins)
        ins = Instr(ins.kind, ins.outs, args, ins.op)
        key = _key(ins)
        if key is not None:
            first = seen.setdefault(key, ins.outs[0])
            if first != ins.outs[0]:
                alias[ins.outs[0]] = first
                continue
        out.append(ins)
    return out, alias


def _key(ins: Instr) -> tuple[Any, ...] | None:
    """What identifies the value of a one-result primitive (None: not merged)."""
    if ins.kind == "prim":
        key: tuple[Any, ...] = (ins.op.prim, ins.op.params, ins.ins)
    elif ins.kind == "const":
        key = ("const", id(ins.op))
    else:
        return None
    try:
        hash(key)
    except TypeError:
        return None
    return key


def plan_buffers(code: list[Instr], results: tuple[int, ...], fresh: Callable[[Instr], Any | None],
                 takes_out: Callable[[Instr], bool]) -> dict[int, int]:
    """For instruction ``i``, the argument whose buffer receives its result (``out=``).

    ``fresh(ins)``: the type (shape and dtype) of the instruction's result when that is a new array,
    never a view of an argument; None otherwise. ``takes_out(ins)``: the instruction can write its
    result into a given buffer. A value is *owned* when a fresh instruction produced it and no
    instruction that may alias its arguments (a view, a tuple, a call) reads it; an owned value is
    overwritten at its last use by an instruction whose result has its type.
    """
    last_use: dict[int, int] = {}
    aliased: set[int] = set(results)
    types: dict[int, Any] = {}
    for i, ins in enumerate(code):
        for v in ins.ins:
            last_use[v] = i
        t = fresh(ins)
        if t is None:
            aliased.update(ins.ins)
        else:
            types[ins.outs[0]] = t
    plan: dict[int, int] = {}
    for i, ins in enumerate(code):
        if not takes_out(ins):
            continue
        t = types[ins.outs[0]]
        for v in ins.ins:
            if last_use[v] == i and v not in aliased and types.get(v) == t:
                plan[i] = v
                break
    return plan


def elide_broadcasts(code: list[Instr], results: tuple[int, ...], types: dict[int, Any],
                     broadcast: Callable[[Instr], bool],
                     elementwise: Callable[[Instr], bool]) -> tuple[list[Instr], dict[int, int]]:
    """``u(broadcast(x), y) = u(x, y)`` for an elementwise NumPy ufunc ``u`` when ``y`` has the
    result's type: NumPy broadcasts by itself. A broadcast whose every reader is such a ``u`` (and
    which is not a result) is removed and its readers read ``x``. ``types`` gives the type of the
    values whose type is known."""
    readers: dict[int, list[Instr]] = {}
    for ins in code:
        for v in set(ins.ins):
            readers.setdefault(v, []).append(ins)
    alias: dict[int, int] = {}

    def implicit(reader: Instr, v: int) -> bool:
        full = types.get(reader.outs[0])
        return elementwise(reader) and full is not None and any(
            w != v and w not in alias and types.get(w) == full for w in reader.ins)

    for ins in code:
        if broadcast(ins) and (out := ins.outs[0]) not in results and out in readers and all(
                implicit(r, out) for r in readers[out]):
            alias[out] = ins.ins[0]
    kept = [Instr(i.kind, i.outs, tuple(alias.get(v, v) for v in i.ins), i.op)
            for i in code if not (i.outs and i.outs[0] in alias)]
    return kept, alias
