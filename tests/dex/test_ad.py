"""Reverse mode on Dex programs: the MLP example's gradient against finite differences and
jax.grad, exact gradients of polynomials, of pairs, case, readers and accumulation, forward mode
through State, long runs of lets, the transposed program's loops, the CLI and REPL."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

from calculi.core.errors import CalculusError
from calculi.core.files import read_source
from calculi.core.fuzz import feed, fuzzing, inputs
from calculi.core.syntax import Source
from calculi.dex.__main__ import main
from calculi.dex.ad import file_gradient, grad, parameters, run_vjp, tangent, vjp
from calculi.dex.commands import Session, items
from calculi.dex.jvp import jvp
from calculi.dex.parse import parse_program
from calculi.dex.semantics import evaluate
from calculi.dex.syntax import (
    REAL,
    Accum,
    App,
    BinOp,
    Expr,
    Fin,
    For,
    Index,
    Let,
    RealLit,
    RefIndex,
    TableT,
    Var,
)
from calculi.dex.transpose import ONE, transpose
from calculi.dex.values import Table, Value

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "dex"


def program(text: str) -> Expr:
    return parse_program(Source(text))


def loaded(name: str) -> tuple[Session, Expr]:
    session = Session()
    last: Expr | None = None
    source = read_source(EXAMPLES / f"{name}.dx")
    for _, text in items(source.text):
        defined = session.define(Source(text))
        last = Var(defined[0]) if defined else session.parse(Source(text))
    assert last is not None
    return session, last


def to_array(value: Value) -> np.ndarray:
    if isinstance(value, Table):
        return np.array([to_array(v) for v in value.elems], dtype=np.float64)
    return np.array(float(value))  # type: ignore[arg-type]


def from_array(data: np.ndarray, like: Value) -> Value:
    if isinstance(like, Table):
        return Table(like.index, tuple(from_array(data[k], v) for k, v in enumerate(like.elems)))
    return float(data)


def off_the_kinks(session: Session, params: Iterable[str]) -> dict[str, Value]:
    """The example's values with each parameter moved a little, so that no ReLU input is 0 (where
    the one-sided derivative ``if v < 0.0`` takes and a central difference disagree)."""
    values = dict(session.values)
    for k, name in enumerate(params):
        base = to_array(values[name])
        wiggle = 0.01 * np.sin(np.arange(base.size) + 7 * k + 1).reshape(base.shape)
        values[name] = from_array(base + wiggle, values[name])
    return values


def test_mlp_gradient_matches_central_differences() -> None:
    session, last = loaded("mlp")
    params, v, _ = file_gradient(session.definitions, last)
    assert set(params) == {"xs", "ys", "w1", "w2"}
    values = off_the_kinks(session, params)
    grads = run_vjp(v, values)
    loss = parameters(session.definitions, last).program
    h = 1e-6
    for name in params:
        base = to_array(values[name])
        got = to_array(grads[name])
        for where in np.ndindex(base.shape):
            step = np.zeros_like(base)
            step[where] = h
            up = dict(values, **{name: from_array(base + step, values[name])})
            down = dict(values, **{name: from_array(base - step, values[name])})
            fd = (float(evaluate(loss, up)) - float(evaluate(loss, down))) / (2 * h)  # type: ignore[arg-type]
            assert got[where] == pytest.approx(fd, abs=1e-6), (name, where)


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax (optional) not installed")
def test_mlp_gradient_matches_jax() -> None:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]
    session, last = loaded("mlp")
    params, v, _ = file_gradient(session.definitions, last)
    values = off_the_kinks(session, params)
    grads = run_vjp(v, values)
    loss = parameters(session.definitions, last).program

    def reference(xs: jax.Array, ys: jax.Array, w1: jax.Array, w2: jax.Array) -> jax.Array:
        hidden = jnp.maximum(xs @ w1.T, 0.0)
        return jnp.sum((hidden @ w2 - ys) ** 2) / 3.0

    names = ("xs", "ys", "w1", "w2")
    args = [jnp.asarray(to_array(values[n])) for n in names]
    want = jax.grad(reference, argnums=(0, 1, 2, 3))(*args)
    assert float(evaluate(loss, values)) == pytest.approx(float(reference(*args)))  # type: ignore[arg-type]
    for name, w in zip(names, want, strict=True):
        assert np.allclose(to_array(grads[name]), np.asarray(w), atol=1e-12), name


def test_polynomial_gradient_is_exact() -> None:
    x = Table(Fin(3), (Fraction(1, 3), Fraction(-2), Fraction(5, 7)))
    e = program("sum (for i:Fin 3. w * x.i * x.i) - w * w")
    got = grad(e, {"x": TableT(Fin(3), REAL), "w": REAL}, {"x": x, "w": Fraction(3, 2)})
    assert got["x"] == Table(Fin(3), tuple(2 * Fraction(3, 2) * v for v in x.elems))  # type: ignore[operator]
    squares = [Fraction(v) * Fraction(v) for v in x.elems]  # type: ignore[arg-type]
    assert got["w"] == sum(squares) - 3


def test_transposed_read_in_for_is_a_parallel_accumulation() -> None:
    e = program("sum (for i:Fin 4. for j:Fin 3. m.i.j * v.j).(1@Fin 4)")
    result = vjp(program("sum (for j:Fin 3. m.(1@Fin 4).j * v.j)"),
                 {"m": TableT(Fin(4), TableT(Fin(3), REAL)), "v": TableT(Fin(3), REAL)})
    assert not result.checked.sequential
    assert all(not any(eff.kind == "State" for eff in row) for _, row in result.checked.loops)
    accumulating = [loop for loop, row in result.checked.loops
                    if any(eff.kind == "Accum" for eff in row)]
    assert accumulating and all(_accumulates_at_index(loop) for loop in accumulating)
    with pytest.raises(CalculusError):
        vjp(e, {"m": TableT(Fin(4), TableT(Fin(3), REAL))})


def _accumulates_at_index(loop: For) -> bool:
    stack: list[object] = [loop.body]
    while stack:
        node = stack.pop()
        if isinstance(node, Accum) and isinstance(node.ref, RefIndex):
            return True
        stack += [getattr(node, f) for f in getattr(type(node), "__slots__", ())
                  if isinstance(getattr(node, f), Expr)]
    return False


@pytest.mark.parametrize(("text", "rule"), [
    ("fst (run_accum Real \\r. r += w)", "AD-Fragment"),
    ("snd ((\\v:Real. v), w)", "AD-Fragment"),
    ("fst (snd (run_state (w, 1) \\s. for i:Fin 2. s := (fst (get s) * w, 2)))", "AD-Fragment"),
    ("snd (run_state w \\s. for c:{lo|hi}. s := get s * w)", "AD-Fragment"),
    ("for i:Fin 2. w", "AD-Fragment"),
])
def test_outside_the_fragment_is_a_located_error(text: str, rule: str) -> None:
    with pytest.raises(CalculusError) as err:
        grad(program(text), {"w": REAL}, {"w": Fraction(1)})
    assert err.value.span is not None and rule in err.value.render()


X = TableT(Fin(3), REAL)
X_VALUE = Table(Fin(3), (Fraction(1, 3), Fraction(-2), Fraction(5, 7)))


def exact(text: str) -> dict[str, Value]:
    return grad(program(text), {"x": X, "w": REAL}, {"x": X_VALUE, "w": Fraction(3, 2)})


def entries(value: Value) -> list[Fraction]:
    assert isinstance(value, Table)
    return [Fraction(v) for v in value.elems]  # type: ignore[arg-type]


def test_gradient_through_pairs_and_tables_of_pairs() -> None:
    got = exact("let p = (w * w, x) in let t = for i:Fin 3. (x.i * x.i, w) in "
                "fst p + sum (snd p) + sum (for i:Fin 3. fst t.i * snd t.i)")
    xs = entries(X_VALUE)
    assert got["w"] == 3 + sum(v * v for v in xs)
    assert entries(got["x"]) == [1 + 2 * v * Fraction(3, 2) for v in xs]


def test_gradient_through_case() -> None:
    got = exact("sum (for c:{lo|hi}. case c of lo -> w * x.(0@Fin 3) | hi -> x.(2@Fin 3) * x.(2@Fin 3))")
    xs = entries(X_VALUE)
    assert got["w"] == xs[0] and entries(got["x"]) == [Fraction(3, 2), 0, 2 * xs[2]]


def _rows(text: str) -> list[str]:
    result = vjp(program(text), {"x": X, "w": REAL})
    assert not result.checked.sequential and not result.checked.row
    return [eff.kind for _, row in result.checked.loops for eff in row]


def test_reader_tangent_transposes_to_an_accumulation() -> None:
    text = "with_reader x \\r. sum (for i:Fin 3. ask r!i * w)"
    assert entries(exact(text)["x"]) == [Fraction(3, 2)] * 3
    assert "Accum" in _rows(text) and "State" not in _rows(text)


def test_accumulation_transposes_to_a_read() -> None:
    text = ("let h = snd (run_accum (Fin 3=>Real) \\r. for i:Fin 3. r!((2 - ordinal i)@Fin 3) += "
            "x.i * x.i) in sum (for k:Fin 3. h.k * to_real (ordinal k)) * w")
    got = exact(text)
    xs = entries(X_VALUE)
    assert entries(got["x"]) == [2 * v * (2 - k) * Fraction(3, 2) for k, v in enumerate(xs)]
    assert got["w"] == sum(v * v * (2 - k) for k, v in enumerate(xs))
    kinds = _rows(text)
    assert "Read" in kinds and "State" not in kinds


def test_state_forward_and_backwards() -> None:
    e = program("snd (run_state 1.0 \\s. for i:Fin 3. s := get s * w + x.i)")
    lin = jvp(e, {"x": X, "w": REAL})
    dx = Table(Fin(3), (Fraction(1), Fraction(0), Fraction(2)))
    value, dot = tangent(lin, {"x": X_VALUE, "w": Fraction(3, 2)}, {"x": dx, "w": Fraction(1)})
    w, (a, b, c) = Fraction(3, 2), entries(X_VALUE)
    assert value == ((w + a) * w + b) * w + c
    assert dot == (3 * w * w) + 2 * w * a + b + (1 * w * w + 2)
    got = grad(e, {"x": X, "w": REAL}, {"x": X_VALUE, "w": w})
    assert entries(got["x"]) == [w * w, w, 1]
    assert got["w"] == 3 * w * w + 2 * w * a + b
    result = vjp(e, {"x": X, "w": REAL})
    assert result.checked.sequential  # the transpose of a sequential loop runs it backwards


def _chain(n: int) -> Expr:
    """``sum (for i:Fin 3. let y0 = x.i in let y1 = y0 * 0.5 + x.i in … y(n-1))``."""
    x_i = Index(Var("x"), Var("i"))
    body: Expr = Var(f"y{n - 1}")
    for k in reversed(range(1, n)):
        step = BinOp("+", BinOp("*", Var(f"y{k - 1}"), RealLit(Fraction(1, 2))), x_i)
        body = Let(f"y{k}", step, body)
    return App(Var("sum"), For("i", Fin(3), Let("y0", x_i, body)))


def _size(e: object) -> int:
    stack, count = [e], 0
    while stack:
        node = stack.pop()
        count += 1
        stack += [getattr(node, f) for f in getattr(type(node), "__slots__", ())
                  if isinstance(getattr(node, f), Expr)]
    return count


def test_a_long_run_of_lets_differentiates_exactly() -> None:
    n = 400
    got = grad(_chain(n), {"x": X}, {"x": X_VALUE})
    assert entries(got["x"]) == [2 - Fraction(1, 2 ** (n - 1))] * 3


def test_thousands_of_lets_transpose_to_a_program_of_linear_size() -> None:
    small, large = _chain(1000), _chain(2000)
    sizes = [_size(transpose(jvp(e, {"x": X}), ONE)) for e in (small, large)]
    assert sizes[1] <= 2.2 * sizes[0]


def test_cli_grad(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grad", str(EXAMPLES / "mlp.dx")]) == 0
    out = capsys.readouterr().out
    assert "d/dw1 = " in out and "0 sequential" in out


def test_repl_grad() -> None:
    session = Session()
    session.input(Source("a = for i:Fin 3. to_real (ordinal i)"))
    out = session.commands()["grad"].run("sum (for i:Fin 3. a.i * a.i)")
    assert isinstance(out, str) and out.startswith("d/da = [0.0, 2.0, 4.0]")


GRAD_LINES = [
    ":grad sum (for i:Fin 3. a.i * a.i)",
    ":grad let y = sum a in exp (y / 4.0) + log (1.0 + y * y)",
    ":grad sum (for i:Fin 3. if ordinal i < 1 then a.i else sqrt (1.0 + a.i * a.i))",
    ":grad sum (for i:Fin 3. (\\v:Real. v * v) a.(1@Fin 3))",
]


@fuzzing(60)
@given(inputs(GRAD_LINES))
def test_fuzz_grad_answers_are_calculus_errors(text: str) -> None:
    """``:grad`` on mistyped input ends in the calculus's own errors, never an internal one."""
    feed("dex", ["a = for i:Fin 3. to_real (ordinal i)", text])
