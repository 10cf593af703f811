"""The executor: compile a Linear A program once into straight-line Python over NumPy calls.

Each function of the program becomes one generated Python function: a flat schedule with one
NumPy call per primitive (parameters bound at compile time), values in local variables, and a
``del`` after each value's last use so that memory is released as early as the schedule allows.
Before code is generated, two rewrites run on the flattened instructions:

* zeros propagate through linear code (a linear map sends 0 to 0: ``L(; 0) = 0``, ``0 ⊕ v = v``,
  ``s ⊙ 0 = 0``), which removes the tangent work of constants and integer inputs;
* dead instructions are removed (every primitive is pure; ``drop`` evaluates nothing).

A compiled program is called with arrays and returns arrays; nothing is traced or checked again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from backend.lprims import DIRECT
from backend.ltypes import ArrayT, ConstRef
from calculi.core.errors import StuckError
from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.primitives import LADD, impl_rules, params_dict
from calculi.linear_ad.syntax import (
    Block,
    Call,
    Drop,
    Dup,
    Expr,
    FuncDef,
    LetB,
    Lit,
    LVar,
    Prim,
    Program,
    Ret,
    Tup,
    TupL,
    UnpackB,
    UnpackLB,
    Var,
    Zero,
)


class _Numpy:
    """The scalar domain the paper's primitives see here: NumPy, literals as weak Python floats."""

    name = "numpy"
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    exp = staticmethod(np.exp)

    @staticmethod
    def literal(text: str) -> float:
        return float(text)


DOMAIN = _Numpy()


@dataclass(slots=True)
class Instr:
    """``outs = op(ins)``; ``kind`` is prim, const, zero, lit, alias, tup, untup or call."""

    kind: str
    outs: tuple[int, ...]
    ins: tuple[int, ...]
    op: Any = None


class _Flatten:
    """A function body as a list of instructions over value numbers."""

    def __init__(self, typing: Typing) -> None:
        self.typing = typing
        self.code: list[Instr] = []
        self.env: dict[int, int] = {}
        self.count = 0

    def new(self) -> int:
        self.count += 1
        return self.count

    def emit(self, kind: str, ins: tuple[int, ...], op: Any = None, n_out: int = 1) -> tuple[int, ...]:
        outs = tuple(self.new() for _ in range(n_out))
        self.code.append(Instr(kind, outs, ins, op))
        return outs

    def expr(self, e: Expr) -> tuple[int, ...]:
        """The values of ``e`` (non-linear then linear), as value numbers."""
        if isinstance(e, Var | LVar):
            return (self.env[e.name],)
        if isinstance(e, Lit):
            return self.emit("lit", (), float(e.text))
        if isinstance(e, Zero):
            return self.emit("zero", (), e.type)
        if isinstance(e, Ret):
            return tuple(self.env[v.name] for v in e.vars) + tuple(self.env[v.name] for v in e.lvars)
        if isinstance(e, Tup | TupL):
            vs = e.vars if isinstance(e, Tup) else e.lvars
            return self.emit("tup", tuple(self.env[v.name] for v in vs))
        if isinstance(e, Prim):
            ins = tuple(x for a in (*e.args, *e.largs) for x in self.expr(a))
            if e.prim.name == "const":
                ref = params_dict(e.params)["value"]
                return self.emit("const", (), ref)
            return self.emit("prim", ins, e)
        if isinstance(e, Dup):
            (v,) = self.expr(e.arg)
            return v, v
        if isinstance(e, Drop):
            return ()
        if isinstance(e, Call):
            ins = tuple(self.env[v.name] for v in e.args) + tuple(self.env[v.name] for v in e.largs)
            t = self.typing.type_of(e)
            return self.emit("call", ins, e.func, len(t.nonlin) + len(t.lin))
        if isinstance(e, Block):
            for b in e.bindings:
                if isinstance(b, LetB):
                    values = self.expr(b.rhs)
                    for x, v in zip((*b.binders, *b.lbinders), values, strict=True):
                        self.env[x.name] = v
                else:
                    assert isinstance(b, UnpackB | UnpackLB)
                    names = b.binders if isinstance(b, UnpackB) else b.lbinders
                    outs = self.emit("untup", (self.env[b.var.name],), None, len(names))
                    for x, v in zip(names, outs, strict=True):
                        self.env[x.name] = v
            return self.expr(e.result)
        raise StuckError(f"the executor cannot run {type(e).__name__}", e.span)


def _propagate_zeros(code: list[Instr]) -> tuple[list[Instr], dict[int, int]]:
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
                zero[ins.outs[0]] = zero[lin[0]] if p.prim is LADD else _ZeroOf(p)
                out.append(Instr("zero", ins.outs, (), zero[ins.outs[0]]))
                continue
            if p.prim is LADD and zeros:
                alias[ins.outs[0]] = next(a for a in lin if a not in zero)
                continue
        out.append(ins)
    return out, alias


class _ZeroOf:
    """The type of a linear primitive's result, worked out when the zero is materialised."""

    def __init__(self, p: Prim) -> None:
        self.prim = p


def _sink(code: list[Instr], results: tuple[int, ...]) -> list[Instr]:
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


def _dead_code(code: list[Instr], results: tuple[int, ...]) -> list[Instr]:
    live = set(results)
    kept: list[Instr] = []
    for ins in reversed(code):
        if ins.kind == "call" or any(o in live for o in ins.outs):
            kept.append(ins)
            live.update(ins.ins)
    kept.reverse()
    return kept


class Compiled:
    """A program compiled to Python functions; ``run(name, args, largs, feeds)`` calls one."""

    def __init__(self, program: Program, typing: Typing | None = None) -> None:
        self.typing = typing if typing is not None else check_program(program)
        self.functions: dict[str, Callable[..., tuple[Any, ...]]] = {}
        self.sources: dict[str, str] = {}
        self.steps: dict[str, int] = {}
        for d in program.defs:
            self._compile(d)

    def run(self, name: str, args: Sequence[Any], largs: Sequence[Any] = (),
            feeds: Sequence[Any] = ()) -> tuple[Any, ...]:
        return self.functions[name](feeds, *args, *largs)

    def _compile(self, d: FuncDef) -> None:
        flat = _Flatten(self.typing)
        params = []
        for b in (*d.params, *d.lparams):
            v = flat.new()
            flat.env[b.name] = v
            params.append(v)
        results = flat.expr(d.body)
        folded, alias = _propagate_zeros(flat.code)
        results = tuple(alias.get(r, r) for r in results)
        code = _sink(_dead_code(folded, results), results)
        namespace: dict[str, Any] = {}
        lines = [f"def {_py(d.name)}(feeds, {', '.join(f'v{p}' for p in params)}):"]
        last_use: dict[int, int] = {}
        for i, ins in enumerate(code):
            for v in ins.ins:
                last_use[v] = i
        for r in results:
            last_use[r] = len(code)
        for i, ins in enumerate(code):
            lines.append("    " + self._line(ins, namespace, d))
            dead = sorted({v for v in ins.ins if last_use.get(v) == i})
            dead += [o for o in ins.outs if o not in last_use]
            if dead:
                lines.append("    del " + ", ".join(f"v{v}" for v in sorted(set(dead))))
        zero_results = [r for r in results if r not in {o for ins in code for o in ins.outs}
                        and r not in params]
        if zero_results:
            raise StuckError(f"{d.name}: a result is never computed")
        lines.append(f"    return ({''.join(f'v{r}, ' for r in results)})")
        source = "\n".join(lines)
        exec(compile(source, f"<compiled {d.name}>", "exec"), namespace)
        self.functions[d.name] = namespace[_py(d.name)]
        self.sources[d.name] = source
        self.steps[d.name] = sum(1 for ins in code if ins.kind == "prim")

    def _line(self, ins: Instr, ns: dict[str, Any], d: FuncDef) -> str:
        outs = ", ".join(f"v{o}" for o in ins.outs)
        args = ", ".join(f"v{i}" for i in ins.ins)
        key = f"k{len(ns)}"
        if ins.kind == "prim":
            p: Prim = ins.op
            direct = DIRECT.get(p.prim)
            if direct is None:
                ns[key] = functools.partial(impl_rules[p.prim], DOMAIN, **params_dict(p.params))
            elif p.params:
                ns[key] = functools.partial(direct, **params_dict(p.params))
            else:
                ns[key] = direct
            return f"{outs} = {key}({args})"
        if ins.kind == "const":
            ref: ConstRef = ins.op
            if ref.slot is not None:
                return f"{outs} = feeds[{ref.slot}]"
            ns[key] = ref.value
            return f"{outs} = {key}"
        if ins.kind == "zero":
            ns[key] = _zeros(ins.op, self.typing)
            return f"{outs} = {key}"
        if ins.kind == "lit":
            return f"{outs} = {ins.op!r}"
        if ins.kind == "tup":
            return f"{outs} = ({args},)" if args else f"{outs} = ()"
        if ins.kind == "untup":
            if not ins.outs:
                return "pass"
            return f"{outs}, = {args}" if len(ins.outs) == 1 else f"{outs} = {args}"
        if ins.kind == "call":
            ns[key] = functools.partial(_late_call, self, ins.op)
            comma = "," if len(ins.outs) == 1 else ""
            return f"{outs}{comma} = {key}(feeds, {args})"
        raise StuckError(f"unknown instruction {ins.kind}")


def _late_call(compiled: Compiled, name: str, feeds: Any, *args: Any) -> tuple[Any, ...]:
    return compiled.functions[name](feeds, *args)


def _zeros(t: Any, typing: Typing) -> Any:
    ty = typing.type_of(t.prim).lin[0] if isinstance(t, _ZeroOf) else t
    if isinstance(ty, ArrayT):
        z = np.zeros(ty.shape, ty.dtype)
        z.setflags(write=False)
        return z
    return ty.zero(DOMAIN)


def _py(name: str) -> str:
    return "fn_" + "".join(ch if ch.isalnum() else "_" for ch in name)
