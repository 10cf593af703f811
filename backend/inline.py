"""Running a stage inside an outer trace: how transformations nest.

When ``grad(f)`` is called on traced values (it is itself being traced, by ``jvp``, ``grad``, ``jit``
…), its stages cannot run on NumPy. They run here instead: the stage program is embedded
(``calculi.linear_ad.embed``: linear variables become ordinary ones, each linear primitive its
ordinary reading) and interpreted with ``bind``, so that each primitive of the derivative program is
recorded by the outer trace. The outer program is then an ordinary program of the calculus, which J,
U and T differentiate again::

    grad(grad f)(x) = T(U(J(⌊T(U(J f))⌋)))  at x

The interpreter reads the program's constants: a fed ``const`` takes the value of its feed slot (an
array, or a traced value of the outer trace), a baked one its array. A literal meets the array it is
applied with as a constant of that array's dtype, broadcast to its shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from backend.dispatch import Traced, bind
from backend.ltypes import ConstRef
from backend.primitives import const_p
from backend.pytree import flatten, unflatten
from backend.structural import broadcast_p
from calculi.core.errors import UsageError
from calculi.linear_ad.embed import embed_program, is_ordinary
from calculi.linear_ad.syntax import (
    Block,
    Call,
    Drop,
    Expr,
    LetB,
    Lit,
    Prim,
    Program,
    Ret,
    Tup,
    UnpackB,
    Var,
)


def ordinary(program: Program) -> Program:
    """The program itself when it has no linear part, else its embedding."""
    return program if is_ordinary(program) else embed_program(program)


def is_traced_tree(values: Sequence[Any]) -> bool:
    """Whether a value, or a value inside a tuple (a tape), is traced."""
    return any(isinstance(v, Traced) or (isinstance(v, tuple) and is_traced_tree(v)) for v in values)


class Interpreter:
    """Evaluate an ordinary program with ``bind``: on arrays it computes, on traced values it traces."""

    def __init__(self, program: Program, feeds: Sequence[Any]) -> None:
        self.program = program
        self.feeds = feeds

    def call(self, name: str, args: Sequence[Any]) -> list[Any]:
        d = self.program.get(name)
        if d is None:
            raise UsageError(f"no function {name} in the derivative program")
        if d.lparams or len(d.params) != len(args):
            raise UsageError(f"{name} takes {len(d.params)} ordinary arguments, got {len(args)}")
        env = {b.name: v for b, v in zip(d.params, args, strict=True)}
        return self.expr(d.body, env)

    def one(self, e: Expr, env: dict[int, Any]) -> Any:
        out = self.expr(e, env)
        if len(out) != 1:
            raise UsageError(f"an operand has {len(out)} values")
        return out[0]

    def expr(self, e: Expr, env: dict[int, Any]) -> list[Any]:
        if isinstance(e, Var):
            return [env[e.name]]
        if isinstance(e, Lit):
            return [float(e.text)]
        if isinstance(e, Ret):
            return [env[v.name] for v in e.vars]
        if isinstance(e, Tup):
            return [tuple(env[v.name] for v in e.vars)]
        if isinstance(e, Prim):
            return [self.prim(e, env)]
        if isinstance(e, Drop):
            return []
        if isinstance(e, Call):
            return self.call(e.func, [env[v.name] for v in e.args])
        if isinstance(e, Block):
            local = dict(env)
            for b in e.bindings:
                if isinstance(b, LetB):
                    values = self.expr(b.rhs, local)
                    local.update(zip((x.name for x in b.binders), values, strict=True))
                elif isinstance(b, UnpackB):
                    local.update(zip((x.name for x in b.binders), local[b.var.name], strict=True))
                else:
                    raise UsageError(f"{type(b).__name__} in an ordinary program")
            return self.expr(e.result, local)
        raise UsageError(f"cannot run {type(e).__name__} inside a trace")

    def prim(self, e: Prim, env: dict[int, Any]) -> Any:
        params = dict(e.params)
        if e.prim is const_p:
            ref = params["value"]
            assert isinstance(ref, ConstRef)
            return self.feeds[ref.slot] if ref.slot is not None else ref.value
        args = [self.one(a, env) for a in e.args]
        if any(isinstance(a, float) for a in args):
            args = _literals(args)
        return bind(e.prim, *args, **params)


def _literals(args: list[Any]) -> list[Any]:
    """Literals as constants of the dtype and shape of the first array they meet."""
    anchor = next((a for a in args if not isinstance(a, float)), None)
    if anchor is None:
        return args
    dtype, shape = np.dtype(anchor.dtype), tuple(anchor.shape)
    out: list[Any] = []
    for a in args:
        if isinstance(a, float):
            c = np.asarray(a, dtype if dtype.kind in "fc" else np.float64)
            if not shape:
                out.append(c)
            elif isinstance(anchor, Traced):
                out.append(anchor.trace.process(broadcast_p, (c,), {"shape": shape}))
            else:
                out.append(np.broadcast_to(c, shape))
        else:
            out.append(a)
    return out


def run(program: Program, name: str, args: Sequence[Any], feeds: Sequence[Any]) -> list[Any]:
    """``name`` of ``program`` (embedded first if it has a linear part) on ``args``."""
    return Interpreter(ordinary(program), feeds).call(name, list(args))


def standins(args: Sequence[Any]) -> tuple[Any, ...]:
    """``args`` with each traced leaf (a transformation called inside another's trace) replaced by
    zeros of its type: the trace depends only on types, every such leaf being a parameter or a feed."""
    out = []
    for a in args:
        leaves, tree = flatten(a)
        if any(isinstance(x, Traced) for x in leaves):
            a = unflatten(tree, [_standin(x) if isinstance(x, Traced) else x for x in leaves])
        out.append(a)
    return tuple(out)


def _standin(x: Traced) -> Any:
    if getattr(x, "weak", False) and x.shape == ():
        return 0.0 if x.dtype.kind == "f" else 0j
    return np.zeros(x.shape, x.dtype)


def traced_integers(args: Sequence[Any]) -> bool:
    """An integer or boolean leaf that is traced must be a feed too (as under ``jit``)."""
    return any(isinstance(x, Traced) and x.dtype.kind not in "fc" for a in args for x in flatten(a)[0])


def zeros_of(v: Any) -> Any:
    return np.zeros(v.shape, v.dtype) if isinstance(v, Traced) else np.zeros_like(np.asarray(v))
