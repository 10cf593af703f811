"""Second order on arrays: each drawn primitive's Hessian-vector product, by forward over reverse
(``jvp(grad f)``, the gradient program embedded and traced again) and by reverse over forward
(``grad ⟨jvp f, ·⟩``), against each other and against central differences of the gradient."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np

import backend
import backend.contractions as C
import backend.numpy as bnp
import backend.structural as S
from backend import checks
from backend.lprims import HELPER, KINDS, TANGENT
from backend.strategies import ANALYTIC, CONSTANT, GENERATORS, Case
from calculi.core.mutants import patch_entry
from calculi.linear_ad.embed import missing_rows, readings
from calculi.linear_ad.primitives import SCALE, jvp_rules
from calculi.linear_ad.syntax import Expr
from proofs.backend import YOLO, mutant
from proofs.backend.arrays import every, show_cases
from proofs.registry import register_mutants, theorem

FIRST_ORDER_ONLY = (S.reduce_prod_p,)
"""Primitives whose derivative helper has no JVP rule yet (``prod_others``): first order only."""
SECOND = [p for p in GENERATORS if p not in CONSTANT and p not in FIRST_ORDER_ONLY]
THIRD_ORDER_GAPS = ("prod_others",)


def loss_of(case: Case) -> tuple[Any, list[Any]]:
    f, xs = checks.primitive_function(case)
    out = np.asarray(f(*xs))
    w = np.random.default_rng(7).standard_normal(out.shape)

    def loss(*args: Any) -> Any:
        y = bnp.astype(f(*args), np.float64)
        return bnp.sum(y * y * w)

    return loss, [np.asarray(x, np.float64) for x in xs]


def hvp_routes(case: Case) -> tuple[list[Any], list[Any], list[Any], Any, list[Any]]:
    loss, xs = loss_of(case)
    nums = tuple(range(len(xs)))
    vs = checks.tangents_for(xs, seed=3)
    grad = backend.grad(loss, argnums=nums)
    over_reverse = list(backend.jvp(grad, tuple(xs), tuple(vs))[1])
    over_forward = list(backend.grad(lambda *a: backend.jvp(loss, a, vs)[1], argnums=nums)(*xs))
    return over_reverse, over_forward, xs, grad, vs


@theorem("backend.second_order.rows", paper=YOLO, section="Embed (arrays)", label="derived",
         statement="every linear array primitive has a non-linear reading (a row of embed.readings) and "
                   "every derivative helper a JVP rule, but for the third-order gaps "
                   f"{', '.join(THIRD_ORDER_GAPS)}")
def _() -> None:
    tangent = [p for p, kind in KINDS.items() if kind == TANGENT]
    assert not missing_rows(tangent), f"no reading: {missing_rows(tangent)}"
    helpers = sorted(p.name for p, kind in KINDS.items() if kind == HELPER and p not in jvp_rules)
    assert tuple(helpers) == THIRD_ORDER_GAPS, f"helpers without a JVP rule: {helpers}"


@theorem("backend.second_order.hvp", paper=YOLO, section="Hessian (arrays)", label="derived",
         statement="for L = Σ w ⊙ p(x̄)², jvp(grad L)(x̄ ; v̄) equals grad⟨jvp L(x̄ ; v̄)⟩ to 1e-9 relative, and "
                   "for analytic p the central difference of grad L along v̄ to 1e-5, for every drawn "
                   "primitive with a derivative",
         given={"cases": every(SECOND)}, show=show_cases, max_examples=1)
def _(cases: tuple[Case, ...]) -> None:
    for case in cases:
        fr, rf, xs, grad, vs = hvp_routes(case)
        for a, b in zip(fr, rf, strict=True):
            scale = 1e-9 * (1 + np.max(np.abs(b), initial=0))
            assert np.max(np.abs(np.asarray(a) - b), initial=0) <= scale, f"{case.show()}: routes differ"
        if case.prim not in ANALYTIC:
            continue
        eps = 1e-5
        up = grad(*(x + eps * v for x, v in zip(xs, vs, strict=True)))
        down = grad(*(x - eps * v for x, v in zip(xs, vs, strict=True)))
        for a, u, d in zip(fr, up, down, strict=True):
            fd = (np.asarray(u) - np.asarray(d)) / (2 * eps)
            gap = np.max(np.abs(np.asarray(a) - fd), initial=0)
            bound = 1e-5 * (1 + np.max(np.abs(fd), initial=0))
            assert gap <= bound, f"{case.show()}: central difference {gap:.3g}"


@contextmanager
def _without_einsum() -> Iterator[None]:
    old = readings.pop(C.einsumL_p)
    try:
        yield
    finally:
        readings[C.einsumL_p] = old


def _linear_part(args: tuple[Expr, ...], largs: tuple[Expr, ...], ps: dict[str, Any]) -> Expr:
    return largs[0]


register_mutants([replace(m, theorems="backend.second_order") for m in (
    mutant("backend.embed_drops_einsum", "the embedding has no ordinary reading of einsumL", _without_einsum),
    mutant("backend.embed_scale_drops_factor", "the embedding reads s ⊙ ẋ as x (the factor dropped)",
           lambda: patch_entry(readings, SCALE, _linear_part)),
)])
