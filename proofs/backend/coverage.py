"""The backend's suite quality: every primitive's JVP rule and every linear primitive's transpose rule
fires on the generated cases (``backend.coverage.every_rule_fires``), and what the generators produce
(``python -m proofs --paper backend --coverage`` prints it): arrays of several ranks with size-1 axes,
ties where they matter, and calls of transformed functions with the arguments users pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import backend
import backend.numpy as bnp
import backend.primitives as P
import backend.structural as S
from backend import checks
from backend.api import clear_cache
from backend.pytree import flatten
from backend.strategies import CONSTANT, GENERATORS, Case, applications
from backend.strategies_programs import Call, Point, calls
from proofs.backend import YOLO
from proofs.backend.arrays import every
from proofs.backend.second_order import SECOND, loss_of
from proofs.quality import distribution, every_rule_fires, sample

DRAWN = list(GENERATORS)


def exercise(samples: int = 1) -> None:
    """Each primitive's drawn cases through J (``jvp``), T (``vjp``, then its cotangent applied), T
    twice (the transposes of the transposes: ``wgradL``, ``scatter_alongL`` …) and J of the embedded
    gradient (second order), with the caches emptied first, so that every program is transformed anew."""
    clear_cache()
    for cases in sample(every(DRAWN), samples):
        for case in cases:
            f, xs = checks.primitive_function(case)
            backend.jvp(f, xs, checks.tangents_for(xs))
            if case.prim in CONSTANT:
                continue
            out, f_vjp = backend.vjp(f, *xs)
            f_vjp(np.ones_like(out))
            checks.involution_gap(f, xs)
            if case.prim in SECOND:  # J of the embedded gradient: the helpers' rules and the readings
                loss, floats = loss_of(case)
                grad = backend.grad(loss, argnums=tuple(range(len(floats))))
                backend.jvp(grad, tuple(floats), tuple(checks.tangents_for(floats)))
    third_order_scans()


def third_order_scans() -> None:
    """grad of grad of grad through a scan of several steps, each way: the derivative scans' own
    helpers (``scan_lin_prev``) are differentiated too (the drawn cases may have a single step)."""
    rng = np.random.default_rng(5)
    a, x = rng.uniform(0.2, 0.9, (2, 4, 3)), rng.standard_normal((2, 4, 3))
    for reverse in (False, True):
        def loss(s: Any, reverse: bool = reverse) -> Any:
            return bnp.sum(bnp.sin(bnp.linear_scan(a * s, x * s, reverse=reverse)))

        backend.grad(backend.grad(backend.grad(loss)))(np.float64(0.8))


every_rule_fires("backend", YOLO, "P3, P8 (arrays)", exercise)


# -- what the generators produce --------------------------------------------------------------------

def _floats(case: Case) -> list[Any]:
    return [a for a in case.args if a.dtype.kind == "f"]


def _tied(case: Case) -> bool:
    return any(a.size > 1 and np.unique(a).size < a.size for a in _floats(case))


distribution("backend", "per-primitive cases", applications(), {
    "non-scalar": lambda c: any(a.ndim > 0 for a in c.args),
    "rank ≥ 2": lambda c: any(a.ndim >= 2 for a in c.args),
    "a size-1 axis (it broadcasts)": lambda c: any(1 in a.shape for a in c.args),
    "has a tie (equal elements)": _tied,
})

EXTREMA = (S.reduce_max_p, S.reduce_min_p, P.maximum_p, P.minimum_p, S.argmax_p, S.argmin_p, S.argsort_p,
           P.abs_p)


def _groups_tie(case: Case) -> int:
    axes = case.params.get("axes", (case.params["axis"],) if "axis" in case.params else ())
    return checks.ties(case.args[0], axes) if axes else 1


distribution("backend", "cases of max, min (reduced and elementwise), argmax, argmin, argsort, abs",
             applications(EXTREMA), {
                 "has a tie (or abs at 0)": lambda c: _tied(c) or bool(c.prim is P.abs_p and np.any(
                     c.args[0] == 0)) or bool(len(c.args) == 2 and np.any(c.args[0] == c.args[1])),
                 "k ≥ 2 tied extrema in a reduced group": lambda c: _groups_tie(c) >= 2,
                 "k ≥ 3 tied extrema in a reduced group": lambda c: _groups_tie(c) >= 3,
             })


def _leaves(call: Call) -> list[Any]:
    return flatten(call.args)[0]


def _nodes(call: Call, kind: type) -> bool:
    def walk(tree: Any) -> bool:
        if isinstance(tree, kind):
            return True
        children = tree.values() if isinstance(tree, dict) else tree if isinstance(tree, tuple | list) else ()
        return any(walk(c) for c in children)

    return any(walk(a) for a in call.args)


distribution("backend", "calls of transformed functions", calls(), {
    "grad or value_and_grad": lambda c: c.how in ("grad", "value_and_grad"),
    "jvp": lambda c: c.how == "jvp",
    "vjp": lambda c: c.how == "vjp",
    "jit": lambda c: c.how == "jit",
    "a Python float argument": lambda c: any(type(x) is float for x in _leaves(c)),
    "a Python int argument": lambda c: any(type(x) is int for x in _leaves(c)),
    "a NumPy scalar argument": lambda c: any(isinstance(x, np.generic) for x in _leaves(c)),
    "a non-scalar array argument": lambda c: any(np.ndim(x) > 0 for x in _leaves(c)),
    "float32 (under jit)": lambda c: any(np.asarray(x).dtype == np.float32 for x in [*_leaves(c), c.closure]),
    "has a None leaf": lambda c: _nodes(c, type(None)),
    "namedtuple": lambda c: _nodes(c, Point),
    "a dict": lambda c: _nodes(c, dict),
    "argnums an int": lambda c: isinstance(c.argnums, int),
    "the global rebound between the calls": lambda c: c.rebound is not c.captured,
})
