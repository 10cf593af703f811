"""Every fast path answers to an oracle, on the shapes users write: reductions with negative axes,
axis tuples and keepdims; indexing with NumPy's rules (negative steps, integer arrays on any axis,
paired arrays, masks, ``None``, ``...``) and functional updates; einsum in all its spellings;
matmul with broadcast batch axes. Values are NumPy's; gradients are exact where the transpose is a
scatter (``np.add.at``), else central differences of NumPy's own function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import backend
import backend.numpy as bnp
from calculi.core.errors import ShapeError

Array = np.ndarray[Any, Any]


def _differences(f: Callable[[Array], Any], x: Array, w: Array, eps: float = 1e-6) -> Array:
    grad = np.zeros_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step.flat[i] = eps
        grad.flat[i] = (np.sum(f(x + step) * w) - np.sum(f(x - step) * w)) / (2 * eps)
    return grad


def _distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> Array:
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) + rng.uniform(0, 0.5, shape)) / max(n, 1) - 0.5


def _agree(f_bnp: Callable[[Any], Any], f_np: Callable[[Array], Any], x: Array,
           gradient: bool = True) -> None:
    """Eager and traced values equal NumPy's; the gradient of Σ f(x) ⊙ w its central differences."""
    want = np.asarray(f_np(x))
    np.testing.assert_allclose(np.asarray(f_bnp(x)), want, rtol=1e-12, atol=1e-12)
    traced = backend.jit(f_bnp)(x)
    assert np.shape(traced) == want.shape
    np.testing.assert_allclose(traced, want, rtol=1e-12, atol=1e-12)
    if gradient and want.dtype.kind == "f":
        w = np.random.default_rng(0).standard_normal(want.shape)
        grad = backend.grad(lambda v: bnp.sum(f_bnp(v) * w))(x)
        np.testing.assert_allclose(grad, _differences(f_np, x, w), rtol=1e-6, atol=1e-7)


# -- reductions -------------------------------------------------------------------------------------

REDUCTIONS = ["sum", "mean", "max", "min", "prod", "var", "std", "argmax", "argmin", "any", "all"]
ALONG = ["cumsum", "sort", "argsort"]


@st.composite
def reduction_cases(draw: st.DrawFn) -> tuple[str, tuple[int, ...], Any, bool]:
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    name = draw(st.sampled_from(REDUCTIONS + ALONG))
    n = len(shape)
    one = st.integers(-n, n - 1)
    if name in ("argmax", "argmin") or name in ALONG:
        axis = draw(st.none() | one)
    else:
        axis = draw(st.none() | one | st.lists(st.integers(0, n - 1), unique=True, min_size=1).map(
            lambda axes: tuple(a - n if i % 2 else a for i, a in enumerate(axes))))
    return name, shape, axis, draw(st.booleans())


@given(reduction_cases(), st.integers(0, 2**16))
def test_reductions_read_axis_and_keepdims_as_numpy(case: tuple[str, tuple[int, ...], Any, bool],
                                                    seed: int) -> None:
    name, shape, axis, keepdims = case
    x = _distinct(np.random.default_rng(seed), shape)
    kwargs: dict[str, Any] = {"axis": axis}
    if name not in ALONG:
        kwargs["keepdims"] = keepdims
    single = np.sum(np.ones(shape), axis=axis).max() == 1  # std of one element: √ at 0 has no derivative
    _agree(lambda v: getattr(bnp, name)(v, **kwargs), lambda v: getattr(np, name)(v, **kwargs), x,
           gradient=not (name == "std" and single))


def test_defaults_are_numpys() -> None:
    x = np.arange(12.0).reshape(3, 4) - 5.5
    i = np.arange(12).reshape(3, 4)
    for f in ("cumsum", "sort", "argsort", "argmax", "sum", "mean", "max", "prod", "var", "std"):
        np.testing.assert_array_equal(getattr(bnp, f)(x), getattr(np, f)(x), err_msg=f)
    assert bnp.sum(np.ones(3, bool)).dtype == np.sum(np.ones(3, bool)).dtype  # booleans sum as integers
    assert bnp.mean(i).dtype == np.float64 and bnp.cumsum(i.astype(np.int8)).dtype == np.int64
    np.testing.assert_array_equal(bnp.take(x, [1, 2], axis=None), np.take(x, [1, 2]))
    np.testing.assert_array_equal(bnp.concatenate([x, x], axis=None), np.concatenate([x, x], axis=None))
    np.testing.assert_array_equal(bnp.transpose(np.ones((2, 3, 4))).shape, (4, 3, 2))
    np.testing.assert_array_equal(bnp.squeeze(np.ones((1, 3, 1))).shape, (3,))
    np.testing.assert_array_equal(bnp.dot(np.ones((2, 3, 4)), np.ones((5, 4, 6))), np.ones((2, 3, 5, 6)) * 4)
    np.testing.assert_array_equal(bnp.repeat(x, 2), np.repeat(x, 2))
    np.testing.assert_array_equal(bnp.flip(x), np.flip(x))
    np.testing.assert_array_equal(bnp.roll(x, 5), np.roll(x, 5))
    np.testing.assert_allclose(bnp.logsumexp(x), np.log(np.exp(x).sum()))  # axis=None as in SciPy and JAX
    np.testing.assert_array_equal(bnp.linalg.norm(x), np.linalg.norm(x))


# -- indexing ---------------------------------------------------------------------------------------

@st.composite
def indices(draw: st.DrawFn, shape: tuple[int, ...], arrays: bool = True) -> tuple[Any, ...]:
    """An index of ``shape`` as NumPy reads it: ints, slices with any step, None, one '...', integer
    arrays on any axes (broadcasting together), a constant boolean mask."""
    items: list[Any] = []
    axis = 0
    ellipsis = False
    while axis < len(shape):
        n = shape[axis]
        kind = draw(st.sampled_from(["int", "slice", "slice", "none", "array", "mask", "ellipsis", "stop"]))
        if kind == "stop":
            break
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            bound = st.none() | st.integers(-n - 1, n + 1)
            items.append(slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, -1, -2]))))
        elif kind == "none":
            items.append(None)
            continue
        elif kind == "array" and arrays:
            values = np.array(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=3)))
            items.append(draw(st.sampled_from([values[0], values, values[:, None]])))
        elif kind == "mask" and arrays:
            items.append(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))))
        elif kind == "ellipsis" and not ellipsis:
            ellipsis = True
            items.append(Ellipsis)
            axis = len(shape) - draw(st.integers(0, len(shape) - axis))
            continue
        else:
            items.append(slice(None))
        axis += 1
    return tuple(items)


@st.composite
def indexed(draw: st.DrawFn, arrays: bool = True) -> tuple[Array, tuple[Any, ...]]:
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    x = np.random.default_rng(draw(st.integers(0, 2**16))).standard_normal(shape)
    index = draw(indices(shape, arrays))
    try:
        x[index]
    except IndexError:  # arrays that do not broadcast together
        index = ()
    return x, index


@given(indexed())
def test_indexing_follows_numpy_and_its_gradient_scatters(case: tuple[Array, tuple[Any, ...]]) -> None:
    x, index = case
    want = x[index]
    traced = backend.jit(lambda v: v[index])(x)
    assert np.shape(traced) == want.shape
    np.testing.assert_array_equal(traced, want)
    w = np.random.default_rng(1).standard_normal(want.shape)
    scattered = np.zeros_like(x)
    np.add.at(scattered, index, w)
    np.testing.assert_allclose(backend.grad(lambda v: bnp.sum(v[index] * w))(x), scattered, rtol=1e-12,
                               atol=1e-12)


@given(indexed(), st.sampled_from(["set", "add", "multiply", "max"]))
def test_functional_updates_are_numpys_assignments(case: tuple[Array, tuple[Any, ...]], how: str) -> None:
    x, index = case
    values = np.random.default_rng(2).standard_normal(x[index].shape)
    want = x.copy()
    if how == "set":
        want[index] = values
    else:
        {"add": np.add, "multiply": np.multiply, "max": np.maximum}[how].at(want, index, values)
    np.testing.assert_allclose(getattr(bnp.at(x)[index], how)(values), want, rtol=1e-12)
    traced = backend.jit(lambda v, u: getattr(v.at[index], how)(u))(x, values)
    np.testing.assert_allclose(traced, want, rtol=1e-12)
    if how == "add":
        w = np.random.default_rng(3).standard_normal(x.shape)
        gx, gv = backend.grad(lambda v, u: bnp.sum(v.at[index].add(u) * w), argnums=(0, 1))(x, values)
        np.testing.assert_allclose(gx, w)
        np.testing.assert_allclose(gv, w[index], rtol=1e-12)


def test_set_with_repeated_indices_keeps_the_last_value_and_its_gradient() -> None:
    x = np.zeros(4)
    v = np.array([1.0, 2.0, 3.0])
    idx = np.array([1, 3, 1])
    want = x.copy()
    want[idx] = v
    np.testing.assert_array_equal(bnp.at(x)[idx].set(v), want)
    gx, gv = backend.grad(lambda a, b: bnp.sum(a.at[idx].set(b) * np.arange(1.0, 5.0)), argnums=(0, 1))(x, v)
    np.testing.assert_array_equal(gx, [1.0, 0.0, 3.0, 0.0])
    np.testing.assert_array_equal(gv, [0.0, 4.0, 2.0])  # the overwritten value has no influence


def test_data_dependent_shapes_say_so_and_name_the_alternative() -> None:
    x = np.arange(6.0)
    with pytest.raises(ShapeError, match=r"where\(mask, x, 0\)"):
        backend.grad(lambda v: bnp.sum(v[v > 2]))(x)
    with pytest.raises(ShapeError, match="depends on the values"):
        backend.grad(lambda v: bnp.sum(bnp.nonzero(v)[0] * v))(x)
    with pytest.raises(ShapeError, match="one argument"):
        backend.grad(lambda v: bnp.sum(bnp.where(v > 2)[0] * v))(x)
    np.testing.assert_array_equal(bnp.nonzero(x)[0], np.nonzero(x)[0])  # arrays: NumPy's answer


def test_iterating_a_traced_array_walks_axis_0() -> None:
    x = np.arange(6.0).reshape(3, 2)
    rows = backend.jit(lambda v: bnp.stack([r * 2 for r in v]))(x)
    np.testing.assert_array_equal(rows, x * 2)


# -- einsum and matmul ---------------------------------------------------------------------------------

EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ij->", [(2, 3)]), ("ji", [(2, 3)]),
    ("ii->", [(3, 3)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("iij->ij", [(2, 2, 3)]),
    ("ij,ij->", [(2, 3), (2, 3)]), ("i,i", [(3,), (3,)]), ("i,j->ij", [(2,), (3,)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]), ("...ij,...jk", [(5, 2, 3), (1, 3, 4)]),
    ("b...d,d->b...", [(2, 3, 4, 5), (5,)]), ("...,...", [(2, 3), (3,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]), ("ii,ij->j", [(3, 3), (3, 2)]),
    ("bhtd,bsd->bhts", [(2, 2, 3, 4), (2, 5, 4)]), (" ij , jk -> ki ", [(2, 3), (3, 4)]),
    ("Ab,bC->AC", [(2, 3), (3, 4)]),
]


@pytest.mark.parametrize(("spec", "shapes"), EINSUMS, ids=[s for s, _ in EINSUMS])
def test_einsum_spellings_are_numpys(spec: str, shapes: list[tuple[int, ...]]) -> None:
    rng = np.random.default_rng(4)
    others = [rng.standard_normal(s) for s in shapes[1:]]
    x = rng.standard_normal(shapes[0])
    _agree(lambda v: bnp.einsum(spec, v, *others), lambda v: np.einsum(spec, v, *others), x)


@st.composite
def matmul_shapes(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    m, k, n = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(st.lists(st.integers(1, 3), max_size=3))
    bx = [b if draw(st.booleans()) else 1 for b in batch][draw(st.integers(0, len(batch))):]
    by = [b if draw(st.booleans()) else 1 for b in batch][draw(st.integers(0, len(batch))):]
    sx = (k,) if draw(st.integers(0, 4)) == 0 else (*bx, m, k)
    sy = (k,) if draw(st.integers(0, 4)) == 0 else (*by, k, n)
    return sx, sy


@given(matmul_shapes(), st.integers(0, 2**16))
def test_matmul_broadcasts_as_numpy(shapes: tuple[tuple[int, ...], tuple[int, ...]], seed: int) -> None:
    rng = np.random.default_rng(seed)
    sx, sy = shapes
    x, y = rng.standard_normal(sx), rng.standard_normal(sy)
    _agree(lambda v: v @ y, lambda v: v @ y, x)
    _agree(lambda v: x @ v, lambda v: x @ v, y)


def test_sqrt_bound_derivative_bounds_the_gradient_at_zero() -> None:
    x = np.array([0.0, 1e-12, 0.25, 4.0])
    np.testing.assert_array_equal(bnp.sqrt_bound_derivative(x, 1000.0), np.sqrt(x))
    g = backend.grad(lambda v: bnp.sum(bnp.sqrt_bound_derivative(v, 1000.0)))(x)
    np.testing.assert_allclose(g, [1000.0, 1000.0, 1.0, 0.25])
    with np.errstate(divide="ignore"):
        assert np.isinf(backend.grad(lambda v: bnp.sum(bnp.sqrt(v)))(x)[0])  # what the bound is for
