"""Hypothesis strategies: well-formed applications of every array primitive, by construction.

``applications(prims)`` draws a ``Case``: a primitive object, its parameters, and arguments whose
shapes and dtypes satisfy the primitive's shape rule (shapes are drawn first, then everything that
depends on them), so no example is ever filtered. ``GENERATORS`` holds one generator per primitive,
keyed by the object; the coverage theorem checks that every primitive a user applies has one.
Generators are registered (and the per-primitive theorems run) from the primitives with the most
structure to the elementwise ones. Each is filed under how its derivative is checked: ``ANALYTIC``
(complex step), ``KINKED`` (central differences; at a tie or a kink, the convention JAX follows) or
``CONSTANT`` (a zero tangent).

Shapes have rank 0 to 4, mostly 1 to 3, with size-1 axes (``shapes``). Where ties matter they are
drawn on purpose: repeated maxima and minima for the reductions and ``argmax``/``argsort``
(``_tied``), equal operands of ``maximum``/``minimum`` and zeros of ``abs``; where they would break
the check (a kink inside a central difference's step) values stay at least 0.1 apart.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

import backend.contractions as C
import backend.indexing as I
import backend.primitives as P
import backend.structural as S
from calculi.linear_ad.syntax import Primitive

Array = np.ndarray[Any, Any]
Shape = tuple[int, ...]
Rng = np.random.Generator


@dataclass
class Case:
    """``prim[params](args)``: ``diff`` marks the arguments with tangents (float arrays);
    ``analytic`` says whether the complex-step derivative applies."""

    prim: Primitive
    args: list[Array]
    params: dict[str, Any] = field(default_factory=dict)
    diff: list[bool] = field(default_factory=list)
    analytic: bool = True
    constant: bool = False  # the result has a zero tangent (comparisons, one_hot, stop_gradient)

    @property
    def name(self) -> str:
        return self.prim.name

    def show(self) -> str:
        shapes = ", ".join(f"{a.dtype.name}{list(a.shape)}" for a in self.args)
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.prim.name}[{params}]({shapes})"


def show_case(case: object) -> str:
    show = getattr(case, "show", None)
    return show() if callable(show) else repr(case)


@st.composite
def shapes(draw: st.DrawFn, max_rank: int = 4) -> Shape:
    """An array shape of rank 0 to ``max_rank``, mostly 1 to 3, with size-1 axes among the others (the
    axes that broadcast); at most 64 elements."""
    rank = draw(st.sampled_from([r for r in (1, 2, 3, 0, 2, 4, 0, 3) if r <= max_rank]))
    out: list[int] = []
    for _ in range(rank):
        out.append(draw(st.sampled_from([2, 1, 3, 4] if math.prod(out) <= 16 else [1, 2])))
    return tuple(out)


seeds = st.integers(0, 2**32 - 1)

Generator = Callable[[st.DrawFn, Rng, Shape, Primitive], Case]
GENERATORS: dict[Primitive, Generator] = {}
ANALYTIC: list[Primitive] = []
"""Primitives whose implementation is analytic in the differentiated arguments (complex step)."""
KINKED: list[Primitive] = []
"""Not analytic: at a tie or a kink the derivative is a convention (JAX's), which the central
difference gives for ties of two and for abs at 0; otherwise differentiable where drawn."""
CONSTANT: list[Primitive] = []
"""Results with a zero tangent."""


def draws(*prims: Primitive, how: list[Primitive] = ANALYTIC) -> Callable[[Generator], Generator]:
    """Register the decorated generator for ``prims``, checked as ``how`` says."""

    def register(gen: Generator) -> Generator:
        for p in prims:
            GENERATORS[p] = gen
            how.append(p)
        return gen

    return register


@st.composite
def applications(draw: st.DrawFn, prims: tuple[Primitive, ...] | None = None) -> Case:
    """A well-formed application of one of the array primitives ``prims`` (default: every one that
    has a generator), with float64 data."""
    p = draw(st.sampled_from(prims if prims is not None else tuple(GENERATORS)))
    rng = np.random.default_rng(draw(seeds))
    return GENERATORS[p](draw, rng, draw(shapes()), p)


def _normal(rng: Rng, shape: Shape) -> Array:
    return rng.standard_normal(shape)


def _positive(rng: Rng, shape: Shape) -> Array:
    return rng.uniform(0.5, 2.0, shape)


def _away_from_zero(rng: Rng, shape: Shape) -> Array:
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 2.0, shape)


def _distinct(rng: Rng, shape: Shape) -> Array:
    """Values at least 1 apart in a random order: no ties, so extrema are unique."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) + rng.uniform(0, 0.5, shape)


def _tied(draw: st.DrawFn, rng: Rng, shape: Shape) -> Array:
    """Values on one to three levels at least 1 apart, so that equal elements (repeated maxima and
    minima among them) are the rule; or, a third of the time, distinct values."""
    if draw(st.integers(0, 2)) == 2:
        return _distinct(rng, shape)
    levels = rng.permutation(4)[: draw(st.integers(1, 3))] + rng.uniform(0, 0.5)
    return rng.choice(levels, shape)


def _axis(draw: st.DrawFn, s: Shape) -> int:
    return draw(st.integers(0, len(s) - 1))


# -- sequences and contractions --------------------------------------------------------------------

def _btd(draw: st.DrawFn) -> tuple[int, int, int]:
    return draw(st.integers(1, 2)), draw(st.integers(1, 5)), draw(st.integers(1, 3))


@draws(C.linear_scan_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    b, t, d = _btd(draw)
    return Case(p, [rng.uniform(0.2, 1.0, (b, t, d)), _normal(rng, (b, t, d)), _normal(rng, (b, d))],
                {"reverse": draw(st.booleans())}, [True, True, True])


@draws(C.conv1d_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    b, t, d = _btd(draw)
    return Case(p, [_normal(rng, (b, t, d)), _normal(rng, (4, d))], {"reverse": draw(st.booleans())},
                [True, True])


@draws(C.einsum_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    spec, sx, sy = draw(contractions())
    return Case(p, [_normal(rng, sx), _normal(rng, sy)], {"spec": spec}, [True, True])


# -- gathers and scatters --------------------------------------------------------------------------

@draws(I.take_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    s = s or (3,)
    axis = _axis(draw, s)
    idx = rng.integers(-s[axis], s[axis], tuple(draw(st.lists(st.integers(1, 3), max_size=2))))
    return Case(p, [_normal(rng, s), idx], {"axis": axis}, [True, False])


@draws(I.scatter_add_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    s = s or (3,)
    axis = _axis(draw, s)
    size = draw(st.integers(1, 4))
    idx = rng.integers(0, size, tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))))
    g = _normal(rng, s[:axis] + idx.shape + s[axis + 1:])
    return Case(p, [g, idx], {"axis": axis, "size": size}, [True, False])


@draws(I.take_along_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    s = s or (3,)
    axis = _axis(draw, s)
    picks = (*s[:axis], draw(st.integers(1, 4)), *s[axis + 1:])
    return Case(p, [_normal(rng, s), rng.integers(0, s[axis], picks)], {"axis": axis}, [True, False])


# -- shapes ----------------------------------------------------------------------------------------

@draws(S.broadcast_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    lead = draw(st.lists(st.integers(1, 3), max_size=2))
    stretched = [n if draw(st.booleans()) else 1 for n in s]
    return Case(p, [_normal(rng, tuple(stretched))], {"shape": (*lead, *s)}, [True])


def _some_axes(draw: st.DrawFn, s: Shape) -> tuple[int, ...]:
    return tuple(sorted(draw(st.sets(st.sampled_from(range(len(s))))))) if s else ()


@draws(S.reduce_sum_p, S.reduce_prod_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    return Case(p, [_normal(rng, s)], {"axes": _some_axes(draw, s)}, [True])


@draws(S.reduce_max_p, S.reduce_min_p, how=KINKED)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    """Over at least one axis of at least two elements, so that groups can tie."""
    s = s if math.prod(s) > 1 else (3,)
    axes = draw(st.sets(st.sampled_from([i for i, n in enumerate(s) if n > 1]), min_size=1))
    axes |= draw(st.sets(st.sampled_from(range(len(s)))))
    return Case(p, [_tied(draw, rng, s)], {"axes": tuple(sorted(axes))}, [True], analytic=False)


@draws(S.reduce_or_p, S.reduce_and_p, how=CONSTANT)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    x = np.where(rng.random(s) < 0.3, 0.0, _normal(rng, s))
    return Case(p, [x], {"axes": _some_axes(draw, s)}, [True], analytic=False, constant=True)


@draws(S.argmax_p, S.argmin_p, S.argsort_p, how=CONSTANT)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    s = s or (3,)
    return Case(p, [_tied(draw, rng, s)], {"axis": _axis(draw, s)}, [True], analytic=False, constant=True)


@draws(S.reshape_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    target = tuple(reversed(s)) if draw(st.booleans()) else (int(np.prod(s)),)
    return Case(p, [_normal(rng, s)], {"shape": target}, [True])


@draws(S.transpose_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    return Case(p, [_normal(rng, s)], {"perm": tuple(draw(st.permutations(range(len(s)))))}, [True])


@draws(S.slice_p, S.pad_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    starts: list[int] = []
    limits: list[int] = []
    strides: list[int] = []
    for n in s:
        lo = draw(st.integers(0, n - 1))
        starts.append(lo)
        limits.append(draw(st.integers(lo + 1, n)))
        strides.append(draw(st.integers(1, 2)))
    ps = {"starts": tuple(starts), "limits": tuple(limits), "strides": tuple(strides)}
    if p is S.slice_p:
        return Case(p, [_normal(rng, s)], ps, [True])
    inner = tuple(len(range(a, b, k)) for a, b, k in zip(starts, limits, strides, strict=True))
    return Case(p, [_normal(rng, inner)], {**ps, "shape": s}, [True])


@draws(C.cumsum_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    s = s or (3,)
    return Case(p, [_normal(rng, s)], {"axis": _axis(draw, s), "reverse": draw(st.booleans())}, [True])


@draws(S.concatenate_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    s = s or (2,)
    axis = _axis(draw, s)
    parts = [_normal(rng, tuple(draw(st.integers(1, 3)) if i == axis else n for i, n in enumerate(s)))
             for _ in range(draw(st.integers(1, 3)))]
    return Case(p, parts, {"axis": axis}, [True] * len(parts))


# -- elementwise -----------------------------------------------------------------------------------

@draws(P.exp_p, P.sin_p, P.cos_p, P.tanh_p, P.logistic_p, P.softplus_p, P.gelu_tanh_p, P.neg_p, P.expm1_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    return Case(p, [_normal(rng, s)], {}, [True])


@draws(P.log_p, P.sqrt_p, P.rsqrt_p, P.log1p_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    return Case(p, [_positive(rng, s)], {}, [True])


@draws(P.integer_pow_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    return Case(p, [_positive(rng, s)], {"y": draw(st.integers(-2, 3))}, [True])


@draws(P.add_p, P.sub_p, P.mul_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    return Case(p, [_normal(rng, s), _normal(rng, s)], {}, [True, True])


@draws(P.div_p, P.pow_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    return Case(p, [_positive(rng, s), _positive(rng, s)], {}, [True, True])


def _some_zero(draw: st.DrawFn, rng: Rng, shape: Shape) -> Array:
    """Where a drawn fraction (none, a quarter, half) of the elements is chosen, 0."""
    return rng.random(shape) < draw(st.sampled_from([0.0, 0.25, 0.5]))


@draws(P.maximum_p, P.minimum_p, how=KINKED)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    """Operands apart by at least 0.1, or equal (a tie: the central difference is the even split)."""
    a = _normal(rng, s)
    return Case(p, [a, a + np.where(_some_zero(draw, rng, s), 0.0, _away_from_zero(rng, s))], {},
                [True, True], analytic=False)


@draws(P.abs_p, how=KINKED)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    """Away from 0, or at 0 (where the derivative is sign(0) = 0, as the central difference says)."""
    x = np.where(_some_zero(draw, rng, s), 0.0, _away_from_zero(rng, s))
    return Case(p, [x], {}, [True], analytic=False)


@draws(P.sqrt_bound_derivative_p, how=KINKED)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    """Where the bound is not active (2√x > 1/max_gradient): the derivative is √'s."""
    bound = draw(st.sampled_from([10.0, 100.0, 1000.0]))
    return Case(p, [_positive(rng, s)], {"max_gradient": bound}, [True], analytic=False)


@draws(P.convert_p, how=KINKED)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    return Case(p, [_normal(rng, s)], {"dtype": "float64"}, [True], analytic=False)


@draws(P.checkpoint_name_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    return Case(p, [_normal(rng, s)], {"label": draw(st.sampled_from(["residual", "x"]))}, [True])


@draws(P.select_p)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    return Case(p, [rng.random(s) < 0.5, _normal(rng, s), _normal(rng, s)], {}, [False, True, True])


@draws(P.greater_p, P.less_p, P.equal_p, P.greater_equal_p, P.less_equal_p, P.not_equal_p,
       P.logical_and_p, P.logical_or_p, P.logical_xor_p, how=CONSTANT)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    a = np.round(_normal(rng, s))  # some ties, and some zeros for the logical operations
    b = np.where(rng.random(s) < 0.3, a, np.round(_normal(rng, s)))
    return Case(p, [a, b], {}, [True, True], analytic=False, constant=True)


@draws(P.sign_p, P.floor_p, P.ceil_p, P.rint_p, P.logical_not_p, P.stop_gradient_p, how=CONSTANT)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    x = np.where(rng.random(s) < 0.2, 0.0, 3 * _away_from_zero(rng, s))
    return Case(p, [x], {}, [True], analytic=False, constant=True)


@draws(I.one_hot_p, how=CONSTANT)
def _(draw: st.DrawFn, rng: Rng, s: Shape, p: Primitive) -> Case:
    return Case(p, [rng.integers(0, 3, s)], {"n": 3, "dtype": "float64"}, [False], analytic=False,
                constant=True)


@st.composite
def contractions(draw: st.DrawFn) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """A two-operand einsum spec with distinct letters per operand, and matching shapes."""
    letters = string.ascii_lowercase[:5]
    sizes = {c: draw(st.integers(1, 3)) for c in letters}
    x = draw(st.lists(st.sampled_from(letters), max_size=3, unique=True))
    y = draw(st.lists(st.sampled_from(letters), max_size=3, unique=True))
    both = sorted(set(x) | set(y))
    out = draw(st.permutations(both))[: draw(st.integers(0, len(both)))]
    spec = f"{''.join(x)},{''.join(y)}->{''.join(out)}"
    return spec, tuple(sizes[c] for c in x), tuple(sizes[c] for c in y)
