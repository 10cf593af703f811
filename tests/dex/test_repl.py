"""The REPL session (through calculi.repl's Repl, strictly) and the command line."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from hypothesis import given

from calculi.core.fuzz import fuzzing, inputs
from calculi.dex.commands import Session
from calculi.repl import Repl

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "dex"


def session(*lines: str) -> tuple[str, Repl]:
    out = io.StringIO()
    repl = Repl(Session(), out, strict=True)
    repl.handle(":set fuel 20000")
    for line in lines:
        repl.handle(line)
    return out.getvalue(), repl


def test_definitions_values_and_types() -> None:
    out, repl = session("x = for i:Fin 3. to_real (ordinal i)", "sum x",
                        ":type run_accum Real \\r. for i:Fin 3. r += x.i",
                        ":type run_state 0.0 \\s. for i:Fin 3. s := get s + x.i",
                        ":loops for i:Fin 2. for j:Fin 2. 1.0", "x.(3@Fin 3)")
    assert "x : Fin 3=>Real" in out
    assert "3.0 : Real" in out
    assert "(Fin 3=>(), Real) ! {}\n  for i at 1:20: parallel, body ! {Accum r}" in out
    assert "for i at 1:19: sequential (State), body ! {State s}" in out
    assert "for j at 1:14: parallel" in out
    assert "index 3 is out of range for Fin 3" in out
    assert len(repl.errors) == 1 and repl.errors[0].span is not None


def test_for_infers_its_index_set_from_session_definitions() -> None:
    out, repl = session("x = for i:Fin 3. to_real (ordinal i)", "for i. x.i * 2.0",
                        ":type run_accum Real \\r. for i. r += x.i", "for i. 1.0",
                        "y = for j:Fin 4. 1.0", "for i. x.i + y.i")
    assert "[0.0, 2.0, 4.0] : Fin 3=>Real" in out
    assert "(Fin 3=>(), Real) ! {}" in out
    assert "cannot infer the index set of i; write for i:n. e" in out
    assert "i is used as an index of Fin 3 at 1:10 and of Fin 4 here" in out
    assert len(repl.errors) == 2 and all(e.span is not None for e in repl.errors)


def test_shadowing_a_primitive() -> None:
    out, _ = session("sum = \\x:Real. x * 2.0", "sum 1.5", "ordinal (2@Fin 3)")
    assert "3.0 : Real" in out and "2 : Int" in out


def test_out_of_fuel_is_an_error() -> None:
    _, repl = session("for i:Fin 100000. for j:Fin 100000. 1.0")
    assert repl.errors and repl.errors[-1].kind == "out of fuel"


EXAMPLE_LINES = [
    "x = for i:Fin 3. to_real (ordinal i)", "sum x", "for i:Fin 2. for j:Fin 3. x.j * 2.0",
    ":type run_accum Real \\r. for i:Fin 3. r += x.i", "run_state 0 \\s. s := get s + 1; get s",
    "case red@{red|blue} of red -> 1.0 | blue -> 2.0", "x.((ordinal (1@Fin 2) + 1)@Fin 3)",
    "run_accum (Fin 2=>Real) \\h. for i:Fin 5. h!((ordinal i % 2)@Fin 2) += 1.0",
    "\\t:(Fin 2, Fin 2)=>Real. for i:Fin 2. t.(i, i)", "with_reader 2.0 \\r. ask r * ask r",
    "let y = 1.0 / 0.0 in y", "log (0.0 - 1.0)", "exp 100000.0", "floor (exp 1000.0)",
]


@fuzzing(100)
@given(inputs(EXAMPLE_LINES))
def test_fuzz_answers_are_located(text: str) -> None:
    """No internal error escapes (the Repl is strict); every error about a program has a span."""
    _, repl = session("x = for i:Fin 3. to_real (ordinal i)", text)
    if text.strip() and not text.lstrip().startswith(":"):
        for error in repl.errors:
            assert error.span is not None, error.render()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "calculi.dex", *args], capture_output=True,
                          text=True, check=False, timeout=120)


def test_command_line(tmp_path: Path) -> None:
    run = cli("run", str(EXAMPLES / "prefix_sum.dx"))
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "([1.0, 3.0, 6.0, 10.0, 15.0], 15.0) : (Fin 5=>Real, Real)"
    checked = cli("check", str(EXAMPLES / "histogram.dx"))
    assert "for i at 4:3: parallel, body ! {Accum h}" in checked.stdout
    bad = tmp_path / "bad.dx"
    bad.write_text("x = for i:Fin 2. 1.0\ny = x.(2@Fin 2)\n")
    failed = cli("run", str(bad))
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "bad.dx:2:8: type error [T-At]" in failed.stderr
    missing = cli("check", str(tmp_path / "none.dx"))
    assert missing.returncode == 1 and "cannot read" in missing.stderr
