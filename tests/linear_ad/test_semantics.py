"""The small-step semantics: named rules, agreement with eval.py, traces in the REPL and the CLI."""

from __future__ import annotations

import contextlib
import io
import math
import subprocess
import sys
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from calculi.core.errors import CalculusError, FuelExhausted, UnboundError, UsageError
from calculi.core.files import cli as run_cli
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.foil.core import add_subst, empty_scope, identity_subst, unsafe_binder
from calculi.linear_ad import semantics
from calculi.linear_ad.__main__ import main
from calculi.linear_ad.ad import load
from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.commands import Session
from calculi.linear_ad.eval import evaluate
from calculi.linear_ad.names import Supply, scope_of
from calculi.linear_ad.primitives import ADD, FLOAT, FRACTION, SIN
from calculi.linear_ad.syntax import Binder, Binding, Block, FuncDef, LetB, Lit, Prim, Program, Var, var_of
from calculi.linear_ad.types import REAL, Mixed

ROOT = Path(__file__).resolve().parents[2]
TOUR = str(ROOT / "examples" / "linear_ad" / "tour.la")
LINEAR = str(ROOT / "examples" / "linear_ad" / "linear.la")
SIMPLE = "def f(x: R, y: R) -> R = let a = sin(x) * y in a + x"


def rules_and_value(typing: Typing, name: str, args: Sequence[Any], largs: Sequence[Any] = (),
                    domain: Any = FLOAT) -> tuple[list[str], semantics.MixedValue]:
    state = semantics.start(typing, name, args, largs, domain)
    rules: list[str] = []
    last = state
    for s in semantics.steps(state, Fuel()):
        rules.append(s.rule)
        last = s.term
    value = semantics.value(last)
    assert value is not None
    return rules, value


def test_golden_trace_names_every_rule() -> None:
    typing = load(SIMPLE)
    rules, value = rules_and_value(typing, "f", [1.5, 2.0])
    # Literals are values (no step of their own); operands step left to right before the operation.
    assert rules == ["call", "prim:sin", "prim:×", "let", "prim:+"]
    assert value == ((math.sin(1.5) * 2.0 + 1.5,), ())


def test_linear_rules_exactly_in_fractions() -> None:
    typing = load(Path(LINEAR).read_text(encoding="utf-8"))
    args, largs = [Fraction(1, 3)], [Fraction(2), Fraction(-1, 2)]
    rules, value = rules_and_value(typing, "g", args, largs, FRACTION)
    # g(s ; dx, dy): a = b = dx, u = s·a + dy, (p, q) = (b, u), r = 2p + q, z = 0.
    assert value == ((), (Fraction(2) * 2 + Fraction(1, 3) * 2 - Fraction(1, 2), Fraction(0)))
    assert value == evaluate(typing, "g", args, largs, FRACTION)
    assert {"call", "dup", "⊙", "⊕", "tupL", "unpackL", "0", "let"} <= set(rules)
    assert all(semantics.is_rule(r) for r in rules)


def test_tour_agrees_with_eval_and_uses_calls_tuples_and_drop() -> None:
    typing = load(Path(TOUR).read_text(encoding="utf-8"))
    rules, value = rules_and_value(typing, "f", [1.0, 2.0])
    assert value == evaluate(typing, "f", [1.0, 2.0])
    assert rules.count("call") == 2 and {"tup", "unpack", "drop", "prim:exp", "prim:cos"} <= set(rules)


def test_drop_does_not_evaluate_its_argument() -> None:
    # The paper leaves open whether drop is lazy; as in the authors' prototype (and eval.py), it is.
    typing = load("def f(x: R) -> R = let (;) = drop(sin(x) * x) in x")
    rules, value = rules_and_value(typing, "f", [0.25])
    assert rules == ["call", "drop", "let"] and value == ((0.25,), ())


def chain(n: int) -> Typing:
    """def f(x) = let y1 = sin(x) + x in … let yn = sin(y(n-1)) + x in yn, built as an AST."""
    supply = Supply()
    x = supply.binder("x")
    bindings: list[Binding] = []
    last = var_of(x)
    for _ in range(n):
        b = supply.binder("y")
        bindings.append(LetB((b,), (), Prim(ADD, (Prim(SIN, (last,)), var_of(x)))))
        last = var_of(b)
    f = FuncDef("f", (x,), (REAL,), (), (), Mixed((REAL,), ()), Block(tuple(bindings), last))
    return check_program(Program((f,)))


def test_ten_thousand_lets_without_recursion_error() -> None:
    typing = chain(10_000)
    rules, value = rules_and_value(typing, "f", [0.5])
    assert value == evaluate(typing, "f", [0.5])
    assert len(rules) == 1 + 3 * 10_000 and rules[-3:] == ["prim:sin", "prim:+", "let"]


def test_fuel_bounds_a_run() -> None:
    typing = load(SIMPLE)
    with pytest.raises(FuelExhausted) as err:
        semantics.run(semantics.start(typing, "f", [1.5, 2.0]), Fuel(3))
    assert "3 steps" in err.value.reason


def test_the_api_checks_calls() -> None:
    typing = load(SIMPLE)
    with pytest.raises(UnboundError):
        semantics.start(typing, "g", [1.0])
    with pytest.raises(UsageError, match="takes 2 non-linear"):
        semantics.start(typing, "f", [1.0])
    with pytest.raises(UsageError, match="type ℝ"):
        semantics.start(typing, "f", [1.0, (1.0, 2.0)])


def test_substitution_is_the_rapier() -> None:
    a = Binder(0, "a")
    body = Block((LetB((a,), (), Lit("1.0")),), var_of(a))
    # A binder that clashes with the in-scope set Θ is renamed, and its occurrences follow it.
    renamed = semantics.substitute(scope_of([0]), identity_subst(), body)
    assert isinstance(renamed, Block) and isinstance(renamed.result, Var)
    binder = renamed.bindings[0]
    assert isinstance(binder, LetB) and binder.binders[0].name == renamed.result.name != 0
    # An inner binder shadows σ's entry for the same name (the rapier's delete).
    five: semantics.Atom = semantics.nval(5.0)
    sigma: semantics.Subst = add_subst(identity_subst(), unsafe_binder(0), five)
    shadowed = semantics.substitute(empty_scope(), sigma, body)
    assert isinstance(shadowed, Block) and not isinstance(shadowed.result, semantics.NVal)
    assert semantics.substitute(empty_scope(), sigma, var_of(a)) == semantics.nval(5.0)


def test_session_step_and_trace_with_positions() -> None:
    session = Session()
    session.input(Source(SIMPLE))
    assert session.step_once(Source("f 1.5 2.0")) == "f(1.5, 2.0)"
    assert session.step_once(None).startswith("--> [call] let a = sin(1.5) × 2.0 in")
    lines = list(session.trace(Source("f(1.5, 2.0)")))
    assert lines[-1] == f"--> [prim:+] {math.sin(1.5) * 2.0 + 1.5!r}"
    for text, kind, column in (("g 1.0", UnboundError, 1), ("f 1.0", UsageError, 3),
                               ("f(1.0 ; 2.0)", UsageError, 3), ("f 1.0 ?", CalculusError, 7)):
        with pytest.raises(kind) as err:
            list(session.trace(Source(text)))
        assert err.value.span is not None and err.value.span.column == column, (text, err.value)


def test_repl_step_and_trace_through_a_pipe() -> None:
    script = "\n".join([
        SIMPLE,
        ":step f 1.5 2.0",
        ":step",
        ":trace f 1.5 2.0",
        ":trace nope 1.0",
        ":trace f 1.0",
        ":load examples/linear_ad/linear.la",
        ":trace g 1.0 2.0 ; 3.0",
        ":set fuel 2",
        ":trace g 1.0 ; 2.0, 3.0",
        ":quit",
    ]) + "\n"
    out = subprocess.run([sys.executable, "-m", "calculi.repl", "linear_ad"], input=script,
                         capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    text = out.stdout + out.stderr
    assert "Traceback" not in text and "no small-step semantics" not in text, text
    assert "f(1.5, 2.0)\n" in text and "--> [call] let a = sin(1.5) × 2.0 in" in text
    assert f"--> [prim:+] {math.sin(1.5) * 2.0 + 1.5!r}" in text
    assert "<input>:1:1: unbound name: no function named nope" in text
    assert "<input>:1:3: usage: f takes 2 non-linear and 0 linear arguments, got 1 ; 0" in text
    assert "g takes 1 non-linear and 2 linear arguments, got 2 ; 1" in text
    assert "no result after 2 steps" in text
    assert "--> [let] (; ⟨9.0⟩, ⟨0.0⟩)" not in text  # fuel 2 stops g early


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run_cli(main, list(args))
    return code, out.getvalue(), err.getvalue()


def test_cli_run_and_trace() -> None:
    code, plain, _ = cli("run", TOUR, "f", "1.0", "2.0")
    assert code == 0
    code, traced, err = cli("run", TOUR, "f", "1.0", "2.0", "--trace")
    lines = traced.splitlines()
    assert code == 0 and lines[0] == "f(1.0, 2.0)" and lines[1].startswith("--> [call] ")
    assert lines[-1] == f"value {plain.strip()}", err
    steps = [line for line in lines if line.startswith("--> [")]
    assert all(semantics.is_rule(line[5:line.index("]")]) for line in steps)
    code, traced, _ = cli("run", LINEAR, "g", "1.0", "2.0", "3.0", "--trace", "--ascii")
    assert code == 0 and traced.splitlines()[-2] == "--> [let] (; <9.0>, <0.0>)"
    for bad, message in ((("nope", "1.0"), "no function named nope"),
                         (("f", "1.0"), "f takes 2 non-linear")):
        code, _, err = cli("run", TOUR, *bad, "--trace")
        assert code == 1 and message in err and "Traceback" not in err
