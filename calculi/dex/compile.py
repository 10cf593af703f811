"""A compiler of Dex to NumPy: a parallel ``for`` becomes array operations over a new axis.

The body of a parallel ``for i:n. e`` is compiled once, with ``i`` bound to ``arange(|n|)`` along a
fresh *loop axis*; every value carries the loop axes it varies along (``Arr.axes``, outermost
first), and operations broadcast them against each other, as ``vmap`` does. So ``for`` over an
elementwise body is one elementwise operation; ``x.i`` with ``i`` the loop's own index is a view
of ``x``, at an index affine in the loop indices (``x.(i + k + 1)``) a strided view, otherwise a
gather (``take_along_axis``); ``sum (for j. a * b)`` is one ``einsum``, or ``np.correlate`` when
one factor is a sliding window (a convolution); ``sum`` is a reduction over the table's axis.
Accumulation ``r += v`` sums ``v`` over the loops inside the handler, and ``r!i += v`` scatters
(``bincount``, with weights or counts, into a vector; ``np.add.at`` otherwise). A ``for`` with
``State`` in its body is sequential: a running sum ``s := get s + v; get s`` becomes a ``cumsum``
(same order of additions as the loop), anything else runs as a Python loop over the same
operations. The modules: ``compile_eval`` (expressions), ``compile_loops`` (loops, reads,
handlers), ``compile_rules`` (the whole-loop NumPy calls), ``arrays`` (values over loop axes).
What the compiler does not cover (effects under a branch that depends on a loop index, a run-time
error in a lane such a branch may drop, a table of functions, an integer that may overflow 62
bits, a loop nest of more than ``MAX_LANES`` iterations) is run by the reference interpreter
instead, whole: ``Compiled.mode`` says which.

Reals are float64 here, where the interpreter keeps literals exact; the compiler theorem compares
the two within a relative 1e-9. A branch of an ``if`` that depends on a loop index is evaluated on
every lane with floating-point errors ignored; the lanes it does not select are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from calculi.core.errors import StuckError
from calculi.dex.arrays import (
    Arr,
    Idx,
    Unsupported,
    from_numpy,
    to_numpy,
)
from calculi.dex.check import Checked, check
from calculi.dex.compile_eval import Compiler
from calculi.dex.semantics import evaluate
from calculi.dex.syntax import (
    Expr,
    FunT,
)
from calculi.dex.values import Closure

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
        result = Compiler(self.checked).eval(self.expr, {})
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
        return to_numpy(value, ty)


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
