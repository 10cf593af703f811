"""Snippets the checker must reject, each with the rule it names and a position; and the types,
effect rows and loop kinds of the ones it accepts."""

from __future__ import annotations

import pytest

from calculi.core.errors import CalculusError, ParseError
from calculi.core.syntax import Source
from calculi.dex.check import check
from calculi.dex.parse import parse_program
from calculi.dex.pretty import show, show_row, show_type
from calculi.dex.semantics import evaluate
from calculi.dex.syntax import PRIMITIVES

X = "let x = for i:Fin 3. to_real (ordinal i) in "

REJECTED = [
    (X + "x.(3@Fin 3)", "T-At", "index 3 is out of range for Fin 3"),
    (X + "x.((-1)@Fin 3)", "T-At", "index -1 is out of range"),
    (X + "let y = for j:Fin 4. 1.0 in for i:Fin 3. y.i", "T-Index", "expected Fin 4"),
    (X + "x.1", "T-Index", "has type Int, expected Fin 3"),
    ("for i:Real. 1.0", "T-For", "for ranges over an index set"),
    ("\\x:Real=>Real. x", "T-For", "a table is indexed by an index set"),
    ("1 + 1.0", "T-Arith", "expected Int"),
    ("1 / 2", "T-Arith", "use to_real"),
    ("2.0 % 1.0", "T-Arith", "remainder of Ints"),
    ("if 1 then 2 else 3", "T-If", "expected Bool"),
    ("sum", "T-Prim", "apply it"),
    ("sum 1.0", "T-Prim", "sum takes a table of Real"),
    ("q", "T-Var", "q is not in scope"),
    ("(\\x:Real. x) 1", "T-App", "the argument has type Int, expected Real"),
    ("1.0 2.0", "T-App", "not a function"),
    ("run_state 0 \\s. s += 1", "T-Accum", "+= needs a Accum reference; s is a State reference"),
    ("run_accum Real \\r. get r", "T-Get", "get needs a State reference"),
    ("with_reader 1.0 \\r. r := 2.0", "T-Put", ":= needs a State reference"),
    ("run_accum Int \\r. 1", "T-RunAccum", "sums into Real or a table of reals"),
    ("run_state 1.0 \\s. (\\x:Real. s := x)", "T-RunState", "escapes run_state"),
    ("run_accum Real \\r. r", "T-RunAccum", "escapes run_accum"),
    ("1.0; 2.0", "T-Seq", "a statement returns ()"),
    ("case 1 of a -> 1", "T-Case", "case takes an enumeration"),
    ("case red@{red|blue} of red -> 1", "T-Case", "misses blue"),
    ("case red@{red|blue} of red -> 1 | blue -> 2.0", "T-Case", "expected Int"),
    ("green@{red|blue}", "T-At", "has the labels red, blue"),
    ("1@Real", "T-At", "makes an index of Fin n"),
    ("\\f:Real -> {State s} Real. 1.0", "T-Lam", "s in an effect row is not a reference in scope"),
    ("ordinal (0@Fin 2, 0@Fin 2)", "T-Prim", "of a pair index"),
]


@pytest.mark.parametrize(("text", "rule", "reason"), REJECTED, ids=[r[0] for r in REJECTED])
def test_rejected(text: str, rule: str, reason: str) -> None:
    with pytest.raises(CalculusError) as info:
        check(parse_program(Source(text)))
    assert info.value.rule == rule, info.value.render()
    assert reason in info.value.reason, info.value.render()
    assert info.value.span is not None


ACCEPTED = [
    ("run_accum Real \\r. for i:Fin 3. r += 1.0", "(Fin 3=>(), Real)", "{}", [(False, "{Accum r}")]),
    ("run_state 0 \\s. for i:Fin 3. s := get s + 1", "(Fin 3=>(), Int)", "{}", [(True, "{State s}")]),
    ("with_reader 2.0 \\r. for i:Fin 3. ask r", "Fin 3=>Real", "{}", [(False, "{Read r}")]),
    ("run_accum Real \\r. \\x:Real. r += x", None, None, None),
    ("run_accum (Fin 2=>Real) \\r. run_state 0.0 \\s. for i:Fin 2. r!i += get s",
     "((Fin 2=>(), Real), Fin 2=>Real)", "{}", [(True, "{Accum r, State s}")]),
    ("\\t:(Fin 2, Fin 3)=>Real. for i:Fin 2. for j:Fin 3. t.(i, j)",
     "(Fin 2, Fin 3)=>Real -> Fin 2=>Fin 3=>Real", "{}", [(False, "{}"), (False, "{}")]),
    ("let sum = \\x:Real. x + 1.0 in sum 1.0", "Real", "{}", []),
]


@pytest.mark.parametrize(("text", "ty", "row", "loops"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_accepted(text: str, ty: str | None, row: str | None,
                  loops: list[tuple[bool, str]] | None) -> None:
    if ty is None:  # a function that closes over its handler's reference escapes it
        with pytest.raises(CalculusError, match="escapes"):
            check(parse_program(Source(text)))
        return
    checked = check(parse_program(Source(text)))
    assert show_type(checked.type) == ty
    assert show_row(checked.row) == row
    got = [(id(loop) not in checked.parallel, show_row(r)) for loop, r in checked.loops]
    assert got == loops


def test_an_effectful_function_type_names_its_row() -> None:
    text = "run_accum Real \\r. let f = \\x:Real. r += x in for i:Fin 2. f 1.0"
    checked = check(parse_program(Source(text)))
    assert show_type(checked.type) == "(Fin 2=>(), Real)"
    assert [show_row(r) for _, r in checked.loops] == ["{Accum r}"]
    with pytest.raises(CalculusError, match="escapes"):
        check(parse_program(Source("run_accum Real \\r. \\x:Real. r += x")))


BAD_SYNTAX = ["for i x", "for i.", "\\x. x", "let x = 1", "1 +", "(1", "for i:Fin. x", "9" * 5000,
              "x = 1", "", "-- only a comment", "case c of", "{red}", "r +="]


@pytest.mark.parametrize("text", BAD_SYNTAX)
def test_syntax_errors_are_located(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_program(Source(text))
    assert info.value.span is not None


def test_every_primitive_has_a_typing_rule() -> None:
    for p in PRIMITIVES:
        with pytest.raises(CalculusError) as info:
            check(parse_program(Source(f"{p} ()")))
        assert info.value.rule in ("T-Prim", "T-Get", "T-Ask"), (p, info.value.render())


INFERRED = [
    (X + "for i. x.i * 2.0", "Fin 3=>Real", ["Fin 3"]),
    (X + "let m = for i:Fin 2. x in for i. for j. m.i.j", "Fin 2=>Fin 3=>Real", ["Fin 3", "Fin 2"]),
    (X + "let m = for i:Fin 2. x in for j. for i. m.i.j", "Fin 3=>Fin 2=>Real", ["Fin 2", "Fin 3"]),
    (X + "for i. to_real (ordinal i) + x.i", "Fin 3=>Real", ["Fin 3"]),
    ("\\t:(Fin 2, Fin 3)=>Real. for i. for j. t.(i, j)", "(Fin 2, Fin 3)=>Real -> Fin 2=>Fin 3=>Real",
     ["Fin 3", "Fin 2"]),
    ("\\t:(Fin 2, Fin 3)=>Real. for p. t.p", "(Fin 2, Fin 3)=>Real -> (Fin 2, Fin 3)=>Real",
     ["(Fin 2, Fin 3)"]),
    (X + "run_accum (Fin 3=>Real) \\r. for i. r!i += x.i", "(Fin 3=>(), Fin 3=>Real)", ["Fin 3"]),
    (X + "for i. for j:Fin 3. if i == j then x.j else 0.0", "Fin 3=>Fin 3=>Real",
     ["Fin 3", "Fin 3"]),
]


@pytest.mark.parametrize(("text", "ty", "loops"), INFERRED, ids=[t for t, _, _ in INFERRED])
def test_for_infers_its_index_set(text: str, ty: str, loops: list[str]) -> None:
    """``for i. e`` takes the index set the uses of ``i`` fix, and is elaborated to ``for i:n. e``."""
    expr = parse_program(Source(text))
    checked = check(expr)
    assert show_type(checked.type) == ty
    assert [show_type(loop.type) for loop, _ in checked.loops][-len(loops):] == loops
    assert "for i. " not in show(expr) and "for j. " not in show(expr) and "for p. " not in show(expr)
    assert check(parse_program(Source(show(expr)))).type == checked.type


NOT_INFERRED = [
    ("for i. 1.0", "T-For", "cannot infer the index set of i; write for i:n. e", (1, 1)),
    (X + "for i. to_real (ordinal i)", "T-For", "cannot infer the index set of i", (1, 45)),
    (X + "let y = for j:Fin 4. 1.0 in for i. x.i + y.i", "T-Index",
     "i is used as an index of Fin 3 at 1:82 and of Fin 4 here", (1, 88)),
    (X + "let m = for i:Fin 2. x in for i. m.i.i", "T-Index",
     "i is used as an index of Fin 2 at 1:80 and of Fin 3 here", (1, 82)),
    ("\\t:(Fin 2, Fin 3)=>Real. for p. to_real (ordinal p) + t.p", "T-Prim",
     "ordinal takes an index of Fin n or of an enumeration; p is an index of (Fin 2, Fin 3)", (1, 50)),
    ("\\t:(Fin 2, Fin 3)=>Real. for p. t.p + to_real (ordinal p)", "T-Prim",
     "ordinal takes an index of Fin n or of an enumeration", (1, 56)),
]


@pytest.mark.parametrize(("text", "rule", "reason", "where"), NOT_INFERRED,
                         ids=[t for t, *_ in NOT_INFERRED])
def test_index_set_left_open_or_in_conflict(text: str, rule: str, reason: str,
                                            where: tuple[int, int] | None) -> None:
    with pytest.raises(CalculusError) as info:
        check(parse_program(Source(text)))
    assert info.value.rule == rule, info.value.render()
    assert reason in info.value.reason, info.value.render()
    assert info.value.span is not None
    if where is not None:
        assert (info.value.span.line, info.value.span.column) == where, info.value.render()


@pytest.mark.parametrize("n", [1000, 2000])
def test_long_let_chains_parse_check_run_and_print(n: int) -> None:
    """The let spine is walked, not recursed on: thousands of lets are a program like any other."""
    lines = ["let x0 = 1 in", *(f"let x{k} = x{k - 1} + {k % 3} in" for k in range(1, n)), f"x{n - 1}"]
    expr = parse_program(Source("\n".join(lines)))
    checked = check(expr)
    assert show_type(checked.type) == "Int"
    assert evaluate(expr, parallel=checked.parallel) == 1 + sum(k % 3 for k in range(1, n))
    text = show(expr)
    assert show(parse_program(Source(text))) == text


def test_an_omitted_index_set_prints_and_parses_back() -> None:
    text = "\\x:Fin 2=>Real. for i. x.i + 1.0"
    expr = parse_program(Source(text))
    assert show(expr) == text and parse_program(Source(show(expr))) == expr
    check(expr)
    assert show(expr) == "\\x:Fin 2=>Real. for i:Fin 2. x.i + 1.0"


def test_inner_loops_see_the_index_set_inferred_for_an_outer_one() -> None:
    checked = check(parse_program(Source(X + "for i. (for j:Fin 2. i, x.i)")))
    assert sorted(show_type(t) for t in checked.bodies.values()) == ["(Fin 2=>Fin 3, Real)", "Fin 3",
                                                                      "Real"]
