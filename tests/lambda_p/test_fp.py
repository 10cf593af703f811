"""Fp, the typed λp: syntax round trips, the typed examples against the untyped golden values,
type errors that name their rule and point at the culprit, ``:type`` in the REPL, the typed
machine, and the checker's mutants killed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from calculi.core.errors import CalculusError, TypeCheckError
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.lambda_p import fp_syntax as f
from calculi.lambda_p import fp_types as ty
from calculi.lambda_p.fp_examples import EXAMPLES, EXPECTED, READER_HANDLER
from calculi.lambda_p.fp_mutants import MUTANTS
from calculi.lambda_p.fp_parse import parse_expr, parse_item
from calculi.lambda_p.fp_pretty import show, show_item, show_row, show_type
from calculi.lambda_p.fp_program import FpProgram
from calculi.lambda_p.fp_semantics import Machine, Unhandled
from calculi.lambda_p.run import run_term, show_value
from proofs.registry import THEOREMS, check, select
from tests.lambda_p.test_examples import GOLDEN

TYPES = {
    "state": "Int",
    "amb_bool": "List Bool",
    "accum_seq": "((), Int)",
    "accum_done": "(String, Int)",
    "reader_for": "Fin 5 => Int",
    "sum": "Int",
    "weak_exc": "(Either String (), String)",
    "weak_exc_swapped": "Either String ((), String)",
    "amb_coins": "List String",
    "rng_for": "Fin 2 => String",
    "rng_unrolled": "Fin 2 => String",
}


@pytest.fixture(scope="module")
def program() -> FpProgram:
    return FpProgram.with_prelude()


def test_expected_values_are_the_golden_ones() -> None:
    assert {name: GOLDEN[name] for name in EXPECTED} == EXPECTED


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_typed_example_checks_and_erases_to_the_golden_value(program: FpProgram, name: str) -> None:
    typed = program.add(Source(EXAMPLES[name], name))
    assert typed is not None
    term, t, row = typed
    assert (show_type(t), show_row(row)) == (TYPES[name], "<>")
    assert show_value(run_term(program.erase(term), Fuel())) == GOLDEN[name]
    assert parse_expr(show(term), program.ctx.globals) == term


def test_prelude_items_round_trip() -> None:
    for text in ["effect amb : forall a. (Fin 2 => a) -> a", "def id = /\\a. \\(x:a). x",
                 "(/\\r:eff. \\<accum | r> (x:Int). perform accum^<| r> x) @<>",
                 "handle[\\x. (x, Int), Int] {return -> 1, traverse -> 2} 0 (3 + 1 * 2 == 4)",
                 "for i:Fin 3. <1, 2, 3>.i |> Int", "Left[Int] \"no\"",
                 "perform pick^<a, b | e>[Int, <x>] <1, 2>"]:
        item = parse_item(Source(text))
        assert parse_item(Source(show_item(item))) == item, text


def test_typed_machine_runs_an_example_to_its_golden_value(program: FpProgram) -> None:
    typed = program.add(Source(f"{READER_HANDLER} () (for x:Fin 5. perform ask ())"))
    term, _, row = typed or (None, None, None)
    assert isinstance(term, f.Handle) and row is not None
    value = Machine(program.ctx).evaluate(term, row, Fuel(10_000))
    assert show_value(program.erase(value)) == GOLDEN["reader_for"]


def test_typed_machine_stops_at_an_unhandled_operation(program: FpProgram) -> None:
    term, _, row = program.add(Source("x <- perform ask (); x + 1")) or (None, None, None)
    assert term is not None and row == f.Row(("ask",))
    with pytest.raises(Unhandled) as stuck:
        Machine(program.ctx).evaluate(term, row, Fuel(100))
    assert stuck.value.op == "ask"


REJECTED = [
    # (snippet, rule, the text the caret is under)
    ("(\\(x:Int). x) \"a\"", "t-app1", '"a"'),
    ("<1, 2>.(2 |> Fin 2)", "t-fin", "2 |> Fin 2"),
    ("for i:Fin 3. <1, 2>.i", "t-prj", "i"),
    ("\\(x:Int). perform accum x", "t-perform", "perform accum"),
    ("\\(f:Int -> <accum> Int). f 1", "t-app1", "f 1"),
    ("/\\a. 1 + 2", "t-tabs", "1 + 2"),
    ("1 @Int", "t-tapp", "1 @Int"),
    ("(/\\a:eff. 1) @Int", "t-tapp", "Int"),
    ("\\(x:Fin y). x", "k-fin", "y"),
    ("\\(x:Int -> <nope> Int). x", "k-row", "<nope>"),
    ("\\(x:List). x", None, None),
    ("(\\(n:Int) (xs:Fin n => Int). xs) (1 + 1)", "t-app2", "1 + 1"),
    ("(3 |> Fin 4) |> String", "t-int", "String"),
    ("if 1 then 2 else 3", "t-if", "1"),
    ("handle[\\x. x, Int] {return -> /\\a. \\(s:Int) (x:a). x, ask -> 1} 0 2", "t-handler", None),
    ("handle[\\x. x, Int] {return -> /\\a. \\(s:Int) (x:a). x, ask -> /\\b. \\(s:Int) (u:()) "
     "(k:Int -> Int -> b). k s s, traverse -> /\\a b. \\(n:Int) (s:Int) (l:Fin n => (Int -> a)) "
     "(k:Int -> (Fin n => a) -> b). k s (for i:Fin n. l.i s)} \"zero\" 2", "t-handle", '"zero"'),
]


@pytest.mark.parametrize(("text", "rule", "culprit"), REJECTED)
def test_rejected_with_the_rule_and_a_caret(program: FpProgram, text: str, rule: str | None,
                                            culprit: str | None) -> None:
    with pytest.raises(CalculusError) as err:
        program.add(Source(text))
    if rule is not None:
        assert isinstance(err.value, TypeCheckError) and err.value.rule == rule, err.value.render()
        assert f"[{rule}]" in err.value.render()
    if culprit is not None:
        assert err.value.span is not None and err.value.span.text == culprit, err.value.render()


def test_rows_are_multisets() -> None:
    a, aa, ba = f.Row(("ask",)), f.Row(("ask", "ask")), f.Row(("tick", "ask"))
    assert ty.row_equiv(f.Row(("ask", "tick")), ba) and not ty.row_equiv(a, aa)
    assert ty.equal(parse_expr("\\(x:Int -> <ask, tick> Int). x").ty,  # type: ignore[union-attr]
                    parse_expr("\\(x:Int -> <tick, ask> Int). x").ty)  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "expected"), [
    ("(\\(x:Int). \\(x:Fin x). x) 3", "Fin 3 -> Fin 3"),
    ("(\\(n:Int). for n:Fin n. n |> Int) 2", "Fin 2 => Int"),
    ("(\\(x:Int). x <- (for i:Fin x. 1); x) 2", "Fin 2 => Int"),
    ("(\\(n:Int) (xs:Fin n => Int). xs) 2", "(Fin 2 => Int) -> Fin 2 => Int"),
])
def test_a_binder_does_not_capture_the_variable_of_a_dependent_type(program: FpProgram, text: str,
                                                                     expected: str) -> None:
    typed = program.add(Source(text))
    assert typed is not None and show_type(typed[1]) == expected


def test_type_substitution_avoids_capture() -> None:
    inner = f.TForall("b", f.STAR, f.TArrow(None, f.TVar("a"), f.PURE, f.TVar("b")))
    out = ty.subst(inner, "a", f.TVar("b"))
    assert isinstance(out, f.TForall) and out.name != "b"
    assert ty.equal(out, f.TForall("c", f.STAR, f.TArrow(None, f.TVar("b"), f.PURE, f.TVar("c"))))


def test_repl_type_answers_with_a_type_and_a_row() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "calculi.repl", "lambda_p"],
        input="\n".join([":type 1 + 2", ":type perform accum 1", ":type runAccum",
                         ":type def twice = \\(g:Int -> Int) (x:Int). g (g x)", ":type twice",
                         ":type \\(x:Int). perform accum x"]) + "\n",
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        "Int | <>",
        "() | <accum>",
        "forall e:eff. forall a. (() -> <accum | e> a) -> <| e> (a, Int) | <>",
        "twice : (Int -> Int) -> Int -> Int",
        "(Int -> Int) -> Int -> Int | <>",
    ]
    assert "type error [t-perform]: unhandled operation accum" in lines[5]


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_checker_mutant_is_killed(mutant: object) -> None:
    select(theorem_id="lambda_p.fp")
    killers = ["lambda_p.fp.rows.multiset", "lambda_p.fp.checker_accepts_generated"]
    with mutant.activate():  # type: ignore[attr-defined]
        results = [check(THEOREMS[t], "ci", 0, shrink=False) for t in killers]
    assert any(not r.ok for r in results), f"{mutant} survived"
