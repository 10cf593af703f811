"""The NumPy that model code is written in: each idiom runs eagerly as NumPy runs it, and its value and
gradient under ``backend.value_and_grad`` equal JAX's (float64), written once for both libraries.

Each idiom is ``f(L, x)`` with ``L.np`` the NumPy namespace (``backend.numpy`` or ``jax.numpy``) and
``L.nn`` the neural-network one (``backend.nn`` or ``jax.nn``); the loss is ``Σ f(L, x) ⊙ w`` for a
fixed random ``w``, so that every element of the result reaches the gradient with its own weight.
The eager value is compared with NumPy's (``L.np = numpy``) where NumPy has the idiom, else with JAX's;
the gradient with central differences of NumPy's function, else with ``jax.grad``, and in the slow
tier every idiom with ``jax.grad``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import backend
import backend.nn as bnn
import backend.numpy as bnp

jax = pytest.importorskip("jax")
jnp = jax.numpy

Fn = Callable[[Any, Any], Any]
BNP = SimpleNamespace(np=bnp, nn=bnn)
JAX = SimpleNamespace(np=jnp, nn=jax.nn)
NP = SimpleNamespace(np=np, nn=None)
RNG = np.random.default_rng(7)
W45 = RNG.standard_normal((4, 5))
W42 = RNG.standard_normal((4, 2))
LABELS = np.array([0, 3, 1])
MASK = (np.arange(12).reshape(3, 4) % 3) == 0


@dataclass(frozen=True)
class Idiom:
    name: str
    f: Fn
    shape: tuple[int, ...] = (3, 4)
    inputs: str = "normal"  # normal | positive | distinct (no ties: extrema, sorting)
    numpy: bool = True  # NumPy has the idiom (else the eager value is compared with JAX's)
    differences: bool = True  # central differences of NumPy's function are accurate (not in float32)


def idiom(name: str, f: Fn, shape: tuple[int, ...] = (3, 4), inputs: str = "normal", numpy: bool = True,
          differences: bool = True) -> Idiom:
    return Idiom(name, f, shape, inputs, numpy, differences)


def _sum_rows(L: Any, x: Any) -> Any:
    return sum(row * (i + 1.0) for i, row in enumerate(x))


IDIOMS = [
    # -- arithmetic and elementwise functions
    idiom("x + 1.5", lambda L, x: x + 1.5),
    idiom("2 - x", lambda L, x: 2.0 - x),
    idiom("x * x", lambda L, x: x * x),
    idiom("x / (x*x + 1)", lambda L, x: x / (x * x + 1)),
    idiom("-x", lambda L, x: -x),
    idiom("x ** 3", lambda L, x: x**3),
    idiom("x ** 2.5", lambda L, x: x**2.5, inputs="positive"),
    idiom("2.0 ** x", lambda L, x: 2.0**x),
    idiom("exp", lambda L, x: L.np.exp(x)),
    idiom("log", lambda L, x: L.np.log(x), inputs="positive"),
    idiom("log1p", lambda L, x: L.np.log1p(x), inputs="positive"),
    idiom("expm1", lambda L, x: L.np.expm1(x)),
    idiom("sqrt", lambda L, x: L.np.sqrt(x), inputs="positive"),
    idiom("square", lambda L, x: L.np.square(x)),
    idiom("tanh", lambda L, x: L.np.tanh(x)),
    idiom("sin * cos", lambda L, x: L.np.sin(x) * L.np.cos(x)),
    idiom("tan", lambda L, x: L.np.tan(0.3 * x)),
    idiom("sinh, cosh", lambda L, x: L.np.sinh(x) + L.np.cosh(x)),
    idiom("abs", lambda L, x: L.np.abs(x)),
    idiom("abs(x) operator", lambda L, x: abs(x)),
    idiom("sign(x) * x", lambda L, x: L.np.sign(x) * x),
    idiom("maximum(x, 0)", lambda L, x: L.np.maximum(x, 0.0)),
    idiom("minimum(x, 0.5)", lambda L, x: L.np.minimum(x, 0.5)),
    idiom("clip", lambda L, x: L.np.clip(x, -0.5, 0.5)),
    idiom("x.clip", lambda L, x: x.clip(-0.5, 0.5)),
    idiom("reciprocal", lambda L, x: L.np.reciprocal(x), inputs="positive"),
    idiom("floor(x) + x", lambda L, x: L.np.floor(x) + x),
    idiom("round(x, 1) + x", lambda L, x: L.np.round(x, 1) + x),
    idiom("hypot", lambda L, x: L.np.hypot(x, 1.0)),
    idiom("log2, log10", lambda L, x: L.np.log2(x) + L.np.log10(x), inputs="positive"),
    idiom("exp2", lambda L, x: L.np.exp2(x)),
    idiom("logaddexp", lambda L, x: L.np.logaddexp(x, 0.5 * x)),
    # -- comparisons, logic, where
    idiom("where(x > 0)", lambda L, x: L.np.where(x > 0, x, 0.01 * x)),
    idiom("where(x >= 0.1)", lambda L, x: L.np.where(x >= 0.1, x, -x)),
    idiom("where(x <= 0.1)", lambda L, x: L.np.where(x <= 0.1, 2 * x, x)),
    idiom("where(x != 0)", lambda L, x: L.np.where(x != 0.0, x, 1.0)),
    idiom("where(x == x)", lambda L, x: L.np.where(x == x, x, 0.0)),
    idiom("logical_and", lambda L, x: L.np.where(L.np.logical_and(x > -0.5, x < 0.5), x, 0.0)),
    idiom("logical_or", lambda L, x: L.np.where(L.np.logical_or(x > 0.5, x < -0.5), x, 0.0)),
    idiom("logical_not", lambda L, x: L.np.where(L.np.logical_not(x > 0), x, 0.0)),
    idiom("logical_xor", lambda L, x: L.np.where(L.np.logical_xor(x > 0, x > 1), x, 0.0)),
    idiom("mask & mask, ~mask", lambda L, x: L.np.where((x > -1) & ~(x > 1), x, 0.0)),
    idiom("(x > 0).astype * x", lambda L, x: (x > 0).astype(x.dtype) * x),
    idiom("any(axis, keepdims)", lambda L, x: L.np.where(L.np.any(x > 1, axis=1, keepdims=True), x, 0.0)),
    idiom("all", lambda L, x: L.np.where(L.np.all(x > -3), x, 0.0)),
    idiom("x.astype(float32)", lambda L, x: x.astype(L.np.float32).astype(L.np.float64) * 2.0,
          differences=False),
    idiom("x.astype(int) (no gradient)", lambda L, x: x.astype(L.np.int64) * 1.0 + x),
    # -- reductions
    idiom("x.sum()", lambda L, x: x.sum()),
    idiom("sum(axis=0)", lambda L, x: L.np.sum(x, axis=0)),
    idiom("sum(axis=-1, keepdims)", lambda L, x: L.np.sum(x, axis=-1, keepdims=True) * x),
    idiom("sum(axis=(0, 2))", lambda L, x: L.np.sum(x, axis=(0, 2)), shape=(2, 3, 4)),
    idiom("x.mean(axis=1)", lambda L, x: x.mean(axis=1)),
    idiom("mean(axis=-1, keepdims)", lambda L, x: x - L.np.mean(x, axis=-1, keepdims=True)),
    idiom("x.max(axis=1)", lambda L, x: x.max(axis=1), inputs="distinct"),
    idiom("max(x)", lambda L, x: L.np.max(x), inputs="distinct"),
    idiom("x.min(axis=0, keepdims)", lambda L, x: x.min(axis=0, keepdims=True), inputs="distinct"),
    idiom("min(axis=(0, 1))", lambda L, x: L.np.min(x, axis=(0, 1)), shape=(2, 3, 4), inputs="distinct"),
    idiom("prod(axis=1)", lambda L, x: L.np.prod(x, axis=1)),
    idiom("x.prod()", lambda L, x: x.prod()),
    idiom("var(axis=0)", lambda L, x: L.np.var(x, axis=0)),
    idiom("x.var()", lambda L, x: x.var()),
    idiom("std(axis=-1, keepdims)", lambda L, x: L.np.std(x, axis=-1, keepdims=True)),
    idiom("x.std()", lambda L, x: x.std()),
    idiom("var(ddof=1)", lambda L, x: L.np.var(x, ddof=1)),
    idiom("cumsum (flattened)", lambda L, x: L.np.cumsum(x)),
    idiom("cumsum(axis=-1)", lambda L, x: L.np.cumsum(x, axis=-1)),
    idiom("x.cumsum(axis=0)", lambda L, x: x.cumsum(axis=0)),
    idiom("sort(axis=-1)", lambda L, x: L.np.sort(x, axis=-1), inputs="distinct"),
    idiom("sort(axis=0)", lambda L, x: L.np.sort(x, axis=0), inputs="distinct"),
    idiom("take_along_axis(argsort)", lambda L, x: L.np.take_along_axis(x, L.np.argsort(x, axis=1), axis=1),
          inputs="distinct"),
    idiom("take_along_axis(argmax keepdims)",
          lambda L, x: L.np.take_along_axis(x, L.np.argmax(x, axis=1, keepdims=True), axis=1),
          inputs="distinct"),
    idiom("x[argmin]", lambda L, x: x.ravel()[L.np.argmin(x)], inputs="distinct"),
    idiom("x.argmax() of a row", lambda L, x: x[0] * x[1].argmax(), inputs="distinct"),
    idiom("linalg.norm", lambda L, x: L.np.linalg.norm(x)),
    idiom("linalg.norm(axis=1)", lambda L, x: L.np.linalg.norm(x, axis=1)),
    idiom("linalg.norm(ord=1, axis=0)", lambda L, x: L.np.linalg.norm(x, ord=1, axis=0)),
    idiom("linalg.norm(ord=inf) of a matrix", lambda L, x: L.np.linalg.norm(x, ord=np.inf),
          inputs="distinct"),
    idiom("linalg.norm('fro', keepdims)", lambda L, x: L.np.linalg.norm(x, "fro", keepdims=True)),
    # -- neural-network helpers
    idiom("logsumexp(axis=-1)", lambda L, x: L.nn.logsumexp(x, axis=-1), numpy=False),
    idiom("softmax", lambda L, x: L.nn.softmax(x, axis=-1), numpy=False),
    idiom("log_softmax(axis=0)", lambda L, x: L.nn.log_softmax(x, axis=0), numpy=False),
    idiom("sigmoid", lambda L, x: L.nn.sigmoid(x), numpy=False),
    idiom("softplus", lambda L, x: L.nn.softplus(x), numpy=False),
    idiom("gelu (tanh)", lambda L, x: L.nn.gelu(x), numpy=False),
    idiom("relu", lambda L, x: L.nn.relu(x), numpy=False),
    idiom("silu", lambda L, x: L.nn.silu(x), numpy=False),
    idiom("one_hot picks", lambda L, x: L.np.sum(L.nn.one_hot(LABELS, 4) * x, axis=-1), numpy=False),
    # -- shapes
    idiom("x.reshape(4, 3)", lambda L, x: x.reshape(4, 3)),
    idiom("x.reshape(-1)", lambda L, x: x.reshape(-1)),
    idiom("reshape(x, (2, -1))", lambda L, x: L.np.reshape(x, (2, -1))),
    idiom("x.T", lambda L, x: x.T),
    idiom("x.transpose(2, 0, 1)", lambda L, x: x.transpose(2, 0, 1), shape=(2, 3, 4)),
    idiom("transpose(x, (1, 0, 2))", lambda L, x: L.np.transpose(x, (1, 0, 2)), shape=(2, 3, 4)),
    idiom("x.flatten()", lambda L, x: x.flatten()),
    idiom("x.ravel()", lambda L, x: x.ravel()),
    idiom("squeeze(axis=1)", lambda L, x: L.np.squeeze(x[:, None, :], axis=1)),
    idiom("x[None].squeeze()", lambda L, x: x[None].squeeze()),
    idiom("expand_dims(-1)", lambda L, x: L.np.expand_dims(x, -1)),
    idiom("expand_dims((0, 2))", lambda L, x: L.np.expand_dims(x, (0, 2))),
    idiom("swapaxes", lambda L, x: L.np.swapaxes(x, 0, -1), shape=(2, 3, 4)),
    idiom("moveaxis", lambda L, x: L.np.moveaxis(x, 0, -1), shape=(2, 3, 4)),
    idiom("concatenate(axis=-1)", lambda L, x: L.np.concatenate([x, 2 * x], axis=-1)),
    idiom("concatenate(axis=None)", lambda L, x: L.np.concatenate([x, x * x], axis=None)),
    idiom("stack(axis=1)", lambda L, x: L.np.stack([x, x * x], axis=1)),
    idiom("split", lambda L, x: L.np.split(x, 2, axis=1)[0] * L.np.split(x, 2, axis=1)[1]),
    idiom("tile", lambda L, x: L.np.tile(x, (2, 1))),
    idiom("repeat(axis=0)", lambda L, x: L.np.repeat(x, 2, axis=0)),
    idiom("repeat (flattened)", lambda L, x: L.np.repeat(x, 2)),
    idiom("pad (constant)", lambda L, x: L.np.pad(x, ((1, 0), (0, 2)))),
    idiom("pad (edge)", lambda L, x: L.np.pad(x, 1, mode="edge")),
    idiom("pad (reflect)", lambda L, x: L.np.pad(x, ((0, 0), (2, 1)), mode="reflect")),
    idiom("flip(axis=1)", lambda L, x: L.np.flip(x, axis=1)),
    idiom("roll", lambda L, x: L.np.roll(x, 1, axis=0)),
    idiom("broadcast_to", lambda L, x: L.np.broadcast_to(x[:, :1], (3, 4))),
    idiom("zeros_like + x", lambda L, x: L.np.zeros_like(x) + 2 * x),
    idiom("ones_like * x", lambda L, x: L.np.ones_like(x) * x),
    idiom("full_like * x", lambda L, x: L.np.full_like(x, 2.0) * x),
    idiom("tril", lambda L, x: L.np.tril(x), shape=(4, 4)),
    idiom("triu(k=1)", lambda L, x: L.np.triu(x, 1), shape=(4, 4)),
    idiom("diagonal", lambda L, x: L.np.diagonal(x, 1), shape=(4, 4)),
    idiom("trace", lambda L, x: L.np.trace(x), shape=(4, 4)),
    idiom("diff", lambda L, x: L.np.diff(x, axis=1)),
    # -- indexing
    idiom("x[0]", lambda L, x: x[0]),
    idiom("x[-1, 1:3]", lambda L, x: x[-1, 1:3]),
    idiom("x[::-1]", lambda L, x: x[::-1]),
    idiom("x[:, ::-2]", lambda L, x: x[:, ::-2]),
    idiom("x[..., 1]", lambda L, x: x[..., 1], shape=(2, 3, 4)),
    idiom("x[:, None, 2]", lambda L, x: x[:, None, 2]),
    idiom("x[[0, 2, 2]] (rows, repeated)", lambda L, x: x[np.array([0, 2, 2])]),
    idiom("x[:, [3, 0]]", lambda L, x: x[:, np.array([3, 0])]),
    idiom("x[[0, 1], [2, 3]] (paired)", lambda L, x: x[np.array([0, 1]), np.array([2, 3])]),
    idiom("x[[[0], [2]], [1, 3]] (broadcast)", lambda L, x: x[np.array([[0], [2]]), np.array([1, 3])]),
    idiom("x[:, [0, 2], 1] (adjacent)", lambda L, x: x[:, np.array([0, 2]), 1], shape=(2, 3, 4)),
    idiom("x[0, :, [1, 2]] (separated)", lambda L, x: x[0, :, np.array([1, 2])], shape=(2, 3, 4)),
    idiom("x[mask] (constant mask)", lambda L, x: x[MASK]),
    idiom("take(axis=1)", lambda L, x: L.np.take(x, np.array([0, 2]), axis=1)),
    idiom("take(axis=None)", lambda L, x: L.np.take(x, np.array([5, 1]), axis=None)),
    idiom("for row in x", _sum_rows),
    # -- functional updates
    idiom("x.at[1].set(0)", lambda L, x: x.at[1].set(0.0), numpy=False),
    idiom("x.at[:, 0].add(x[:, 1])", lambda L, x: x.at[:, 0].add(x[:, 1]), numpy=False),
    idiom("x.at[[0, 0, 2]].add (repeated)", lambda L, x: x.at[np.array([0, 0, 2])].add(x), numpy=False),
    idiom("x.at[0, 1].multiply(3)", lambda L, x: x.at[0, 1].multiply(3.0), numpy=False),
    idiom("x.at[1:, 2].set(x[:2, 0])", lambda L, x: x.at[1:, 2].set(x[:2, 0]), numpy=False),
    idiom("x.at[2].get()", lambda L, x: x.at[2].get(), numpy=False),
    idiom("x.at[0].max(x[1])", lambda L, x: x.at[0].max(x[1]), inputs="distinct", numpy=False),
    # -- products and contractions
    idiom("x @ w", lambda L, x: x @ W45),
    idiom("w.T @ x.T", lambda L, x: W45.T @ x.T),
    idiom("[2,3,4] @ [4,5]", lambda L, x: x @ W45, shape=(2, 3, 4)),
    idiom("[1,2,3,4] @ [1,1,4,2] (batch broadcast)", lambda L, x: x[None] @ W42.reshape(1, 4, 2)[None],
          shape=(2, 3, 4)),
    idiom("[B,H,T,D] @ [B,1,D,S]",
          lambda L, x: x.reshape(2, 1, 3, 4) @ L.np.swapaxes(x, 1, 2)[:, None, :, :1],
          shape=(2, 3, 4)),
    idiom("v @ x (1-d @ 2-d)", lambda L, x: np.arange(3.0) @ x),
    idiom("x @ v (2-d @ 1-d)", lambda L, x: x @ np.arange(4.0)),
    idiom("dot", lambda L, x: L.np.dot(x, W45)),
    idiom("x.dot(w)", lambda L, x: x.dot(W45)),
    idiom("dot (3-d)", lambda L, x: L.np.dot(x, W45), shape=(2, 3, 4)),
    idiom("outer", lambda L, x: L.np.outer(x[0], x[1])),
    idiom("inner", lambda L, x: L.np.inner(x, x)),
    idiom("vdot", lambda L, x: L.np.vdot(x, x)),
    idiom("tensordot(axes=1)", lambda L, x: L.np.tensordot(x, W45, axes=1)),
    idiom("einsum ij,jk->ik", lambda L, x: L.np.einsum("ij,jk->ik", x, W45)),
    idiom("einsum ij-> (one operand)", lambda L, x: L.np.einsum("ij->", x)),
    idiom("einsum ij->ji", lambda L, x: L.np.einsum("ij->ji", x)),
    idiom("einsum ii-> (trace)", lambda L, x: L.np.einsum("ii->", x), shape=(4, 4)),
    idiom("einsum ii->i (diagonal)", lambda L, x: L.np.einsum("ii->i", x), shape=(4, 4)),
    idiom("einsum ij,ij (implicit)", lambda L, x: L.np.einsum("ij,ij", x, x)),
    idiom("einsum ...j,jk->...k", lambda L, x: L.np.einsum("...j,jk->...k", x, W45), shape=(2, 3, 4)),
    idiom("einsum bij,bkj->bik", lambda L, x: L.np.einsum("bij,bkj->bik", x, x), shape=(2, 3, 4)),
    idiom("einsum three operands", lambda L, x: L.np.einsum("ij,jk,ik->", x, W45, x @ W45)),
]
"""The idioms of NumPy/JAX model code, each checked eagerly and under backend.grad below."""

PENDING: dict[str, str] = {}
"""Idioms that do not run under backend.grad yet, and why."""


def _inputs(idiom: Idiom) -> np.ndarray:
    rng = np.random.default_rng(abs(hash(idiom.name)) % 2**32)
    n = int(np.prod(idiom.shape))
    if idiom.inputs == "positive":
        return rng.uniform(0.5, 2.0, idiom.shape)
    if idiom.inputs == "distinct":
        return (rng.permutation(n).reshape(idiom.shape) + rng.uniform(0, 0.5, idiom.shape)) / n - 0.5
    return rng.standard_normal(idiom.shape) + np.where(rng.random(idiom.shape) < 0.5, 0.05, -0.05)


def _reference(idiom: Idiom, x: np.ndarray) -> Any:
    if idiom.numpy:
        return np.asarray(idiom.f(NP, x))
    with jax.enable_x64(True):
        return np.asarray(idiom.f(JAX, jnp.asarray(x)))


EAGER = [i for i in IDIOMS if not i.name.startswith("x.at")]
"""The idioms NumPy arrays can run (they have no ``.at``: ``bnp.at(x)[...]`` is tested on its own)."""


@pytest.mark.parametrize("idiom", EAGER, ids=[i.name for i in EAGER])
def test_eager_value_is_numpys(idiom: Idiom) -> None:
    x = _inputs(idiom)
    got = np.asarray(idiom.f(BNP, x))
    want = _reference(idiom, x)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def _loss(idiom: Idiom, x: np.ndarray) -> Callable[[Any, Any], Any]:
    w = np.random.default_rng(1).standard_normal(np.shape(_reference(idiom, x)))
    return lambda L, v: L.np.sum(idiom.f(L, v) * w)


def _jax_value_and_grad(idiom: Idiom, x: np.ndarray) -> tuple[Any, Any]:
    loss = _loss(idiom, x)
    with jax.enable_x64(True):
        value, grad = jax.value_and_grad(lambda v: loss(JAX, v))(jnp.asarray(x))
    return np.asarray(value), np.asarray(grad)


def _central_differences(idiom: Idiom, x: np.ndarray, eps: float = 1e-6) -> tuple[Any, Any]:
    """NumPy's value of the loss, and its gradient by central differences (NumPy runs the idiom)."""
    loss = _loss(idiom, x)
    grad = np.zeros_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step.flat[i] = eps
        grad.flat[i] = (loss(NP, x + step) - loss(NP, x - step)) / (2 * eps)
    return loss(NP, x), grad


def _check(idiom: Idiom, oracle: Callable[[Idiom, np.ndarray], tuple[Any, Any]], tol: float) -> None:
    if idiom.name in PENDING:
        pytest.xfail(PENDING[idiom.name])
    x = _inputs(idiom)
    value, grad = backend.value_and_grad(lambda v: _loss(idiom, x)(BNP, v))(x)
    want_value, want_grad = oracle(idiom, x)
    tol = tol if idiom.differences else max(tol, 1e-6)
    np.testing.assert_allclose(value, want_value, rtol=tol, atol=1e-12)
    np.testing.assert_allclose(grad, want_grad, rtol=tol, atol=tol)


@pytest.mark.parametrize("idiom", IDIOMS, ids=[i.name for i in IDIOMS])
def test_value_and_grad(idiom: Idiom) -> None:
    """Against central differences of NumPy's own function where NumPy has the idiom, else JAX."""
    if idiom.numpy and idiom.differences:
        _check(idiom, _central_differences, 1e-6)
    else:
        _check(idiom, _jax_value_and_grad, 1e-10)


@pytest.mark.slow
@pytest.mark.engine
@pytest.mark.parametrize("idiom", IDIOMS, ids=[i.name for i in IDIOMS])
def test_value_and_grad_are_jaxs(idiom: Idiom) -> None:
    """Every idiom against jax.grad in float64 (JAX runs each operation eagerly: the slow tier)."""
    _check(idiom, _jax_value_and_grad, 1e-10)


def test_at_least_a_hundred_idioms_run_under_grad() -> None:
    assert len(IDIOMS) - len(PENDING) >= 150, len(IDIOMS)
