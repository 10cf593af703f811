"""Contractions and sequence primitives: einsum, cumulative sum, the linear scan, causal conv1d.

These are the primitives with structure over an axis, each defined once with ``backend.lprims.define``
(with the linear forms its JVP rule emits). Time is axis 1 (``[B, T, ...]``).

- ``einsum[spec](x, y)``: a two-operand contraction, bilinear; lowered once per (spec, shapes) to
  a single batched BLAS matmul. An einsum of more operands is traced as a chain of two-operand
  ones in the order ``pairwise`` chooses at trace time (NumPy's ``einsum_path``), never per call.
- ``cumsum[axis, reverse](x)``: linear; its transpose is the cumulative sum the other way.
- ``linear_scan[reverse](a, x, h0)``: ``h_t = a_t ⊙ h_{t−1} + x_t`` with ``h_{−1} = h0``, linear in
  ``(x, h0)`` for fixed ``a`` (``scanL``); with ``reverse`` the recurrence runs from the end,
  ``h_t = a_t ⊙ h_{t+1} + x_t`` with ``h_T = h0``. The transpose of the scan is the reverse scan.
- ``conv1d[reverse](x, w)``: depthwise causal convolution ``y_t = Σ_k w[K−1−k] ⊙ x_{t−k}``
  (zero before the start), bilinear; with ``reverse`` it looks ahead, ``y_t = Σ_k w[K−1−k] ⊙ x_{t+k}``,
  which is its transpose in ``x``. ``conv1d_wgrad[K](x, g)`` is its transpose in ``w``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from backend.lprims import BILINEAR, HELPER, LINEAR, NONLINEAR, Array, define
from backend.ltypes import ArrayT, ArrayType
from calculi.core.errors import ShapeError
from calculi.linear_ad.primitives import ParamDict
from calculi.linear_ad.types import Type

Shape = tuple[int, ...]


def parse_spec(spec: str, nargs: int) -> tuple[list[str], str]:
    """``"btd,de->bte"`` as (["btd", "de"], "bte"), checked for form."""
    if "->" not in spec:
        raise ShapeError(f"einsum spec {spec!r} needs an explicit output ('->')")
    lhs, out = spec.replace(" ", "").split("->")
    ins = lhs.split(",")
    if len(ins) != nargs:
        raise ShapeError(f"einsum spec {spec!r} names {len(ins)} operands, got {nargs}")
    for term in [*ins, out]:
        if not all(c.isalpha() for c in term) or len(set(term)) != len(term):
            raise ShapeError(f"einsum spec {spec!r}: each operand needs distinct letters (no '...')")
    if not set(out) <= set("".join(ins)):
        raise ShapeError(f"einsum spec {spec!r}: an output index appears in no operand")
    return ins, out


@functools.lru_cache(maxsize=1024)
def pairwise(spec: str, shapes: tuple[Shape, ...]) -> list[tuple[int, int, str]]:
    """The contraction order of an einsum of ``len(shapes)`` ≥ 2 operands, as steps ``(i, j, s)``:
    remove operands i and j (positions in the current list) and append their contraction by the
    two-operand spec ``s``. The order minimises the estimated FLOPs: NumPy's ``einsum_path``,
    exhaustive up to four operands and greedy beyond. A step keeps the indices of the output and
    of the operands still waiting, in order of first appearance."""
    terms, out = parse_spec(spec, len(shapes))
    _einsum_shape(*(ArrayType(shape, np.dtype(np.float64)) for shape in shapes), spec=spec)  # sizes agree
    views = [np.broadcast_to(np.empty(()), shape) for shape in shapes]  # einsum_path reads shapes only
    path, _ = np.einsum_path(spec, *views, optimize="optimal" if len(shapes) <= 4 else "greedy")
    steps = []
    live = list(terms)
    for pair in path[1:]:
        i, j = sorted(pair)
        a, b = live[i], live[j]
        rest = "".join(t for k, t in enumerate(live) if k not in (i, j)) + out
        result = out if len(live) == 2 else "".join(dict.fromkeys(c for c in a + b if c in rest))
        steps.append((i, j, f"{a},{b}->{result}"))
        live = [t for k, t in enumerate(live) if k not in (i, j)] + [result]
    return steps


@dataclass(frozen=True, slots=True)
class MatmulPlan:
    """A two-operand einsum lowered to one batched matmul: sum the indices that occur in one
    operand only, permute to (batch, free, contracted) and (batch, contracted, free), multiply,
    then reshape and permute to the output order."""

    sum_x: tuple[int, ...]
    sum_y: tuple[int, ...]
    perm_x: tuple[int, ...]
    perm_y: tuple[int, ...]
    shape_x: tuple[int, ...]
    shape_y: tuple[int, ...]
    shape_out: tuple[int, ...]
    perm_out: tuple[int, ...]


@functools.lru_cache(maxsize=4096)
def matmul_plan(spec: str, sx: Shape, sy: Shape) -> MatmulPlan:
    """The lowering of ``spec`` at these shapes (computed once per spec and shapes, then cached)."""
    (tx, ty), out = parse_spec(spec, 2)
    size = dict(zip(tx, sx, strict=True)) | dict(zip(ty, sy, strict=True))
    alone_x = [c for c in tx if c not in ty and c not in out]
    alone_y = [c for c in ty if c not in tx and c not in out]
    tx2 = [c for c in tx if c not in alone_x]
    ty2 = [c for c in ty if c not in alone_y]
    batch = [c for c in out if c in tx2 and c in ty2]
    contracted = [c for c in tx2 if c in ty2 and c not in out]
    left = [c for c in tx2 if c not in ty2]
    right = [c for c in ty2 if c not in tx2]

    def prod(cs: list[str]) -> int:
        return math.prod(size[c] for c in cs)

    middle = batch + left + right
    return MatmulPlan(
        tuple(tx.index(c) for c in alone_x),
        tuple(ty.index(c) for c in alone_y),
        tuple(tx2.index(c) for c in batch + left + contracted),
        tuple(ty2.index(c) for c in batch + contracted + right),
        (prod(batch), prod(left), prod(contracted)),
        (prod(batch), prod(contracted), prod(right)),
        tuple(size[c] for c in middle),
        tuple(middle.index(c) for c in out),
    )


def _einsum(x: Array, y: Array, *, spec: str) -> Array:
    return einsum_kernel(spec, x.shape, y.shape)(x, y)


Kernel = Callable[[Array, Array], Array]


@functools.lru_cache(maxsize=4096)
def einsum_kernel(spec: str, sx: Shape, sy: Shape) -> Kernel:
    """The two-operand ``einsum`` at these shapes as one function with its plan built in: the sums,
    permutations and reshapes the plan makes identities are left out, so a plain ``btd,de->bte``
    is two reshapes around one BLAS call (the executor binds kernels at compile time)."""
    plan = matmul_plan(spec, sx, sy)
    stacked = plan.shape_x[0] != 1  # a stack of products: BLAS per matrix needs C order
    prep_x = _operand(plan.sum_x, plan.perm_x, plan.shape_x, stacked)
    prep_y = _operand(plan.sum_y, plan.perm_y, plan.shape_y, stacked)
    shape_out, perm_out = plan.shape_out, plan.perm_out
    product = np.multiply if plan.shape_x[2] == 1 else np.matmul  # contracting one index of size 1
    if _identity(perm_out):
        def einsum(x: Array, y: Array) -> Array:
            return product(prep_x(x), prep_y(y)).reshape(shape_out)
    else:
        def einsum(x: Array, y: Array) -> Array:
            return product(prep_x(x), prep_y(y)).reshape(shape_out).transpose(perm_out)
    einsum.__name__ = f"einsum[spec={spec!r}]"
    return einsum


def _identity(perm: Shape) -> bool:
    return perm == tuple(range(len(perm)))


def _operand(sums: Shape, perm: Shape, shape: Shape, stacked: bool) -> Callable[[Array], Array]:
    """Sum the indices of one operand only, permute, and reshape to a matrix (or a C-ordered stack)."""
    if stacked:
        def arrange(a: Array) -> Array:
            return np.ascontiguousarray(a.reshape(shape))
    else:
        matrix = shape[1:]

        def arrange(a: Array) -> Array:
            return _blas2d(a.reshape(matrix))
    if _identity(perm) and not sums:
        return arrange
    return lambda a: arrange((a.sum(axis=sums) if sums else a).transpose(perm))


def _blas2d(m: Array) -> Array:
    if m.flags.c_contiguous or m.flags.f_contiguous:
        return m
    return np.ascontiguousarray(m)


def _einsum_shape(*ts: ArrayType, spec: str) -> ArrayType:
    ins, out = parse_spec(spec, len(ts))
    sizes: dict[str, int] = {}
    for term, t in zip(ins, ts, strict=True):
        if len(term) != t.ndim:
            raise ShapeError(f"einsum {spec!r}: operand {term!r} has rank {len(term)} but got {t}")
        for letter, n in zip(term, t.shape, strict=True):
            if sizes.setdefault(letter, n) != n:
                raise ShapeError(f"einsum {spec!r}: index {letter!r} is {sizes[letter]} and {n}")
    return ArrayType(tuple(sizes[c] for c in out), np.result_type(*(t.dtype for t in ts)))


def _einsum_l(const: Array, lin: Array, *, spec: str, side: int) -> Array:
    return _einsum(*((lin, const) if side == 0 else (const, lin)), spec=spec)


def _einsum_l_shape(const: ArrayType, lin: ArrayType, *, spec: str, side: int) -> ArrayType:
    return _einsum_shape(*((lin, const) if side == 0 else (const, lin)), spec=spec)


def _einsum_cost(args: Sequence[Type], largs: Sequence[Type], result: Type, params: ParamDict) -> int:
    """Multiply-adds of a contraction: the product of the sizes of all its indices."""
    types = [t for t in (*args, *largs) if isinstance(t, ArrayT)]
    ins, _ = parse_spec(params["spec"], 2)
    sizes: dict[str, int] = {}
    for term, t in zip(ins, types, strict=False):
        sizes.update(zip(term, t.shape, strict=True))
    return math.prod(sizes.values())


def _einsum_at(ps: ParamDict, ts: tuple[ArrayType, ...]) -> Callable[..., Array]:
    return einsum_kernel(ps["spec"], ts[0].shape, ts[1].shape)


def _einsum_l_at(ps: ParamDict, ts: tuple[ArrayType, ...]) -> Callable[..., Array]:
    const, lin = ts
    if ps["side"] == 1:
        return einsum_kernel(ps["spec"], const.shape, lin.shape)
    kernel = einsum_kernel(ps["spec"], lin.shape, const.shape)

    def swapped(c: Array, x: Array) -> Array:
        return kernel(x, c)

    swapped.__name__ = kernel.__name__
    return swapped


einsum_p = define("einsum", _einsum, _einsum_shape, kind=BILINEAR, arity=2, fresh=True, specialise=_einsum_at,
                  cost=_einsum_cost)
"""``einsum[spec](x, y)``: two operands, distinct letters in each, explicit output."""
einsumL_p = define("einsumL", _einsum_l, _einsum_l_shape, arity=1, larity=1, fresh=True,
                   specialise=_einsum_l_at, cost=_einsum_cost)
"""``einsumL[spec, side](c ; ẋ)``: the einsum with operand ``side`` linear and the other constant."""


def _cumsum(x: Array, *, axis: int, reverse: bool) -> Array:
    if reverse:
        return np.flip(np.cumsum(np.flip(x, axis), axis=axis), axis)
    return np.cumsum(x, axis=axis)


def _cumsum_shape(t: ArrayType, *, axis: int, reverse: bool) -> ArrayType:
    if not 0 <= axis < t.ndim:
        raise ShapeError(f"cumsum axis {axis} out of range for {t}")
    return t


cumsum_p = define("cumsum", _cumsum, _cumsum_shape, kind=LINEAR, fresh=True)
cumsumL_p = define("cumsumL", _cumsum, _cumsum_shape, arity=0, larity=1, fresh=True)


def _linear_scan(a: Array, x: Array, h0: Array, *, reverse: bool) -> Array:
    out = np.empty(np.broadcast_shapes(a.shape, x.shape), np.result_type(a, x, h0))
    h = h0
    steps = range(x.shape[1] - 1, -1, -1) if reverse else range(x.shape[1])
    for t in steps:
        np.multiply(a[:, t], h, out=out[:, t])
        out[:, t] += x[:, t]
        h = out[:, t]
    return out


def _scan_shape(a: ArrayType, x: ArrayType, h0: ArrayType, *, reverse: bool) -> ArrayType:
    if a.shape != x.shape or x.ndim < 2 or h0.shape != (x.shape[0], *x.shape[2:]):
        raise ShapeError(f"linear_scan needs a, x of one shape [B,T,...] and h0 [B,...]; got {a}, {x}, {h0}")
    return ArrayType(x.shape, np.result_type(a.dtype, x.dtype, h0.dtype))


linear_scan_p = define("linear_scan", _linear_scan, _scan_shape, kind=NONLINEAR, arity=3, fresh=True)


def _scan_prev(a: Array, x: Array, h0: Array, *, reverse: bool) -> Array:
    """The state each step starts from: ``[h0, h_0 … h_{T−2}]`` (forward) or ``[h_1 … h_{T−1}, h0]``."""
    h = _linear_scan(a, x, h0, reverse=reverse)
    first = h0[:, None]
    return np.concatenate([h[:, 1:], first] if reverse else [first, h[:, :-1]], axis=1)


scan_prev_p = define("scan_prev", _scan_prev, _scan_shape, kind=HELPER, arity=3, fresh=True)


def _scan_l(a: Array, x: Array, *, reverse: bool, adjoint: bool) -> Array:
    """``h_t = a_t h_{t∓1} + x_t`` from zero; the adjoint ``u_t = x_t + a_{t±1} u_{t±1}`` runs the
    other way with ``a`` shifted by one step (the transpose of the scan is the reverse scan)."""
    h0 = np.zeros((x.shape[0], *x.shape[2:]), np.result_type(a, x))
    if not adjoint:
        return _linear_scan(a, x, h0, reverse=reverse)
    shifted = np.zeros_like(a)
    if reverse:
        shifted[:, 1:] = a[:, :-1]
    else:
        shifted[:, :-1] = a[:, 1:]
    return _linear_scan(shifted, x, h0, reverse=not reverse)


def _scan_l_shape(a: ArrayType, x: ArrayType, *, reverse: bool, adjoint: bool) -> ArrayType:
    return _scan_shape(a, x, ArrayType((x.shape[0], *x.shape[2:]), x.dtype), reverse=reverse)


scanL_p = define("scanL", _scan_l, _scan_l_shape, arity=1, larity=1, fresh=True)


def _conv1d(x: Array, w: Array, *, reverse: bool) -> Array:
    k = w.shape[0]
    y = x * w[k - 1]
    for lag in range(1, min(k, x.shape[1] + 1)):
        if lag >= x.shape[1]:
            break
        if reverse:
            y[:, :-lag] += x[:, lag:] * w[k - 1 - lag]
        else:
            y[:, lag:] += x[:, :-lag] * w[k - 1 - lag]
    return y  # type: ignore[no-any-return]


def _conv1d_shape(x: ArrayType, w: ArrayType, *, reverse: bool) -> ArrayType:
    if x.ndim != 3 or w.ndim != 2 or w.shape[1] != x.shape[2]:
        raise ShapeError(f"conv1d needs x [B,T,D] and w [K,D]; got {x} and {w}")
    return ArrayType(x.shape, np.result_type(x.dtype, w.dtype))


conv1d_p = define("conv1d", _conv1d, _conv1d_shape, kind=BILINEAR, arity=2, fresh=True)
conv1dL_p = define("conv1dL", lambda w, x, *, reverse: _conv1d(x, w, reverse=reverse),
                   lambda w, x, *, reverse: _conv1d_shape(x, w, reverse=reverse), arity=1, larity=1,
                   fresh=True)
conv1d_wL_p = define("conv1d_wL", _conv1d, _conv1d_shape, arity=1, larity=1, fresh=True)


def _conv1d_wgrad(x: Array, g: Array, *, width: int, reverse: bool) -> Array:
    """``w̄[K−1−k] = Σ_{b,t} x_{t−k} ⊙ g_t`` (forward conv) or ``Σ x_{t+k} ⊙ g_t`` (reverse)."""
    out = np.zeros((width, x.shape[2]), np.result_type(x, g))
    for lag in range(min(width, x.shape[1])):
        end = x.shape[1] - lag
        lagged, now = (x[:, lag:], g[:, :end]) if reverse else (x[:, :end], g[:, lag:])
        out[width - 1 - lag] = np.einsum("btd,btd->d", lagged, now)
    return out


def _wgrad_shape(x: ArrayType, g: ArrayType, *, width: int, reverse: bool) -> ArrayType:
    if x.ndim != 3 or x.shape != g.shape:
        raise ShapeError(f"conv1d_wgrad needs x and g of one shape [B,T,D]; got {x} and {g}")
    return ArrayType((width, x.shape[2]), np.result_type(x.dtype, g.dtype))


wgradL_p = define("wgradL", _conv1d_wgrad, _wgrad_shape, arity=1, larity=1, fresh=True)
"""The transpose of ``conv1d_wL``: the gradient of the kernel."""
