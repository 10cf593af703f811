"""Golden values of the pointful examples in examples/dex, each written out by hand here."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest

from calculi.core.files import read_source
from calculi.core.syntax import Source
from calculi.dex.check import check
from calculi.dex.commands import Session, items
from calculi.dex.pretty import show_type
from calculi.dex.syntax import Fin
from calculi.dex.values import Table, Value

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "dex"
ROOT2 = math.sqrt(2)


def result(name: str) -> Value:
    """The value of the last item of ``examples/dex/NAME.dx``."""
    session = Session()
    list(session.load(read_source(EXAMPLES / f"{name}.dx")))
    assert session.last is not None
    return session.last[0]


def numbers(value: Value) -> object:
    """A table as nested lists of floats; a pair as a tuple."""
    if isinstance(value, Table):
        return [numbers(v) for v in value.elems]
    if isinstance(value, tuple):
        return tuple(numbers(v) for v in value)
    assert isinstance(value, Fraction | float | int)
    return float(value)


def close(got: object, want: object) -> bool:
    if isinstance(want, list | tuple):
        return (isinstance(got, list | tuple) and len(got) == len(want)
                and all(close(g, w) for g, w in zip(got, want, strict=True)))
    assert isinstance(got, float) and isinstance(want, float | int)
    return math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12)


GOLDEN: dict[str, object] = {
    # a = [[0, 2, 4], [1, 3, 5]], b = [[0, -0.5], [0.5, 0], [1, 0.5]]
    "matmul": [[5.0, 2.0], [6.5, 2.0]],
    # exp [0, 0.5, 1, 1.5] / its sum
    "softmax": [0.1015363240915518, 0.16740509727844333, 0.27600434470659363, 0.45505423392341127],
    # rows [0, 1, 4, 9] and [4, 6, 12, 22], centred and scaled (variance + 1e-5)
    "layernorm": [[-0.9999995918369846, -0.7142854227407033, 0.14285708454814067, 1.5714279300295473],
                  [-0.9999998979591993, -0.7142856413994281, 0.14285712827988561, 1.5714284110787418]],
    # x = [0, 1, 4, 9, 16, 25], w = [-1, 0, 1]: y.i = x.(i+2) - x.i
    "conv1d": [4.0, 8.0, 12.0, 16.0],
    # running totals of [1, 2, 3, 4, 5], and the final total
    "prefix_sum": ([1.0, 3.0, 6.0, 10.0, 15.0], 15.0),
    # points 0, 3/8, 1/2, 3/8, 0, 3/8, 1/2, 3/8 into four bins of width 1/4
    "histogram": [2.0, 4.0, 2.0, 0.0],
    # points (2, 3), (4, 1), (1, 4)
    "pairwise": [[0.0, 2 * ROOT2, ROOT2], [2 * ROOT2, 0.0, 3 * ROOT2], [ROOT2, 3 * ROOT2, 0.0]],
    # mean squared error of the perceptron on its three examples
    "mlp": 289 / 768,
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_example_value(name: str) -> None:
    assert close(numbers(result(name)), GOLDEN[name])


def test_every_example_has_a_golden_value() -> None:
    assert sorted(p.stem for p in EXAMPLES.glob("*.dx")) == sorted(GOLDEN)


def test_exact_where_the_arithmetic_is_exact() -> None:
    assert result("mlp") == Fraction(289, 768)
    assert result("prefix_sum") == (Table(Fin(5), tuple(Fraction(k) for k in (1, 3, 6, 10, 15))),
                                    Fraction(15))


def loops_of_last_item(name: str) -> tuple[list[str], int]:
    """The indices of the sequential loops of the example's last item, and how many are parallel."""
    source = read_source(EXAMPLES / f"{name}.dx")
    session = Session()
    list(session.load(source))
    first, text = list(items(source.text))[-1]
    checked = check(session.parse(Source("\n" * (first - 1) + text)), session.types)
    return [loop.index for loop in checked.sequential], len(checked.parallel)


def test_the_prefix_sum_is_sequential_and_the_histogram_parallel() -> None:
    assert loops_of_last_item("prefix_sum") == (["i"], 0)
    assert loops_of_last_item("matmul") == ([], 0)  # the loops are inside the definition
    assert loops_of_last_item("conv1d") == ([], 2)
    assert loops_of_last_item("histogram") == ([], 1)


def test_examples_leave_index_sets_to_inference() -> None:
    """``for i. e`` in the examples: the index sets come from the tables the bodies index."""
    session = Session()
    list(session.load(read_source(EXAMPLES / "matmul.dx")))
    assert show_type(session.types["matmul"]) == \
        "Fin 2=>Fin 3=>Real -> Fin 3=>Fin 2=>Real -> Fin 2=>Fin 2=>Real"
    assert "for i. for k. sum (for j. " in (EXAMPLES / "matmul.dx").read_text()
    session = Session()
    list(session.load(read_source(EXAMPLES / "pairwise.dx")))
    assert show_type(session.types["curry"]) == "(Fin 3, Fin 3)=>Real -> Fin 3=>Fin 3=>Real"
