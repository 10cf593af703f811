"""backend.numpy run eagerly agrees with NumPy; bad shapes are ShapeErrors; einsum lowering is exact."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import backend
import backend.numpy as bnp
from backend.contractions import _einsum, pairwise
from calculi.core.errors import ShapeError

RNG = np.random.default_rng(0)


def test_elementwise_and_reductions_match_numpy() -> None:
    x = RNG.standard_normal((3, 4))
    y = RNG.standard_normal((4,))
    np.testing.assert_allclose(bnp.add(x, y), x + y)
    np.testing.assert_allclose(bnp.logistic(x), 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(bnp.softplus(x), np.log1p(np.exp(x)))
    np.testing.assert_allclose(bnp.rsqrt(np.abs(x)), 1 / np.sqrt(np.abs(x)))
    np.testing.assert_allclose(bnp.sum(x, axis=1, keepdims=True), x.sum(1, keepdims=True))
    np.testing.assert_allclose(bnp.mean(x, axis=0), x.mean(0))
    np.testing.assert_allclose(bnp.logsumexp(x, axis=1), np.log(np.exp(x).sum(1)))
    np.testing.assert_allclose(bnp.softmax(x).sum(-1), np.ones(3))
    np.testing.assert_allclose(bnp.cumsum(x, axis=1, reverse=True), np.flip(np.cumsum(np.flip(x, 1), 1), 1))


def test_gelu_is_the_tanh_form() -> None:
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    want = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(bnp.gelu(x), want)


def test_python_scalars_keep_float32() -> None:
    x = np.ones(3, np.float32)
    assert bnp.multiply(x, 0.5).dtype == np.float32
    assert bnp.mean(x).dtype == np.float32


def test_linear_scan_and_its_reverse() -> None:
    a = RNG.uniform(0, 1, (2, 5, 3))
    x = RNG.standard_normal((2, 5, 3))
    h = bnp.linear_scan(a, x)
    ref = np.zeros((2, 3))
    for t in range(5):
        ref = a[:, t] * ref + x[:, t]
        np.testing.assert_allclose(h[:, t], ref)
    r = bnp.linear_scan(a, x, reverse=True)
    ref = np.zeros((2, 3))
    for t in reversed(range(5)):
        ref = a[:, t] * ref + x[:, t]
        np.testing.assert_allclose(r[:, t], ref)


def test_conv1d_is_causal_depthwise() -> None:
    x = RNG.standard_normal((2, 7, 3))
    w = RNG.standard_normal((4, 3))
    y = bnp.conv1d(x, w)
    for t in range(7):
        want = sum(w[3 - k] * x[:, t - k] for k in range(4) if t - k >= 0)
        np.testing.assert_allclose(y[:, t], want)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: bnp.einsum("ab,bc->ac", np.ones((2, 3)), np.ones((4, 5))), "index 'b'"),
        (lambda: bnp.einsum("ab,bc->aa", np.ones((2, 3)), np.ones((3, 5))), "multiple times"),
        (lambda: bnp.einsum("->"), "at least one operand"),
        (lambda: bnp.einsum("ab,bc,cd->ad", np.ones((2, 3)), np.ones((3, 4)), np.ones((5, 2))), "index 'c'"),
        (lambda: bnp.sum(np.ones(3), axis=2), "out of bounds"),
        (lambda: bnp.reshape(np.ones(6), (4, 2)), "cannot reshape"),
    ],
)
def test_shape_errors_name_the_problem(call: object, message: str) -> None:
    with pytest.raises(ShapeError, match=message):
        call()  # type: ignore[operator]


Case = tuple[str, tuple[int, ...], tuple[int, ...]]


@st.composite
def contractions(draw: st.DrawFn) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    letters = "abcdef"
    sizes = {c: draw(st.integers(1, 4)) for c in letters}
    x = draw(st.lists(st.sampled_from(letters), min_size=0, max_size=4, unique=True))
    y = draw(st.lists(st.sampled_from(letters), min_size=0, max_size=4, unique=True))
    both = sorted(set(x) | set(y))
    out = draw(st.permutations(both)).__getitem__(slice(0, draw(st.integers(0, len(both)))))
    spec = f"{''.join(x)},{''.join(y)}->{''.join(out)}"
    return spec, tuple(sizes[c] for c in x), tuple(sizes[c] for c in y)


@given(contractions())
def test_einsum_lowering_to_matmul_agrees_with_numpy(case: Case) -> None:
    spec, sx, sy = case
    x, y = RNG.standard_normal(sx), RNG.standard_normal(sy)
    np.testing.assert_allclose(_einsum(x, y, spec=spec), np.einsum(spec, x, y), rtol=1e-12, atol=1e-12)


def test_einsum_of_several_operands_contracts_the_cheap_pair_first() -> None:
    a, b, c = RNG.standard_normal((2, 50)), RNG.standard_normal((50, 3)), RNG.standard_normal((3, 40))
    assert pairwise("ab,bc,cd->ad", (a.shape, b.shape, c.shape)) == [(0, 1, "ab,bc->ac"), (0, 1, "cd,ac->ad")]
    np.testing.assert_allclose(bnp.einsum("ab,bc,cd->ad", a, b, c), np.einsum("ab,bc,cd->ad", a, b, c),
                               rtol=1e-12, atol=1e-12)  # another contraction order: rounding near zero
    d = RNG.standard_normal((40, 2))
    four = "ab,bc,cd,da->"
    np.testing.assert_allclose(bnp.einsum(four, a, b, c, d), np.einsum(four, a, b, c, d), rtol=1e-12)
    traced = str(backend.make_program(lambda x: bnp.sum(bnp.einsum("ab,bc,cd->ad", x, b, c)))(a))
    assert traced.count("einsum[") == 2, traced
