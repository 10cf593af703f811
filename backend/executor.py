"""The executor: compile a Linear A program once into straight-line Python over NumPy calls.

Each function of the program becomes one generated Python function: a flat schedule with one
NumPy call per primitive (parameters bound at compile time), values in local variables, and a
``del`` after each value's last use so that memory is released as early as the schedule allows.
Before code is generated, the rewrites of ``backend.schedule`` run on the flattened instructions
(zeros propagated, common subexpressions merged, dead code removed, non-linear work sunk to its
first use), and elementwise primitives write into the buffers of arguments that die there.

A compiled program is called with arrays and returns arrays; nothing is traced or checked again.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from backend.lprims import DIRECT, FRESH, SPECIALISE
from backend.ltypes import ArrayT, ConstRef
from backend.primitives import ArrayType
from backend.schedule import (
    Instr,
    ZeroOf,
    dead_code,
    elide_broadcasts,
    merge_common,
    plan_buffers,
    propagate_zeros,
    sink,
)
from backend.structural import broadcast_p, broadcastL_p
from calculi.core.errors import StuckError
from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.primitives import impl_rules, params_dict
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
from calculi.linear_ad.types import Type

OUT_MIN_SIZE = 256
"""The smallest result an elementwise primitive writes into a dying buffer. Below it NumPy's own
allocation is as cheap as ``out=`` (which costs about 1 µs more on a one-element array); above it
``out=`` saves 5–10% at 10^3 elements and about 20% from 10^5 (float32, this machine)."""


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


class Compiled:
    """A program compiled to Python functions; ``run(name, args, largs, feeds)`` calls one."""

    def __init__(self, program: Program, typing: Typing | None = None,
                 out_min_size: int | None = OUT_MIN_SIZE) -> None:
        """``out_min_size``: the smallest result written into a dying buffer (None: never)."""
        self.typing = typing if typing is not None else check_program(program)
        self.out_min_size = out_min_size
        self.functions: dict[str, Callable[..., tuple[Any, ...]]] = {}
        self.sources: dict[str, str] = {}
        self.steps: dict[str, int] = {}
        """Per function: the primitives scheduled."""
        self.reused: dict[str, int] = {}
        """Per function: the primitives that write into a dying argument's buffer."""
        for d in program.defs:
            self._compile(d)

    def run(self, name: str, args: Sequence[Any], largs: Sequence[Any] = (),
            feeds: Sequence[Any] = ()) -> tuple[Any, ...]:
        return self.functions[name](feeds, *args, *largs)

    def listing(self, name: str) -> str:
        """The generated code of ``name`` with each bound callable shown by name and parameters."""
        ns = self.functions[name].__globals__
        return re.sub(r"\bk\d+\b", lambda m: _label(ns[m.group()]), self.sources[name])

    def _compile(self, d: FuncDef) -> None:
        flat = _Flatten(self.typing)
        params = []
        for b in (*d.params, *d.lparams):
            v = flat.new()
            flat.env[b.name] = v
            params.append(v)
        results = flat.expr(d.body)
        code = flat.code
        for rewrite in (propagate_zeros, merge_common):
            code, alias = rewrite(code)
            results = tuple(alias.get(r, r) for r in results)
        code = sink(dead_code(code, results), results)
        types = self._value_types(d, params, code)
        code, alias = elide_broadcasts(code, results, types, self._broadcasts, self._ufunc)
        results = tuple(alias.get(r, r) for r in results)
        into = plan_buffers(code, results, self._fresh_type, self._takes_out) if self.out_min_size else {}
        namespace: dict[str, Any] = {}
        lines = [f"def {_py(d.name)}(feeds, {', '.join(f'v{p}' for p in params)}):"]
        last_use: dict[int, int] = {}
        for i, ins in enumerate(code):
            for v in ins.ins:
                last_use[v] = i
        for r in results:
            last_use[r] = len(code)
        for i, ins in enumerate(code):
            lines.append("    " + self._line(ins, namespace, into.get(i)))
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
        self.reused[d.name] = len(into)

    def _result(self, e: Expr) -> Type:
        """The type of a primitive application's one result, or of one of its arguments."""
        t = self.typing.type_of(e)
        (result,) = (*t.nonlin, *t.lin)
        return result

    def _fresh_type(self, ins: Instr) -> ArrayT | None:
        """The type of a result that is a new array (not 0-d: NumPy returns those as scalars)."""
        if ins.kind != "prim" or ins.op.prim not in FRESH:
            return None
        result = self._result(ins.op)
        return result if isinstance(result, ArrayT) and result.shape else None

    def _ufunc(self, ins: Instr) -> bool:
        """A NumPy ufunc with no parameters (it broadcasts, and writes into ``out=``)."""
        return ins.kind == "prim" and not ins.op.params and isinstance(DIRECT.get(ins.op.prim), np.ufunc)

    def _broadcasts(self, ins: Instr) -> bool:
        return ins.kind == "prim" and ins.op.prim in (broadcast_p, broadcastL_p)

    def _value_types(self, d: FuncDef, params: list[int], code: list[Instr]) -> dict[int, Any]:
        """The types of the parameters and of every primitive's result."""
        types: dict[int, Any] = dict(zip(params, (*d.param_types, *d.lparam_types), strict=True))
        types.update({ins.outs[0]: self._result(ins.op) for ins in code if ins.kind == "prim"})
        return types

    def _takes_out(self, ins: Instr) -> bool:
        """A NumPy ufunc with no parameters, on arrays large enough that ``out=`` pays."""
        if not self._ufunc(ins):
            return False
        t = self._fresh_type(ins)
        return t is not None and self.out_min_size is not None and t.size() >= self.out_min_size

    def _arg_types(self, p: Prim) -> tuple[ArrayType, ...]:
        scalar = ArrayType((), np.dtype(np.float64))  # a literal
        types = (self._result(a) for a in (*p.args, *p.largs))
        return tuple(t.array_type if isinstance(t, ArrayT) else scalar for t in types)

    def _line(self, ins: Instr, ns: dict[str, Any], into: int | None = None) -> str:
        outs = ", ".join(f"v{o}" for o in ins.outs)
        args = ", ".join(f"v{i}" for i in ins.ins)
        if into is not None:
            args += f", out=v{into}"
        key = f"k{len(ns)}"
        if ins.kind == "prim":
            p: Prim = ins.op
            direct = DIRECT.get(p.prim)
            if p.prim in SPECIALISE:
                ns[key] = SPECIALISE[p.prim](params_dict(p.params), self._arg_types(p))
            elif direct is None:
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


def _label(f: Any) -> str:
    if isinstance(f, functools.partial):
        inner = f.func.func if isinstance(f.func, functools.partial) else f.func
        params = ", ".join(f"{k}={v!r}" for k, v in f.keywords.items())
        return f"{getattr(inner, '__name__', 'call').strip('_')}[{params}]"
    if isinstance(f, np.ndarray):
        return f"const{list(f.shape)}"
    return str(getattr(f, "__name__", type(f).__name__)).strip("_")


def _late_call(compiled: Compiled, name: str, feeds: Any, *args: Any) -> tuple[Any, ...]:
    return compiled.functions[name](feeds, *args)


def _zeros(t: Any, typing: Typing) -> Any:
    ty = typing.type_of(t.prim).lin[0] if isinstance(t, ZeroOf) else t
    if isinstance(ty, ArrayT):
        z = np.zeros(ty.shape, ty.dtype)
        z.setflags(write=False)
        return z
    return ty.zero(DOMAIN)


def _py(name: str) -> str:
    return "fn_" + "".join(ch if ch.isalnum() else "_" for ch in name)
