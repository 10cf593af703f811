"""Second order on arrays: each drawn primitive's Hessian-vector product, by forward over reverse
(``jvp(grad f)``, the gradient program embedded and traced again) and by reverse over forward
(``grad ⟨jvp f, ·⟩``), against each other and against central differences of the gradient."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import strategies as st

import backend
import backend.contractions as C
import backend.numpy as bnp
import backend.structural as S
from backend import checks
from backend.lprims import HELPER, KINDS, TANGENT, app, dropping, result_type
from backend.strategies import ANALYTIC, CONSTANT, GENERATORS, Case
from calculi.core.mutants import patch_entry
from calculi.linear_ad.embed import missing_rows, readings
from calculi.linear_ad.primitives import SCALE, ParamDict, jvp_rules
from calculi.linear_ad.syntax import Expr, LVar, Var, Zero
from calculi.linear_ad.types import Type
from proofs.backend import YOLO, mutant
from proofs.backend.arrays import every, show_cases
from proofs.registry import register_mutants, theorem

SECOND = [p for p in GENERATORS if p not in CONSTANT]


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
                   "every derivative helper (prod_others among them) a JVP rule")
def _() -> None:
    tangent = [p for p, kind in KINDS.items() if kind == TANGENT]
    assert not missing_rows(tangent), f"no reading: {missing_rows(tangent)}"
    helpers = sorted(p.name for p, kind in KINDS.items() if kind == HELPER and p not in jvp_rules)
    assert not helpers, f"helpers without a JVP rule: {helpers}"


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


@st.composite
def _prod_cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """An array of 1 to 3 axes with up to two zeros placed among its entries, a direction, reduced axes."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    axes = tuple(sorted(draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
    size = x.size
    for at in draw(st.lists(st.integers(0, size - 1), max_size=2, unique=True)):
        x.flat[at] = 0.0
    return x, rng.standard_normal(shape), axes


def _prod_hvp(x: np.ndarray, v: np.ndarray, axes: tuple[int, ...], c: np.ndarray) -> np.ndarray:
    """H v for L = Σ_g c_g p_g + p_g²/2, p_g the product of group g, each entry a product of the others
    taken one by one: ∇p_i = Π_{k≠i} x_k, ∂²p/∂x_i∂x_j = Π_{k∉{i,j}} x_k (i ≠ j)."""
    rest = tuple(i for i in range(x.ndim) if i not in axes)
    moved = np.transpose(x, (*rest, *axes))
    rows, vs = moved.reshape(c.size, -1), np.transpose(v, (*rest, *axes)).reshape(c.size, -1)
    out = np.zeros_like(rows)
    for r, (xr, vr) in enumerate(zip(rows, vs, strict=True)):
        n = len(xr)
        g = np.array([np.prod(np.delete(xr, i)) for i in range(n)])
        h = np.array([[np.prod(np.delete(xr, [i, j])) if i != j else 0.0 for j in range(n)]
                      for i in range(n)])
        out[r] = g * (g @ vr) + (c.flat[r] + np.prod(xr)) * (h @ vr)
    return np.transpose(out.reshape(moved.shape), np.argsort((*rest, *axes)))


@theorem("backend.second_order.prod", paper=YOLO, section="Hessian (arrays)", label="derived",
         statement="for L = Σ_g c_g p_g + p_g²/2 with p = prod(x, axes), jvp(grad L)(x ; v) and "
                   "grad⟨grad L, v⟩ equal H v from the products of the others taken one by one, to 1e-9 "
                   "relative, with up to two zeros in x (the JVP of prod_others divides by nothing)",
         given={"case": _prod_cases()}, max_examples=10)
def _(case: tuple[np.ndarray, np.ndarray, tuple[int, ...]]) -> None:
    x, v, axes = case
    c = np.random.default_rng(1).standard_normal(np.prod(x, axis=axes).shape)

    def loss(y: Any) -> Any:
        p = bnp.prod(y, axis=axes)
        return bnp.sum(p * c) + bnp.sum(p * p) * 0.5

    want = _prod_hvp(x, v, axes, c)
    bound = 1e-9 * (1 + np.max(np.abs(want), initial=0))
    grad = backend.grad(loss)
    for route, got in (("jvp(grad L)", backend.jvp(grad, (x,), (v,))[1]),
                       ("grad⟨grad L, v⟩", backend.grad(lambda y: bnp.sum(grad(y) * v))(x))):
        gap = np.max(np.abs(np.asarray(got) - want), initial=0)
        assert gap <= bound, f"{route} of prod over {axes} at {x.tolist()}: off by {gap:.3g}"


@contextmanager
def _without_einsum() -> Iterator[None]:
    old = readings.pop(C.einsumL_p)
    try:
        yield
    finally:
        readings[C.einsumL_p] = old


def _prod_others_flat(xs: tuple[Var, ...], ts: tuple[LVar, ...], types: tuple[Type, ...],
                      ps: ParamDict) -> tuple[Expr, Expr]:
    return app(S.prod_others_p, *xs, **dict(ps)), dropping(ts, Zero(result_type(S.prod_others_p, types, ps)))


def _linear_part(args: tuple[Expr, ...], largs: tuple[Expr, ...], ps: dict[str, Any]) -> Expr:
    return largs[0]


register_mutants([replace(m, theorems="backend.second_order") for m in (
    mutant("backend.embed_drops_einsum", "the embedding has no ordinary reading of einsumL", _without_einsum),
    mutant("backend.embed_scale_drops_factor", "the embedding reads s ⊙ ẋ as x (the factor dropped)",
           lambda: patch_entry(readings, SCALE, _linear_part)),
    mutant("backend.prod_others_jvp_zero", "prod_others (the derivative of prod) is read as piecewise "
           "constant, its JVP zero like argmax_weights'",
           lambda: patch_entry(jvp_rules, S.prod_others_p, _prod_others_flat)),
)])
