"""Parsing and printing: round trips in ASCII and Unicode, classified errors, long programs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings

from calculi.core.errors import CalculusError, ParseError, ScopeError, TypeCheckError, UnboundError
from calculi.core.syntax import Source
from calculi.linear_ad import parse_fast, semantics
from calculi.linear_ad.ad import grad, stages
from calculi.linear_ad.bench import FAMILIES
from calculi.linear_ad.calls import CallParser
from calculi.linear_ad.check import check_program
from calculi.linear_ad.eval import evaluate, function_work
from calculi.linear_ad.parse import parse_program, parse_reference
from calculi.linear_ad.pretty import show_program
from calculi.linear_ad.primitives import PRIMITIVES
from calculi.linear_ad.strategies import linear_programs, nonlinear_programs
from calculi.linear_ad.syntax import MAX_DEPTH, Block, Lit, LVar, Prim, Program, Var, Zero, operations
from calculi.linear_ad.transpose import transpose_program
from proofs.linear_ad.speed import rendered
from proofs.linear_ad.syntax import agree

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "linear_ad").glob("*.la"))


def parse(text: str) -> Program:
    return parse_program(Source(text))


def round_trips(p: Program) -> None:
    for unicode in (True, False):
        assert parse(show_program(p, unicode)) == p


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_round_trip_through_every_stage(path: Path) -> None:
    typing = check_program(parse(path.read_text()))
    round_trips(typing.program)
    for d in typing.program.defs:
        if d.lparams:
            round_trips(check_program(transpose_program(typing, d.name)).program)
            continue
        st = stages(typing, d.name)
        for stage in ("jvp", "unzip", "transpose"):
            round_trips(st.program(stage))


@settings(max_examples=40)
@given(nonlinear_programs(), linear_programs())
def test_generated_programs_round_trip(p: Program, q: Program) -> None:
    round_trips(p)
    round_trips(q)


def test_unicode_and_ascii_spellings_are_the_same_program() -> None:
    ascii_ = parse("def f(x: R ; dx: R) -> (R ; R) = let (; dy) = sin(x) *. dx (+) 0 in (x ; dy)")
    unicode = parse("def f(x: ℝ ; ẋ: ℝ) → (ℝ ; ℝ) = let (; ẏ) = sin(x) ⊙ ẋ ⊕ 0 in (x ; ẏ)")
    assert ascii_ == unicode
    assert "ẋ" in show_program(ascii_) and "dx" in show_program(unicode, unicode=False)


def test_pretty_form_is_close_to_the_paper() -> None:
    p = parse("def f(x: R, y: R) -> R = sin(x) * y")
    j = stages(check_program(p), "f").jvp.program
    assert show_program(j) == (
        "def f.jvp(x: ℝ, y: ℝ ; ẋ: ℝ, ẏ: ℝ) → (ℝ ; ℝ) =\n"
        "  let y1 = sin(x) in\n"
        "  let (; ẏ1) = cos(x) ⊙ ẋ in\n"
        "  let y2 = y1 × y in\n"
        "  let (; ẏ2) = y ⊙ ẏ1 ⊕ y1 ⊙ ẏ in\n"
        "  (y2 ; ẏ2)"
    )


@pytest.mark.parametrize(("text", "kind", "fragment", "column"), [
    ("def f(x: R) -> R = let y = x y", ParseError, "missing 'in'", 30),
    ("def f(x: R) -> R = x +", ParseError, "missing operand", 22),
    ("def f(x: R) -> R = z", UnboundError, "z is not in scope", 20),
    ("def f(x: R) -> R = g(x)", UnboundError, "unknown function or primitive g", 20),
    ("def f(x: R) -> R = sin(x, x)", TypeCheckError, "sin takes 1", 20),
    ("def f(x: R) -> (R ; R) = (x ; sin(x))", TypeCheckError, "only variables", 31),
    ("def f(x: Q) -> R = x", ParseError, "unknown type Q", 10),
    ("def sin(x: R) -> R = x", ParseError, "sin is a primitive", 5),
    ("def f(x: R, y: R) -> (R, R ;) = (x, y)", ParseError, "results are written '(x, y ;)'", 38),
])
def test_bad_input_is_a_calculus_error_with_a_span(text: str, kind: type, fragment: str, column: int) -> None:
    with pytest.raises(CalculusError) as info:
        check_program(parse(text))
    err = info.value
    assert isinstance(err, kind) and fragment in err.reason, err.render()
    assert err.span is not None and err.span.column == column, err.render()
    assert "^" in err.render()


def test_long_programs_parse_check_and_transform_without_recursion() -> None:
    n = 1_500
    text = "def f(x: R) -> R = " + "".join(f"let x{i + 1} = sin(x{i}) in " for i in range(n))
    text = text.replace("(x0)", "(x)") + f"x{n}"
    typing = check_program(parse(text))
    body = typing.program.defs[0].body
    assert isinstance(body, Block) and len(body.bindings) == n
    st = stages(typing, "f")
    assert st.transposed.program.defs[0].name == "f.jvp.lin.T"
    assert len(show_program(st.transposed.program).splitlines()) > n


def test_operations_count_each_application_and_call_once_where_it_is_written() -> None:
    text = """def g(x: R) -> R = sin(x) * x
def f(x: R) -> R = let y = g(x) in let z = g(y) in g(z) + x"""
    typing = check_program(parse(text))
    assert operations(typing.program) == 2 + 4
    assert function_work(typing, "f") == 3 * 2 + 1  # (g's body at each of the three calls, and the +)
    sizes = {"chain": 1.0, "call-chain": 1.0, "helpers": 1.5, "calls": 0.5}  # (operations per unit of n)
    for family, per in sizes.items():
        assert abs(operations(FAMILIES[family](400)) - per * 400) <= 2, family


@pytest.mark.slow
@pytest.mark.parametrize("family", ["sum", "nested-lets", "call-chain"])
def test_the_deepest_programs_run_through_every_stage_and_one_level_more_is_refused(family: str) -> None:
    """Just below ``MAX_DEPTH`` every stage runs (no ``RecursionError``); a little past it, the parser
    or the checker refuses the program with its position."""
    levels = {"sum": 2, "nested-lets": 2, "call-chain": 1}[family]
    program = FAMILIES[family](levels * (MAX_DEPTH - 6))
    typing = check_program(parse(show_program(program)))
    name = typing.program.defs[-1].name
    assert MAX_DEPTH - 12 <= typing.depths[name] <= MAX_DEPTH
    value = evaluate(typing, name, [0.5])
    assert semantics.evaluate(typing, name, [0.5]) == value
    st = stages(typing, name)
    round_trips(st.program("jvp"))
    assert grad(typing, name, [0.5])[0] == value[0][0]
    with pytest.raises(CalculusError, match=r"nested too deeply|nests too deeply") as info:
        check_program(parse(show_program(FAMILIES[family](levels * (MAX_DEPTH + 6)))))
    assert info.value.span is not None


# -- operators -------------------------------------------------------------------------------------


def shape(text: str) -> object:
    """The body of ``def f(x: R, y: R) -> R = text`` as a nested tuple of primitive names and leaves."""

    def walk(e: object) -> object:
        if isinstance(e, Prim):
            return (e.prim.name, *(walk(a) for a in (*e.args, *e.largs)))
        if isinstance(e, Var | LVar):
            return e.hint
        if isinstance(e, Zero):
            return "0"
        assert isinstance(e, Lit)
        return e.text

    return walk(parse(f"def f(x: R, y: R) -> R = {text}").defs[0].body)


@pytest.mark.parametrize(("text", "expected"), [
    ("x - y - x", ("sub", ("sub", "x", "y"), "x")),
    ("x / y / x", ("div", ("div", "x", "y"), "x")),
    ("x ** y ** x", ("pow", "x", ("pow", "y", "x"))),
    ("-x ** 2", ("neg", ("pow", "x", "2"))),
    ("(-x) ** 2", ("pow", ("neg", "x"), "2")),
    ("2 ** -x", ("pow", "2", ("neg", "x"))),
    ("x ** -y ** 2", ("pow", "x", ("neg", ("pow", "y", "2")))),
    ("-x * y", ("mul", ("neg", "x"), "y")),
    ("x + y * x - y / x", ("sub", ("add", "x", ("mul", "y", "x")), ("div", "y", "x"))),
    ("- -x", ("neg", ("neg", "x"))),
    ("x --comment\n", "x"),
    # a number may carry its sign, except after an operand (as Python reads it) or before **
    ("-1.5", "-1.5"),
    ("- 1.5", ("neg", "1.5")),
    ("x -1.5", ("sub", "x", "1.5")),
    ("x-1.5", ("sub", "x", "1.5")),
    ("x - -1.5", ("sub", "x", "-1.5")),
    ("x * -1.5", ("mul", "x", "-1.5")),
    ("-1.5 ** 2", ("neg", ("pow", "1.5", "2"))),
    ("(-1.5) ** 2", ("pow", "-1.5", "2")),
    ("x ** -1.5", ("pow", "x", "-1.5")),
    ("-1e-3", "-1e-3"),
    ("-0", "-0"),
])
def test_operators_bind_as_in_python(text: str, expected: object) -> None:
    assert shape(text) == expected
    assert parse_fast.parse(Source(f"def f(x: R, y: R) -> R = {text}")) is not None


@pytest.mark.parametrize(("text", "printed"), [
    ("- -x", "- -x"),
    ("- 1.5", "- 1.5"),
    ("-(x ** 2)", "-x ** 2"),
    ("(-x) ** 2", "(-x) ** 2"),
    ("(-1.5) ** 2", "(-1.5) ** 2"),
    ("x - (y - x)", "x - (y - x)"),
    ("(x - y) - x", "x - y - x"),
    ("x ** (y ** x)", "x ** y ** x"),
    ("(x ** y) ** x", "(x ** y) ** x"),
    ("x / (y * x)", "x / (y * x)"),
    ("x - -1.5", "x - -1.5"),
])
def test_operators_print_with_the_parentheses_they_need(text: str, printed: str) -> None:
    p = parse(f"def f(x: R, y: R) -> R = {text}")
    assert show_program(p, unicode=False).split(" = ", 1)[1] == printed
    round_trips(p)


def test_an_operator_whose_primitive_is_missing_is_a_located_error() -> None:
    sub = PRIMITIVES.pop("sub")
    try:
        with pytest.raises(UnboundError, match=r"unknown primitive sub") as info:
            parse("def f(x: R, y: R) -> R = x * y - x")
    finally:
        PRIMITIVES["sub"] = sub
    assert info.value.rule == "Prim" and info.value.span is not None and info.value.span.column == 32


# -- scope errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "kind", "rule", "fragment", "column"), [
    ("def f(x: R) -> R = z", UnboundError, "Var", "z is not in scope", 20),
    ("def f(x: R) -> R = g(x)", UnboundError, "App", "unknown function or primitive g", 20),
    ("def f(x: R) -> R = f(x)", UnboundError, "App", "f calls itself", 20),
    ("def f(x: R) -> R = g(x)\ndef g(x: R) -> R = x", UnboundError, "App",
     "g is called before its definition at <input>:2:5", 20),
    ("def f(x: R) -> R = x\ndef f(y: R) -> R = y", ScopeError, "Def",
     "function f is defined twice: first at <input>:1:5", 5),
])
def test_scope_errors_name_their_rule(text: str, kind: type, rule: str, fragment: str, column: int) -> None:
    with pytest.raises(CalculusError) as info:
        parse(text)
    err = info.value
    assert type(err) is kind and err.rule == rule and fragment in err.reason, err.render()
    assert err.span is not None and err.span.column == column, err.render()
    assert f"[{rule}]" in err.render()


# -- the fast parser -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_the_fast_parser_reads_the_examples_as_the_reference_does(path: Path) -> None:
    program = agree(path.read_text(encoding="utf-8"))
    assert isinstance(program, Program)


@pytest.mark.parametrize(("text", "reason"), [
    ("def f(x: R) -> R = " + "(" * 5_000 + "x" + ")" * 5_000, parse_fast.DEEP),
    ("def f(x: R) -> R = " + "- " * 5_000 + "x", parse_fast.DEEP),
    ("def f(x: R) -> R = " + " ** ".join(["x"] * 5_000), parse_fast.DEEP),
    ("def f(x: R) -> R = sin[k=1](x)", parse_fast.FORM),
    ("defg(x: R) -> R = x", parse_fast.FORM),
    ("def f(x: R) -> R = let y = x iny", parse_fast.FORM),
    ("def f(x: R) -> R = x +", parse_fast.INVALID),
    ("def f(x: R) -> R = x\ndef f(x: R) -> R = x", parse_fast.INVALID),
])
def test_the_fast_parser_hands_over_what_it_does_not_read(text: str, reason: str) -> None:
    """Deep nesting never reaches a RecursionError; the reference parser then decides."""
    assert agree(text) == reason


def test_syntax_errors_are_the_reference_parsers() -> None:
    for text in ["def f(x: R) -> R = x +", "def f(x: R) -> R = (x", "def f(x R) -> R = x",
                 "def f(x: R) -> R = let y = x y", "def f(x: R) -> R = x ** * x"]:
        with pytest.raises(ParseError) as fast:
            parse(text)
        with pytest.raises(ParseError) as reference:
            parse_reference(Source(text))
        assert fast.value.render() == reference.value.render()


def test_values_on_the_command_line_take_every_float_spelling() -> None:
    def value(text: str) -> object:
        return CallParser(Source(text)).argument()

    for text in ["-1e-3", "-1.", "-.5", "+2", "1_000.5", "1E+3", "(1, -2.)"]:
        assert value(text) == (eval(text.replace("_", "")) if "(" in text else float(text))
    assert value("-inf") == float("-inf") and value("Infinity") == float("inf")
    assert value("nan") != value("nan")
    with pytest.raises(ParseError, match="after the value"):
        value("1__0")


PRINTED_BODIES = ["- -x", "(-1.5) ** 2", "x - (y - x) ** y", "exp(sin(x) * y) / (x + -2.0)", "max(x, y)",
                  "let u = x * y in let v = u * u in v - y"]


@pytest.mark.parametrize("text", PRINTED_BODIES)
def test_the_fast_printer_lays_bodies_out_as_the_document_renders(text: str) -> None:
    body = f"let z = {text} in let w = (let u = {text} in u * z) in let t = tup(w, z) in " \
           f"let (a, b) = unpack t in let (;) = drop(a) in b + (let q = z in q * y) - w * x"
    p = check_program(parse(f"def f(x: R, y: R) -> R = {body}")).program
    st = stages(check_program(p), "f")
    for q in (p, st.program("jvp"), st.program("unzip"), st.program("transpose")):
        for unicode in (True, False):
            for width in (100, 24, 3):
                assert show_program(q, unicode, width) == rendered(q, unicode, width)


def test_nodes_built_by_their_quick_constructors_are_the_dataclasses() -> None:
    span = Source("x").span(0, 1)
    v = Var(3, "y", span=span)
    assert (v.name, v.hint, v.span) == (3, "y", span) and Var(3).hint == "x" and Var(3).span is None
    linear: object = LVar(3)
    assert v == Var(3, "z") and hash(v) == hash(Var(3)) and v != linear
    p = Prim(PRIMITIVES["sin"], (v,))
    assert (p.largs, p.params, p.span) == ((), (), None) and p == Prim(PRIMITIVES["sin"], (Var(3),), ())
    assert repr(Block((), v)) == "Block(bindings=(), result=Var(name=3, hint='y'))"
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.name = 4  # type: ignore[misc]
    with pytest.raises(TypeError):
        Var()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Var(1, "x", span)  # type: ignore[call-arg]
