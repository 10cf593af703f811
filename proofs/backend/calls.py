"""Reusing a trace never gives a stale answer: a transformed function called again and again, with
float arguments changing and what it reads besides its arguments rebound or changed in place, gives
at every call the value and gradient of the function as it is then.

The oracle is the analytic gradient; the mutants restore the bugs this property was written for (a
float argument baked into the program, a guard that is not checked, a captured array baked into a
compilation that other traces share).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

import backend
import backend.numpy as bnp
from backend import guards, tracing
from backend.ltypes import ArrayT, ConstRef
from backend.numpy import _methods as methods
from backend.primitives import ArrayType, const_p
from backend.strategies import seeds
from calculi.core.mutants import patch
from calculi.linear_ad.syntax import Prim, Var
from proofs.backend import YOLO, mutant
from proofs.registry import register_mutants, theorem

STATE: dict[str, Any] = {"t": 1.0, "a": np.zeros(3)}
"""Read by the functions under test through a global (a temperature ``t`` and an array ``a``)."""


class Holder:
    """An object whose attribute the function reads (``self.b`` in a model)."""

    def __init__(self, b: Any) -> None:
        self.b = b


HOLDER = Holder(np.zeros(3))


def session_function(c: Any) -> tuple[Callable[..., Any], Callable[[Any], None]]:
    """``f(w, s, x) = Σ tanh(w·s + x·c)·t + Σ w·(a + b)``, with ``s`` a float argument, ``c`` a closure
    cell, ``b`` an attribute of an object, and the function that rebinds ``c``."""
    holder = HOLDER

    def f(w: Any, s: Any, x: Any) -> Any:
        return bnp.sum(bnp.tanh(w * s + x * c) * STATE["t"]) + bnp.sum(w * (STATE["a"] + holder.b))

    def rebind(value: Any) -> None:
        nonlocal c
        c = value

    return f, rebind


ACTIONS = ("call", "rebind", "in_place", "global", "closure", "attribute")
sessions = st.lists(st.tuples(st.sampled_from(ACTIONS), st.floats(-2, 2, allow_nan=False), st.booleans()),
                    min_size=2, max_size=8)


@theorem("backend.calls.never_stale", paper=YOLO, section="§ tracing", label="derived",
         statement="a transformed function called again and again (a float argument changing, the arrays "
                   "and numbers it reads besides its arguments rebound or changed in place, an attribute "
                   "of an object it holds set anew, a new closure per step) gives at every call the value "
                   "and gradient of the function as it is then "
                   "(the analytic ones, to 1e-12)",
         given={"steps": sessions, "seed": seeds}, max_examples=15)
def _(steps: list[tuple[str, float, bool]], seed: int) -> None:
    rng = np.random.default_rng(seed)
    w, x, c = (rng.standard_normal(3) for _ in range(3))
    STATE.update(t=1.0, a=np.zeros(3))
    HOLDER.b = np.zeros(3)
    f, rebind = session_function(c)
    for action, number, flag in steps:
        if action == "rebind":
            c = rng.standard_normal(3)
            rebind(c)
        elif action == "in_place":
            c[:] = number
            STATE["a"][:] = number
        elif action == "global" and flag:
            STATE["t"] = number
        elif action == "global":
            STATE["a"] = np.full(3, number)
        elif action == "closure":
            f, rebind = session_function(c)
        elif action == "attribute":
            HOLDER.b = np.full(3, number)
        s: Any = number if flag else np.float64(number)
        value, g = backend.value_and_grad(f)(w, s, x)
        h = np.tanh(w * s + x * c)
        t, a = STATE["t"], STATE["a"] + HOLDER.b
        np.testing.assert_allclose(value, np.sum(h * t) + np.sum(w * a), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(g, (1 - h * h) * s * t + a, rtol=1e-12, atol=1e-12)


SCALARS_AND_ARRAYS = {
    "a Python float": 0.75, "a Python int": 3, "np.float64": np.float64(0.75), "np.float32": np.float32(0.75),
    "np.int64": np.int64(3), "f64[2]": np.array([0.5, -1.25]), "f32[2]": np.array([0.5, -1.25], np.float32),
    "i8[2]": np.array([2, -3], np.int8)}
EXPRESSIONS: dict[str, Callable[[Any, Any, Any], Any]] = {
    "x * 2 * y": lambda lib, x, y: x * 2 * y,
    "add(x, y)": lambda lib, x, y: lib.add(x, y),
    "multiply(-x, y * 0.5)": lambda lib, x, y: lib.multiply(-x, y * 0.5)}


@theorem("backend.calls.promotion_is_numpys", paper=YOLO, section="§ tracing", label="derived",
         statement="for x and y each a Python float or int, a NumPy scalar (float64, float32, int64) or an "
                   "array (float64, float32, int8): Python's operators on them (x * 2 * y) and NumPy's "
                   "functions (add(x, y), multiply(-x, y * 0.5)) give NumPy's dtype and value, eagerly and "
                   "under jit (all in one trace), where Python scalars are traced stand-ins that stay weakly "
                   "typed")
def _() -> None:
    names, values = list(SCALARS_AND_ARRAYS), list(SCALARS_AND_ARRAYS.values())
    cases = [(e, a, b) for e in EXPRESSIONS for a in range(len(values)) for b in range(len(values))]

    def every_case(lib: Any, *xs: Any) -> list[Any]:
        return [EXPRESSIONS[e](lib, xs[a], xs[b]) for e, a, b in cases]

    wrong = []
    results = zip(every_case(np, *values), every_case(bnp, *values),
                  backend.jit(lambda *xs: every_case(bnp, *xs))(*values), strict=True)
    for (e, a, b), (want, eager, jitted) in zip(cases, results, strict=True):
        want = np.asarray(want)
        for how, got in (("eagerly", np.asarray(eager)), ("under jit", np.asarray(jitted))):
            if got.dtype != want.dtype or not np.allclose(got, want, rtol=1e-6):
                wrong.append(f"{e} for x {names[a]}, y {names[b]} {how}: {got.dtype} {got}, NumPy's "
                             f"{want.dtype} {want}")
    assert not wrong, "; ".join(wrong[:4]) + f" ({len(wrong)} in all)"


# -- mutants: the bugs restored ------------------------------------------------------------------------

def _floats_baked() -> Any:
    """A float argument traced as a constant, while the cache still keys it by its dtype only."""
    return patch(tracing, "fed", lambda leaf, feed_ints: isinstance(leaf, np.ndarray))


def _guard_ignored() -> Any:
    return patch(guards.Guard, "holds", lambda self: True)


def _captured_baked() -> Any:
    """Arrays met while tracing baked into the program, which other traces then share."""

    def constant(self: tracing.Builder, value: Any) -> Var:
        if id(value) not in self.consts:
            array = np.asarray(value)
            ref = ConstRef(ArrayT.of(ArrayType.of(array)), array)
            self.consts[id(value)] = self.bind(Prim(const_p, (), (), (("value", ref),)), "c",
                                               ArrayType.of(array))
            self.kept_alive.append(value)
        return self.consts[id(value)]

    return patch(tracing.Builder, "constant", constant)


def _numpy_scalars_weak() -> Any:
    """A NumPy scalar argument (``np.float64(2)``, a ``float`` too) typed weakly, like a Python float:
    meeting an f32 array it computes in f32, where NumPy computes in f64."""
    return patch(tracing, "weakly_typed", lambda leaf: isinstance(leaf, float | complex | int)
                 and not isinstance(leaf, bool))


def _operators_strong() -> Any:
    """Arithmetic on the traced stand-ins of Python scalars is no longer weak (``t * 3`` meeting an f32
    array makes it f64)."""
    return patch(methods, "_stays_weak", lambda out, *operands: out)


register_mutants([
    mutant("backend.numpy_scalars_weak", "a NumPy scalar argument is typed weakly, like a Python float",
           _numpy_scalars_weak),
    mutant("backend.operators_strong", "Python arithmetic on traced Python scalars gives strong results",
           _operators_strong),
    mutant("backend.floats_baked", "a float argument is baked into the program at its first value",
            _floats_baked),
    mutant("backend.guard_ignored", "a trace is reused without checking what the function reads",
            _guard_ignored),
    mutant("backend.captured_baked", "captured arrays are baked into a compilation other traces share",
            _captured_baked),
])
