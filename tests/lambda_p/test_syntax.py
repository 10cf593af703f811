"""Parsing, desugaring and printing: errors with spans, the desugarings pinned, the papers'
typos pinned, round trips, deep inputs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from calculi.core.errors import CalculusError, ParseError, UnboundError
from calculi.core.parsing import show_int
from calculi.core.pretty import render
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.lambda_p import eval as fast
from calculi.lambda_p.flat import data_text, flat_data
from calculi.lambda_p.parse import parse_term
from calculi.lambda_p.pretty import show, to_doc
from calculi.lambda_p.program import Program, prelude
from calculi.lambda_p.run import run_term, run_text, show_value
from calculi.lambda_p.strategies import data_texts
from calculi.lambda_p.syntax import UNIT, App, For, Handle, Lam, Lit, Prim, Term, Var
from calculi.lambda_p.values import to_term


def parse(text: str) -> Term:
    return parse_term(Source(text), prelude())


def run(text: str, machine: str = "fast", variant: str = "icfp24") -> str:
    (term,) = Program.with_prelude(variant).expressions(Source(text))
    return show_value(run_term(term, Fuel(), variant, machine=machine))


@pytest.mark.parametrize(
    ("text", "column", "reason"),
    [
        ("\\x.", 3, "missing body after '.'"),
        ("handle 1 2", 8, "a handler needs clauses"),
        ("1 + (2", 6, "unclosed parenthesis"),
        ("x", 1, "x is not defined"),
        ("Foo 1", 1, "unknown constructor Foo"),
        ("\\_. _", 5, "'_' is a pattern, not a value"),
        ("handle {return -> \\x. x} 1 2 3", 1, "handle takes a parameter and a computation"),
        ("handle {return -> \\x. x, return -> \\x. x} 1", 26, "clause 'return' given twice"),
        ('"abc', 1, "unterminated string literal"),
        ('f "abc + 1', 3, "unterminated string literal"),
        ('x ++ "abc', 6, "unterminated string literal"),
        ('"ab" ++ "c', 9, "unterminated string literal"),
        ('f "abc x "y"', 12, "unterminated string literal"),
        (r'"a\\" ++ "b', 10, "unterminated string literal"),
        (r'"a\"', 1, "unterminated string literal"),
        ('x ++ "abc\n  ++ "d"', 6, "unterminated string literal"),
        ('f "abc x "y) + "z', 16, "unterminated string literal"),
        ('x $ -- "', 3, "unexpected character '$'"),
        ("def f x =", 9, "missing definition body after '='"),
        ("def f =", 7, "missing definition body after '='"),
        ("def f (a, b) y =", 16, "missing definition body after '='"),
        ("(1,", 3, "missing component after ','"),
        ("(1, 2,", 6, "missing component after ','"),
        ("<1,", 3, "missing component after ','"),
        ("<1, 2, 3,", 9, "missing component after ','"),
        ("(1", 2, "unclosed parenthesis"),
        ("(1, 2", 5, "unclosed parenthesis"),
        ("<1", 2, "unclosed array"),
        ("<1, 2", 5, "unclosed array"),
        ("-3 + x", 1, "negative numbers are written in parentheses: (-3)"),
        ("-3", 1, "negative numbers are written in parentheses: (-3)"),
        ("x * -3", 5, "negative numbers are written in parentheses: (-3)"),
        ("(x, -12)", 5, "negative numbers are written in parentheses: (-12)"),
        ("f -3", 1, "f is not defined"),
        ("(-3) + x", 8, "x is not defined"),
    ],
)
def test_bad_input_is_a_located_error(text: str, column: int, reason: str) -> None:
    with pytest.raises((ParseError, UnboundError)) as info:
        parse(text)
    assert info.value.span is not None
    assert info.value.span.column == column, info.value.render()
    assert reason in info.value.reason


def test_minus_before_a_literal_is_subtraction_where_a_term_can_end() -> None:
    assert run("(\\f. f -3) 5") == "2"
    assert run("1 - 2") == "(-1)"
    assert run("(-3) + 1") == "(-2)"


def test_sequencing_and_binding_desugar_to_applications() -> None:
    assert parse("x <- 1; x + 1") == App(Lam(0, Prim("+", (Var(0), Lit(1)))), Lit(1))
    assert parse("1; 2") == App(Lam(0, Lit(2)), Lit(1))


def test_for_with_a_computed_bound_binds_it_first() -> None:
    term = parse("for i:(1 + 1). i")
    assert term == App(Lam(0, For(1, Var(0), Var(1))), Prim("+", (Lit(1), Lit(1))))


def test_unparameterized_handler_takes_unit_and_resumes_with_it() -> None:
    term = parse("handle {return -> \\x. x, ask -> \\x k. k 1} (perform ask ())")
    assert isinstance(term, Handle)
    assert term.param == UNIT
    assert show(term.handler.clause("ask")) == "\\_ x k. (\\_ k1. k1 1) x (\\y. k () y)"  # type: ignore[arg-type]


def test_default_traverse_is_inserted_and_warned_about() -> None:
    program = Program.with_prelude()
    program.expressions(Source("handle {return -> \\s x. x} 0 1"))
    assert program.warnings == []
    (term,) = program.expressions(Source("handle {return -> \\s x. (x, s)} 0 1"))
    assert len(program.warnings) == 1 and "default traverse" in program.warnings[0]
    assert isinstance(term, Handle)
    assert show(term.handler.clause("traverse")) == "\\n s l k. k s (for i:n. l.i s)"  # type: ignore[arg-type]


def test_runrandom_continues_with_keys_n() -> None:
    """ICFP'24 §5.3 prints keys.(n+1), out of range for n+1 keys; keys.n is meant."""
    assert run('runRandom "k" (\\_. (for i:2. sampleUniform ()); sampleUniform ())') == '"k_2_0"'


def test_runamb_concatenates_the_branches() -> None:
    """The printed runAmb omits concatenate; without it the result would be nested arrays."""
    assert run("runAmb (\\_. x <- amb <1, 2>; y <- amb <3, 4>; x * y)") == "<3, 4, 6, 8>"


def test_parallel_premise_is_evaluation_to_a_value() -> None:
    """(parallel)'s premise is printed with ↦ but means ↦*: iterations run to values."""
    assert run("for i:2. (\\x. (\\y. y + i) x) 1", machine="small-step") == "<1, 2>"


def test_default_traverse_of_pepm22_passes_parameters_to_one_function() -> None:
    assert run("runReader 5 (\\_. for i:3. ask () + i)", variant="pepm22") == "<5, 6, 7>"


@pytest.mark.parametrize(
    "text",
    [
        "\\x. \\x. x",
        "\\map. map 1",
        "\\x. map (\\y. x) <1>",
        '(\\s. s ++ "q\\"\\\\") "a"',
        "case Left 1 of {Left x -> x | Right _ -> (-2)}",
        "(a, b) <- (1, 2); b",
        "handle {return -> \\s x. x, get -> \\s _ k. k s s} 0 (perform get ())",
        "<1, 2>.(0 + 1)",
        "if 1 < 2 then <> else <<>>",
    ],
)
def test_printing_round_trips(text: str) -> None:
    term = parse(text)
    for sugar in (True, False):
        assert parse(show(term, sugar=sugar)) == term, show(term, sugar=sugar)


def test_deep_inputs_parse_print_and_run() -> None:
    seq = "runAccum (+) 0 (\\_. " + "accum 1; " * 2000 + "0)"
    assert run(seq) == "(0, 2000)"
    nested = "(" * 3000 + "1" + ")" * 3000
    assert run(nested, machine="small-step") == "1"
    assert show(parse("1" + " + 1" * 3000)).count("+") == 3000


def test_stuck_states_are_grouped_as_in_lemma_6_4() -> None:
    cases = {
        "perform ask 1": "unhandled operation",
        "1 2": "not a function",
        "<1>.1": "bad index",
        "1.0": "bad index",
        "handle {traverse -> \\n s l k. 0} 0 1": "missing clause",
        "for i:(0 - 1). i": "bad loop bound",
        '1 + "a"': "bad primitive",
    }
    for text, group in cases.items():
        for machine in ("fast", "small-step"):
            with pytest.raises(CalculusError) as info:
                run(text, machine=machine)
            assert getattr(info.value, "group", None) == group, (text, machine, info.value.render())
            assert info.value.span is not None


@settings(max_examples=60, deadline=None)
@given(data_texts())
def test_data_prints_flat_as_the_printer_lays_it_out(text: str) -> None:
    """Data printed without documents (from its term, and from the fast evaluator's value) is what
    the printer's documents give."""
    term = parse_term(Source(text))
    value = fast.evaluate(term, Fuel())
    by_documents = render(to_doc(to_term(value), flat=False), 100)
    assert flat_data(to_term(value)) == data_text(value) == by_documents == show(to_term(value))


def test_huge_integers_print_whole() -> None:
    program = Program.with_prelude()
    program.add(Source("def p n = if n == 0 then 1 else 10 * p (n - 1)"))
    (term,) = program.expressions(Source("(p 4400, show (0 - p 4400))"))
    assert run_text(term, Fuel()) == f'(1{"0" * 4400}, "-1{"0" * 4400}")'
    (term,) = program.expressions(Source(f"x <- {'9' * 4300}; (x * x, show x)"))
    square = show_int(int("9" * 4300) ** 2)
    for machine in ("fast", "small-step"):
        assert run_text(term, Fuel(), machine=machine) == f'({square}, "{"9" * 4300}")'
