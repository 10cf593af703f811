"""Input that is huge, deep or long: located errors, a memory budget, fuel, and linear work."""

from __future__ import annotations

import io
import os
from collections import Counter
from pathlib import Path

import pytest

from calculi.core import coverage
from calculi.core.errors import CalculusError, FuelExhausted, ParseError, TypeCheckError
from calculi.core.files import cli
from calculi.core.registry import open_session
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.redistribution import engine, scaling, synth
from calculi.redistribution.__main__ import main
from calculi.redistribution.check import check_program, check_type
from calculi.redistribution.memory import BudgetError, parse_memory, show_bytes, simulation_bytes
from calculi.redistribution.parse import parse_mesh, parse_program, parse_type
from calculi.redistribution.syntax import Mesh, show_count
from calculi.repl import Repl

HUGE = "9" * 4301


def session(*lines: str) -> tuple[Repl, str]:
    out = io.StringIO()
    repl = Repl(open_session("redistribution"), out, strict=True)
    for line in lines:
        repl.handle(line)
    return repl, out.getvalue()


@pytest.mark.parametrize(("text", "column"), [(f"x={HUGE}", 3), (f"[{HUGE}] -> [2]", 2),
                                              (f"[2] AllToAll(0 -> {HUGE}, x)", 19)])
def test_a_literal_past_4300_digits_is_a_located_syntax_error(text: str, column: int) -> None:
    repl, _ = session(":mesh x=2", f":mesh {text}" if text.startswith("x=") else text)
    err = repl.errors[-1]
    assert isinstance(err, ParseError) and "4,301 digits is too long" in err.reason
    assert err.span is not None and err.span.column == column


def test_the_memory_bomb_is_refused_before_anything_is_allocated() -> None:
    repl, out = session(":mesh x=4096", "[4096{x}16777216] -> [16777216]")
    err = repl.errors[-1]
    assert isinstance(err, BudgetError) and err.span is not None and err.span.column == 1
    assert "the simulator would hold 256.1 GiB" in out and "over the budget of 1 GiB" in out
    assert "AllGather(0, x)" in out and ":set memory SIZE" in out
    repl, out = session(":mesh x=4096", ":set engine jax", ":run [4096{x}16777216] -> [16777216]")
    assert isinstance(repl.errors[-1], BudgetError) and "the JAX engine would hold" in out


def test_the_budget_is_a_setting() -> None:
    _, out = session(":mesh x=2", ":set memory 31", "[1{x}2] -> [2]", ":set memory 32", "[1{x}2] -> [2]",
                     ":set memory", ":set memory lots")
    assert "memory = 31 bytes" in out and "would hold 32 bytes" in out
    assert out.count("checked on the NumPy simulator") == 1
    assert "memory = 32 bytes (runs holding more are refused)" in out
    assert "expected a memory size such as 1GiB" in out


def test_memory_sizes_and_estimates() -> None:
    assert parse_memory("1GiB") == 1 << 30 and parse_memory("2g") == 2 << 30
    assert parse_memory("500MB") == 5 * 10**8 and parse_memory("12") == 12
    for bad in ["", "0", "-1", "1XB", "1.5GiB", "٣", "9" * 30]:
        with pytest.raises(CalculusError):
            parse_memory(bad)
    assert [show_bytes(n) for n in (12, 1536, 256 << 30, 3 << 50)] == ["12 bytes", "1.5 KiB", "256 GiB",
                                                                       "3,072 TiB"]
    mesh = Mesh.of(x=2)
    source = parse_type(Source("[1{x}2]"))
    program = parse_program(Source("AllGather(0, x)"))
    # the array (2) and, on 2 devices, the buffers before and after the gather (1 + 2), 4 bytes each
    needed = simulation_bytes(check_program(source, program, mesh), program, mesh, 4)
    assert needed == (32, "step 1, AllGather(0, x)")


def test_the_engine_checks_the_budget_before_it_needs_jax() -> None:
    import numpy as np

    mesh = Mesh.of(x=2)
    source = check_type(parse_type(Source("[1{x}2]")), mesh)
    with pytest.raises(BudgetError, match="the JAX engine would hold"):
        engine.run(np.arange(2), source, (), mesh, budget=8)


def test_a_type_has_at_most_64_dimensions() -> None:
    repl, _ = session(":mesh x=2", "[" + ", ".join(["2"] * 65) + "]")
    err = repl.errors[-1]
    assert isinstance(err, TypeCheckError) and err.rule == "Type-Wf" and err.span is not None
    assert "the type has 65 dimensions; arrays have at most 64" in err.reason
    check_type(parse_type(Source("[" + ", ".join(["2"] * 64) + "]")), Mesh.of(x=2))


def test_products_past_4300_digits_print_approximately() -> None:
    big = "9" * 4300
    _, out = session(":mesh x=2", f":check [{big}, {big}]")
    assert "about 1.0e8600 elements per device" in out
    assert show_count(10**5000 * 3) == "about 3.0e5000" and show_count(1234567) == "1,234,567"


def test_synthesis_works_on_sizes_symbolically() -> None:
    mesh = parse_mesh(Source("x=2, y=3"))
    n = 6 * 10**4000
    source = parse_type(Source(f"[{n // 2}{{x}}{n}]"))
    target = parse_type(Source(f"[{n // 3}{{y}}{n}]"))
    assert len(synth.paper(source, target, mesh)) == 3


def test_synthesis_spends_the_session_fuel_and_says_where() -> None:
    names = [f"a{i}" for i in range(12)]
    repl, _ = session(":mesh " + ",".join(f"{a}=2" for a in names), ":set fuel 20",
                        f":synth [1{{{','.join(names)}}}4096, 4096] -> [4096, 1{{{','.join(names)}}}4096]")
    err = repl.errors[-1]
    assert isinstance(err, FuelExhausted) and err.span is not None and "raise the limit" in err.reason


def test_normalisation_does_linear_work_on_long_programs() -> None:
    """The typing rules fired while normalising n and 2n collectives (a count, not a time)."""
    mesh = Mesh.of(x=2, y=2)
    source = parse_type(Source("[4, 4]"))

    def work(n: int) -> int:
        text = "; ".join(["DynSlice(0, x); AllToAll(0 -> 1, x); AllGather(1, x)"] * n)
        program = parse_program(Source(text))
        with coverage.recording() as counts:
            synth.normalize(program, source, mesh, Fuel(10 * n))
        return sum(Counter({r: k for (c, r), k in counts.items() if c == "redistribution"}).values())

    assert work(200) <= 2.2 * work(100)


def test_tab_completion_offers_axes_and_collectives() -> None:
    repl, _ = session(":mesh data=2,model=4")
    assert repl.completions("[4{mo") == ["model"]
    assert repl.completions(":check [8{data}16] All") == ["AllGather", "AllPermute", "AllToAll"]


def test_xla_fallback_warnings_are_kept_off_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    with engine.expected_fallback_warnings():
        os.write(2, b"W0 spmd_partitioner.cc] [SPMD] Involuntary full rematerialization. ...\n")
        os.write(2, b"W0 something else entirely\n")
    err = capfd.readouterr().err
    assert "something else entirely" in err and "rematerialization" not in err


def test_command_line_files_and_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    latin = tmp_path / "latin.redist"
    latin.write_bytes(b":mesh x=2\n[1{x}2] -> [2\xff]\n")
    assert cli(main, ["run", str(latin)]) == 1
    assert f"{latin}:2:14: encoding error" in capsys.readouterr().err
    big = tmp_path / "big.redist"
    big.write_text(f":mesh x=2\n[{HUGE}] -> [2]\n", encoding="utf-8")
    assert cli(main, ["run", str(big)]) == 1
    assert f"{big}:2:2: syntax error: integer literal of 4,301 digits" in capsys.readouterr().err
    bomb = tmp_path / "bomb.redist"
    bomb.write_text(":mesh x=4096\n[4096{x}16777216] -> [16777216]\n", encoding="utf-8")
    assert cli(main, ["run", str(bomb)]) == 1
    assert f"{bomb}:2:1: memory budget: the simulator would hold 256.1 GiB" in capsys.readouterr().err
    assert cli(main, ["run", str(tmp_path / "missing")]) == 1
    assert "cannot read" in capsys.readouterr().err
    for flag, value in [("--fuel", "-5"), ("--fuel", "0"), ("--fuel", HUGE), ("--memory", "1XB")]:
        with pytest.raises(SystemExit) as info:
            main(["synth", "--mesh", "x=2", "[1{x}2]", "[2]", f"{flag}={value}"])
        assert info.value.code == 2
        assert f"error: argument {flag}: expected a" in capsys.readouterr().err
    assert cli(main, ["synth", "--mesh", "x=2", "[1{x}2]", "[2]", "--memory", "12", "--engine", "sim"]) == 1
    assert "over the budget of 12 bytes" in capsys.readouterr().err


@pytest.mark.slow
def test_the_scaling_benchmark_measures_every_stage() -> None:
    rows = list(scaling.measure(scale=0.1, repeat=1))
    assert {(r.family, r.stage) for r in rows} >= {("dimensions", "check"), ("axes", "synthesise (move all)"),
                                                   ("program", "normalise")}
    assert all(r.seconds > 0 and r.doubled > 0 for r in rows)
    assert scaling.table(rows).splitlines()[0].split()[:3] == ["input", "stage", "n"]
