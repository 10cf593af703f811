"""The fast evaluator against its oracle on what users write: top-level names (shadowing the
prelude, defining twice, definitions that are not values), deep and long computations, the errors
both interpreters share, and the warnings of loops under sequential handlers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from calculi.core.errors import CalculusError, FuelExhausted, ScopeError
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.lambda_p.commands import Session
from calculi.lambda_p.parse import Definition
from calculi.lambda_p.program import Program
from calculi.lambda_p.run import run_term, show_value
from calculi.lambda_p.syntax import Term

MACHINES = ("fast", "small-step")


def run_file(text: str, machine: str = "fast", variant: str = "icfp24", jobs: int = 1) -> list[str]:
    """A file as ``run`` runs it: the printed value of each expression, in order."""
    program = Program.with_prelude(variant)
    out = []

    def evaluate(term: Term) -> Term:
        return run_term(term, Fuel(), variant, jobs, machine)

    for item in program.load(Source(text, "f.lp")):
        value = program.run(item, evaluate)
        if not isinstance(item, Definition):
            assert value is not None
            out.append(show_value(value))
    return out


def command_line(path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "calculi.lambda_p", "run", str(path), *options],
        capture_output=True, text=True, check=False, timeout=120,
    )


# -- top-level names ---------------------------------------------------------------------------


@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_user_definition_named_like_a_prelude_one_shadows_it_for_the_user(machine: str, jobs: int) -> None:
    text = "def fst p = 99\n(unzip <(1, 2)>, fst (1, 2))\n(fst (1, 2), unzip <(1, 2)>)\n"
    text += "for i:8. (fst (i, i), unzip <(i, 2)>)\n"
    first, swapped, loop = run_file(text, machine, jobs=jobs)
    assert first == "((<1>, <2>), 99)"
    assert swapped == "(99, (<1>, <2>))"
    assert loop == "<" + ", ".join(f"(99, (<{i}>, <2>))" for i in range(8)) + ">"


@pytest.mark.parametrize("machine", MACHINES)
def test_the_prelude_keeps_its_own_helpers(machine: str) -> None:
    text = 'def replicate n x = "mine"\nrunAccum (+) 0 (\\_. for i:3. accum i)\nreplicate 2 0\n'
    assert run_file(text, machine) == ["(<(), (), ()>, 3)", '"mine"']


def test_a_file_that_defines_a_name_twice_is_refused_before_anything_runs(tmp_path: Path) -> None:
    path = tmp_path / "twice.lp"
    path.write_text("def f x = 1\nf 0\ndef f x = 2\nf 0\n", encoding="utf-8")
    result = command_line(path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"{path}:3:5: scope error: f is defined twice in this file (first at {path}:1:5)" in result.stderr
    session = Session()
    with pytest.raises(ScopeError) as info:
        list(session.load(Source(path.read_text(encoding="utf-8"), str(path))))
    assert info.value.render().splitlines()[0] in result.stderr
    assert "f" not in session.program.table.names  # nothing of the file is bound


def test_the_repl_rebinds_a_name_and_earlier_definitions_keep_the_old_one() -> None:
    session = Session()
    assert session.input(Source("def f x = 1")) == "f defined"
    assert session.input(Source("def g y = f y + 10")) == "g defined"
    assert session.input(Source("def f x = 2")).startswith("f redefined (definitions made before keep")
    assert session.input(Source("(f 0, g 0)")) == "(2, 11)"
    assert session.input(Source("def fst p = 0")) == "fst defined (the prelude keeps its own fst)"
    assert session.input(Source("(fst (1, 2), unzip <(1, 2)>)")) == "(0, (<1>, <2>))"


def test_loading_a_file_into_a_session_shadows_like_run(tmp_path: Path) -> None:
    path = tmp_path / "shadow.lp"
    path.write_text("def fst p = 99\n(unzip <(1, 2)>, fst (1, 2))\n", encoding="utf-8")
    session = Session()
    assert list(session.load(Source(path.read_text(encoding="utf-8"), str(path)))) == [
        "fst defined (the prelude keeps its own fst)",
        "((<1>, <2>), 99)",
    ]
    assert session.input(Source("fst (1, 2)")) == "99"


@pytest.mark.parametrize("machine", MACHINES)
def test_a_definition_that_is_not_a_value_is_evaluated_in_its_turn(machine: str) -> None:
    assert run_file("def xs = iota 4\nfold (+) 0 xs\ndef n = length xs\nn * n\n", machine) == ["6", "16"]
    with pytest.raises(CalculusError) as info:
        run_file("def f x = y + x\nf 1\ndef y = 2 + 3\n", machine)
    assert info.value.render().startswith(
        "f.lp:1:11: stuck [undefined]: y is used before its definition (defined at f.lp:3:5) has a value"
    )
    with pytest.raises(CalculusError, match="unhandled operation 'ask'"):
        run_file("def r = perform ask ()\nr\n", machine)


@pytest.mark.parametrize("machine", MACHINES)
def test_a_let_inside_an_operand_with_many_names_in_scope(machine: str) -> None:
    """The compiled code keeps only the names a body needs when many are in scope; a let that is
    an operand after an operation used to crash the compiler."""
    names = [f"a{k}" for k in range(12)]
    text = "runReader 1 (\\_. " + "".join(f"{a} <- {k}; " for k, a in enumerate(names))
    text += "(perform ask ()) + (x <- a3; x) + " + " + ".join(names) + ")"
    assert run_file(text, machine) == [str(1 + 3 + sum(range(12)))]


# -- depth and length --------------------------------------------------------------------------


def test_twenty_thousand_handled_operations_in_a_loop() -> None:
    text = (
        'def loop n = if n == 0 then "done" else (perform tick (); loop (n - 1))\n'
        "handle {return -> \\x. x, tick -> \\_ k. k ()} (loop 20000)\n"
    )
    assert run_file(text) == ['"done"']


def test_effectful_non_tail_recursion_ten_thousand_deep() -> None:
    text = "def c n = if n == 0 then 0 else (accum 1; 1 + c (n - 1))\nrunAccum (+) 0 (\\_. c 10000)\n"
    assert run_file(text) == ["(10000, 10000)"]


def test_a_diverging_non_tail_recursion_runs_out_of_fuel_at_its_position(tmp_path: Path) -> None:
    path = tmp_path / "diverge.lp"
    path.write_text("def f x = 1 + f x\nf 0\n", encoding="utf-8")
    result = command_line(path, "--fuel", "100000")
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}:1:15: out of fuel: no result after 100,000 steps")
    assert "nested too deeply" not in result.stderr
    program = Program.with_prelude()
    program.add(Source("def f x = 1 + f x"))
    (term,) = program.expressions(Source("f 0"))
    with pytest.raises(FuelExhausted):
        run_term(term, Fuel(300), machine="small-step")


# -- errors both interpreters give ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("if 1 then 2 else 3", "[no match]: the condition of 'if' must be True or False, got an integer"),
        ("(a, b) <- (1, 2, 3); a", "[no match]: the pattern has 2 components but the tuple has 3"),
        ('case Left 1 of {Right x -> x}', "[no match]: no case branch matches Left …"),
        ("<1, 2>.5", "[bad index]: index 5 out of range for array of length 2"),
        ("1 2", "[not a function]: cannot apply an integer to an argument"),
        ('"a" < 1', "[bad primitive]: < compares two integers or two strings, got a string and an integer"),
        ("(\\x. x) == 1", "== compares data (numbers, strings, arrays, constructors), not a function"),
        ("for i:(0 - 2). i", "[bad loop bound]: a for bound must be a non-negative integer, got an integer"),
        ("handle {traverse -> \\n s l k. 0} 0 1", "[missing clause]: the handler has no 'return' clause"),
        # f a1 a2: f a1 is applied before a2 is evaluated, unless f takes both at once
        ("(\\a. perform oops a) 1 (<1>.5)", "unhandled operation 'oops' (argument 1)"),
        ("(\\a b. a) 1 (<1>.5)", "[bad index]: index 5 out of range for array of length 1"),
        ("def g a b = a + b\ng (perform oops 1) (<1>.5)", "unhandled operation 'oops' (argument 1)"),
    ],
)
def test_both_interpreters_say_the_same(text: str, reason: str) -> None:
    rendered = []
    for machine in MACHINES:
        with pytest.raises(CalculusError) as info:
            run_file(text, machine)
        rendered.append(info.value.render())
    assert rendered[0] == rendered[1]
    assert reason in rendered[0]


@pytest.mark.parametrize("machine", MACHINES)
def test_a_stuck_index_inside_pepm22s_loop_points_at_the_loop(machine: str) -> None:
    text = "handle {return -> \\s x. x, traverse -> \\n s l k. k s (l <1>)} 0 (for i:2. i)"
    with pytest.raises(CalculusError) as info:
        run_file(text, machine, variant="pepm22")
    assert info.value.span is not None and info.value.span.column == 66, info.value.render()
    assert "index 1 out of range for array of length 1" in info.value.reason


# -- warnings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("machine", MACHINES)
def test_a_loop_under_runstate_warns_that_its_sets_are_lost(machine: str) -> None:
    heard: list[str] = []
    program = Program.with_prelude()
    (term,) = program.expressions(Source("runState 0 (\\_. for i:3. (x <- get (); set (x + 1); x))"))
    value = show_value(run_term(term, Fuel(), machine=machine, warn=heard.append))
    assert value == "(<(0, 1), (0, 1), (0, 1)>, 0)"
    assert len(heard) == 1
    assert heard[0].startswith("<input>:1:17: warning: this loop is traversed by the handler at prelude.lp:")
    (term,) = program.expressions(Source("runAccum (+) 0 (\\_. for i:3. accum i)"))
    run_term(term, Fuel(), machine=machine, warn=heard.append)
    assert len(heard) == 1  # a parallel handler: no warning
