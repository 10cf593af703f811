"""The REPL's common commands, driven through a toy calculus of sums and a pipe."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Mapping

from calculi.core.errors import ParseError
from calculi.core.registry import Command, Session
from calculi.core.syntax import Source
from calculi.core.trace import Fuel, Step
from calculi.repl import Repl, logical_lines, run_piped


class Sums(Session[tuple[int, ...]]):
    """Terms are sums of numbers; a step adds the first two."""

    name = "foil"  # borrows a registered name for the REPL header

    def parse(self, source: Source) -> tuple[int, ...]:
        parts = source.text.split("+")
        for i, part in enumerate(parts):
            if not part.strip().isdigit():
                offset = sum(len(p) + 1 for p in parts[:i]) + len(part) - len(part.lstrip())
                raise ParseError("expected a number", source.span(offset, offset + len(part.strip())))
        return tuple(int(p) for p in parts)

    def show(self, term: tuple[int, ...]) -> str:
        return " + ".join(map(str, term))

    def evaluate(self, term: tuple[int, ...], fuel: Fuel) -> str:
        while len(term) > 1:
            fuel.tick()
            term = (term[0] + term[1], *term[2:])
        return str(term[0])

    def step(self, term: tuple[int, ...]) -> Step[tuple[int, ...]] | None:
        if len(term) == 1:
            return None
        return Step("add", (term[0] + term[1], *term[2:]))

    def type_of(self, term: tuple[int, ...]) -> str:
        return "Int"

    def commands(self) -> Mapping[str, Command]:
        return {"count": Command("count", ":count TERM", "number of summands",
                                 lambda args: str(len(self.parse(Source(args)))))}


def drive(text: str) -> str:
    out = io.StringIO()
    run_piped(Repl(Sums(), out), io.StringIO(text))
    return out.getvalue()


def test_evaluates_inputs_and_reports_errors_without_stopping() -> None:
    out = drive("1 + 2 + 3\n1 + x\n4 + 4\n").splitlines()
    assert out[0] == "6"
    assert out[1] == "<input>:1:5: syntax error: expected a number"
    assert out[-1] == "8"


def test_step_trace_type_and_own_commands() -> None:
    out = drive(":step 1 + 2 + 3\n:step\n:step\n:step\n:trace 1 + 1\n:type 5\n:count 1+2+3+4\n")
    assert out.splitlines() == [
        "1 + 2 + 3",
        "--> [add] 3 + 3",
        "--> [add] 6",
        "(final: no rule applies)",
        "1 + 1",
        "--> [add] 2",
        "Int",
        "4",
    ]


def test_fuel_setting_limits_evaluation() -> None:
    out = drive(":set fuel 2\n1 + 1 + 1 + 1\n:set fuel zero\n:set colour red\n")
    assert "out of fuel" in out
    assert "usage: :set fuel N" in out
    assert "unknown setting 'colour'" in out


def test_help_quit_and_unknown_commands() -> None:
    out = drive(":help\n:frobnicate\n:he step\n:quit\n1 + 1\n")
    assert ":load FILE" in out
    assert ":count TERM" in out
    assert "unknown command ':frobnicate'" in out
    assert "take the next step" in out
    assert "2\n" not in out  # nothing after :quit


def test_load_reports_missing_files(tmp_path: object) -> None:
    out = drive(":load /nonexistent/file.txt\n")
    assert out.startswith("usage: cannot read /nonexistent/file.txt")


def test_backslash_continues_a_line() -> None:
    assert list(logical_lines(["1 +\\\n", "2\n", "3\n"])) == ["1 +\n2", "3"]


def test_lists_calculi_when_name_is_missing_or_unknown() -> None:
    for args in ([], ["nope"]):
        proc = subprocess.run([sys.executable, "-m", "calculi.repl", *args],
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 2
        for name in ("foil", "lambda_p", "linear_ad", "redistribution"):
            assert name in proc.stderr
