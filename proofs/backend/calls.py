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


register_mutants([
    mutant("backend.floats_baked", "a float argument is baked into the program at its first value",
            _floats_baked),
    mutant("backend.guard_ignored", "a trace is reused without checking what the function reads",
            _guard_ignored),
    mutant("backend.captured_baked", "captured arrays are baked into a compilation other traces share",
            _captured_baked),
])
