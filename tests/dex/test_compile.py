"""The compiler to NumPy: the examples, the benchmark's programs against their hand-written peers,
fallbacks to the interpreter, and run-time errors with positions."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given, settings

from calculi.core.errors import CalculusError, StuckError
from calculi.core.syntax import Source
from calculi.dex.bench import CASES, Case
from calculi.dex.compile import Compiled, compile_program
from calculi.dex.parse import parse_program
from calculi.dex.strategies import expr_of
from calculi.dex.syntax import REAL, Enum, Expr, Fin, For, PairT, TableT
from calculi.dex.typing_base import size


def compiled(text: str) -> Compiled:
    return compile_program(parse_program(Source(text)))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_benchmark_programs_match_hand_written_numpy(case: Case) -> None:
    rng = np.random.default_rng(1)
    for n in (1, 3):
        program = compile_program(parse_program(Source(case.program(n))))
        args = case.inputs(n, rng)
        got = program(*args)
        assert program.mode == "numpy"
        assert np.allclose(np.asarray(got), np.asarray(case.hand(*args)), rtol=1e-9), case.name
        assert np.allclose(np.asarray(got), np.asarray(program.interpret(args)), rtol=1e-9)


def test_contraction_and_gather_agree_with_the_interpreter() -> None:
    text = ("\\a:Fin 3=>Fin 4=>Real. \\b:Fin 4=>Fin 2=>Real. for i:Fin 3. for k:Fin 2. "
            "sum (for j:Fin 4. a.i.j * b.j.k) + sum (for j:Fin 4. a.i.((3 - ordinal j)@Fin 4))")
    program = compile_program(parse_program(Source(text)))
    rng = np.random.default_rng(2)
    a, b = rng.random((3, 4)), rng.random((4, 2))
    want = a @ b + a.sum(axis=1, keepdims=True)
    assert np.allclose(np.asarray(program(a, b)), want) and program.mode == "numpy"
    assert np.allclose(np.asarray(program.interpret((a, b))), want)


def test_histogram_with_repeated_bins() -> None:
    text = ("snd (run_accum (Fin 3=>Real) \\h. for i:Fin 10. for j:Fin 2. "
            "h!((ordinal i % 3)@Fin 3) += 1.0)")
    assert np.asarray(compiled(text)()).tolist() == [8.0, 6.0, 6.0]


def test_accumulation_counts_every_iteration() -> None:
    text = "snd (run_accum Real \\r. for i:Fin 4. for j:Fin 5. r += 0.5)"
    assert float(np.asarray(compiled(text)())) == 10.0


def test_a_table_of_functions_falls_back_to_the_interpreter() -> None:
    program = compiled("let fs = for i:Fin 2. \\x:Real. x + to_real (ordinal i) in "
                       "fs.(1@Fin 2) 1.0")
    assert float(np.asarray(program())) == 2.0
    assert program.mode == "interpreter"


def test_run_time_errors_are_located() -> None:
    with pytest.raises(StuckError) as info:
        compiled("let x = for i:Fin 3. 1.0 in for i:Fin 3. x.((ordinal i + 1)@Fin 3)")()
    assert info.value.rule == "E-At" and info.value.span is not None
    with pytest.raises(StuckError):
        compiled("for i:Fin 3. 1.0 / to_real (ordinal i)")()


def test_a_huge_loop_nest_is_left_to_the_fuel_of_the_interpreter() -> None:
    program = compiled("sum (for i:Fin 100000000000. 1.0)")
    with pytest.raises(CalculusError) as info:
        program()
    assert program.mode == "interpreter" and info.value.kind == "out of fuel"


def test_a_running_sum_is_a_cumsum_and_agrees_with_the_loop() -> None:
    text = ("\\x:Fin 6=>Real. for r:Fin 2. fst (run_state (to_real (ordinal r)) \\s. "
            "for i:Fin 6. s := get s + x.i * 2.0; get s)")
    program = compiled(text)
    x = np.arange(6.0)
    want = np.array([[0.0], [1.0]]) + np.cumsum(2 * x)[None, :]
    assert np.allclose(np.asarray(program(x)), want) and program.mode == "numpy"
    assert np.allclose(np.asarray(program.interpret((x,))), want)


def test_a_sliding_window_read_is_a_view_and_a_correlation() -> None:
    text = ("\\x:Fin 10=>Real. \\w:Fin 3=>Real. "
            "for i:Fin 7. sum (for k:Fin 3. x.((1 + ordinal i + ordinal k)@Fin 10) * w.k)")
    program = compiled(text)
    x, w = np.arange(10.0) ** 2, np.array([1.0, -2.0, 0.5])
    want = np.array([sum(x[1 + i + k] * w[k] for k in range(3)) for i in range(7)])
    assert np.allclose(np.asarray(program(x, w)), want) and program.mode == "numpy"
    assert np.allclose(np.asarray(program.interpret((x, w))), want)


def test_a_guarded_read_drops_the_lanes_out_of_range() -> None:
    text = ("\\x:Fin 4=>Real. for i:Fin 6. if ordinal i - 1 < 4 then "
            "(if 0 <= ordinal i - 1 then x.((ordinal i - 1)@Fin 4) else 0.0) else 0.0")
    program = compiled(text)
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert np.asarray(program(x)).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 0.0]
    assert program.mode == "numpy"


def test_a_read_out_of_range_in_a_kept_lane_is_located() -> None:
    with pytest.raises(StuckError) as info:
        compiled("let x = for i:Fin 3. 1.0 in for i:Fin 3. "
                 "if 0 <= ordinal i then x.((ordinal i + 1)@Fin 3) else 0.0")()
    assert info.value.rule == "E-At" and "index 3" in str(info.value)


def test_a_weighted_histogram_is_a_bincount_with_weights() -> None:
    text = ("\\x:Fin 6=>Real. snd (run_accum (Fin 3=>Real) \\h. "
            "for i:Fin 6. h!(((2 * ordinal i + 1) % 3)@Fin 3) += x.i)")
    x = np.arange(6.0)
    want = np.zeros(3)
    np.add.at(want, (2 * np.arange(6) + 1) % 3, x)
    assert np.allclose(np.asarray(compiled(text)(x)), want)


def _bits(values: object) -> tuple[list[bool], list[bool], list[float]]:
    array = np.asarray(values, dtype=np.float64)
    return np.isnan(array).tolist(), np.signbit(array).tolist(), np.nan_to_num(array).tolist()


@pytest.mark.parametrize("op", ["<", "<="])
@pytest.mark.parametrize("constant", ["0.0", "0.5", "-1.0", "y.i"])
@pytest.mark.parametrize("value_left", [True, False])
@pytest.mark.parametrize("then_right", [True, False])
def test_max_and_min_are_the_interpreter_bit_for_bit(op: str, constant: str, value_left: bool,
                                                     then_right: bool) -> None:
    """``if l op r then r else l`` and kin, NaN, infinities and both zeros among the values (the
    rules take ``else`` on NaN, and ``-0.0 < 0.0`` is false)."""
    left, right = ("x.i", constant) if value_left else (constant, "x.i")
    then, orelse = (right, left) if then_right else (left, right)
    text = (f"\\x:Fin 12=>Real. \\y:Fin 12=>Real. "
            f"for i:Fin 12. if {left} {op} {right} then {then} else {orelse}")
    program = compiled(text)
    x = np.array([np.nan, -0.0, 0.0, -np.inf, np.inf, -1.0, 0.5, 2.0, -0.0, 0.0, np.nan, 0.5])
    y = np.array([1.0, 0.0, -0.0, 0.0, np.inf, np.nan, 0.5, -3.0, -0.0, 0.0, np.nan, -0.5])
    got = program(x, y)
    assert program.mode == "numpy"
    assert _bits(got) == _bits(program.interpret((x, y)))


def test_relu_is_one_maximum_and_keeps_negative_zero() -> None:
    program = compiled("\\x:Fin 4=>Real. for i:Fin 4. let a = x.i in if a < 0.0 then 0.0 else a")
    got = np.asarray(program(np.array([-0.0, np.nan, -2.0, 3.0])))
    assert np.signbit(got[0]) and np.isnan(got[1]) and got[2:].tolist() == [0.0, 3.0]


def test_max_on_integers() -> None:
    text = "for i:Fin 7. let a = 2 * ordinal i - 5 in if 1 <= a then a else 1"
    assert np.asarray(compiled(text)()).tolist() == [1, 1, 1, 1, 3, 5, 7]


@pytest.mark.parametrize("n", [1000, 2000])
def test_a_long_chain_of_lets_compiles(n: int) -> None:
    text = ("let x0 = for i:Fin 3. to_real (ordinal i) in "
            + "".join(f"let x{k} = for i:Fin 3. x{k - 1}.i + 0.5 in " for k in range(1, n + 1))
            + f"x{n}")
    program = compiled(text)
    assert np.asarray(program()).tolist() == [n / 2, n / 2 + 1, n / 2 + 2]
    assert program.mode == "numpy"


def _lanes(node: object, around: int = 1) -> int:
    """The most lanes any expression under ``node`` runs in: the product of the sizes of the index
    sets of the ``for``s around it."""
    if isinstance(node, tuple):
        return max((_lanes(x, around) for x in node), default=around)
    if not isinstance(node, Expr):
        return around
    if isinstance(node, For) and isinstance(node.type, Fin | Enum | PairT):
        around *= size(node.type)
    return max([around, *(_lanes(getattr(node, f.name), around) for f in fields(node))])


@settings(max_examples=200, database=None, derandomize=True)
@given(expr_of({}, TableT(PairT(Fin(3), Fin(3)), REAL), 0))
def test_a_table_at_the_generators_last_level_is_one_for(leaf: Expr) -> None:
    # It was once `for i. (for i. ...).i` a third of the time, of the same type, without end: seven
    # levels of 9 lanes, 4.8 million, ran the interpreter out of fuel (dex.compiler.agrees, seed 11).
    assert _lanes(leaf) == 9, leaf
