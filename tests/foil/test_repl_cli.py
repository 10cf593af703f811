"""The REPL driven through a pipe, and ``python -m calculi.foil run FILE``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _repl(*lines: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "calculi.repl", "foil"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return done.stdout.splitlines()


def test_terms_in_normal_forms_out_and_the_foil_commands() -> None:
    out = _repl(
        r"(\x. \y. x) y",
        r":alpha (\x0. \x1. x1) (\x1. \x0. x0)",
        r":alpha (\x. \y. x) (\x. \y. y)",
        r":subst \y. x [x := y]",
        r":debruijn \x. \y. x (\z. z y) w",
        r":whnf (\x. x) (\y. (\z. z) y)",
        r":nf (\f. \x. f (f x)) (\f. \x. f (f x))",
    )
    assert out[0] != r"\y. y" and out[0].endswith(". y") and out[0].startswith("\\")
    assert out[1:3] == ["α-equivalent", "not α-equivalent"]
    assert out[3].endswith(". y") and not out[3].startswith(r"\y.")
    assert out[4] == "λ λ 1 (λ 0 1) w"
    assert out[5] == r"\y. (\z. z) y"
    assert out[6].count(" (") == 3  # Church 2^2 = 4: \\a. \\b. a (a (a (a b)))


def test_stepping_names_the_beta_rule() -> None:
    out = _repl(r":step (\x. x x) (\y. y)", ":step", ":step", ":step", r":trace (\x.\y.x) a b")
    assert out[:4] == [r"(\x. x x) (\y. y)", r"--> [β] (\y. y) (\y. y)", r"--> [β] \y. y",
                       "(final: no rule applies)"]
    assert out[4:] == [r"(\x. \y. x) a b", r"--> [β] (\y. a) b", "--> [β] a"]


def test_errors_print_and_the_session_goes_on() -> None:
    out = _repl(":set fuel 50", r"(\x. x x) (\x. x x)", r"\x. (", ":set open off", "y", r"\y. y")
    text = "\n".join(out)
    assert "out of fuel: no result after 50 steps" in text
    assert "syntax error: missing body after '.'" in text
    assert "unbound name: y is not bound" in text
    assert out[-1] == r"\y. y"


def test_load_a_file_in_the_repl(tmp_path: Path) -> None:
    source = tmp_path / "two.lam"
    source.write_text("-- header\n(\\x.x) (\\y.y)\nlet k = \\a.\\b.a\nin k\n")
    assert _repl(f":load {source}") == [r"\y. y", r"\a. \b. a"]


def test_run_a_file(tmp_path: Path) -> None:
    source = tmp_path / "terms.lam"
    source.write_text("-- two terms\n(\\x.\\y.x) (\\z.z)\nlet id = \\x.x;\n    k = \\a.\\b.a\nin k id\n")
    done = subprocess.run([sys.executable, "-m", "calculi.foil", "run", str(source)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [r"\y. \z. z", r"\b. \x. x"]
    traced = subprocess.run([sys.executable, "-m", "calculi.foil", "run", "--trace", str(source)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert "--> [β] \\y. \\z. z" in traced.stdout


def test_run_reports_errors_with_positions(tmp_path: Path) -> None:
    source = tmp_path / "bad.lam"
    source.write_text("\\x.x\n\\x. y\n")
    done = subprocess.run([sys.executable, "-m", "calculi.foil", "run", str(source)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [r"\x. x"]
    assert f"{source}:2:5: unbound name" in done.stderr
    assert "Traceback" not in done.stderr


def test_bench_runs_every_peer_on_a_small_workload() -> None:
    from calculi.foil import bench, normalize, parse, pretty

    power = parse(rf"(\m. \n. n m) {bench.church(2)} {bench.church(3)}")
    assert pretty(normalize(power)).count(" (") == 7  # 2^3 = 8 applications of f
    row = bench.measure([power], repeat=1, budget=30.0)
    assert set(row) == {"foil", "rapier", "always-rename", "de Bruijn", "NbE"} == set(bench.PEERS)
    assert all(seconds is not None and seconds >= 0 for seconds in row.values())


def test_bench_stops_a_cell_past_its_budget() -> None:
    from calculi.foil import bench

    def forever() -> None:
        while True:
            pass

    assert bench.timed(forever, repeat=3, budget=0.05) is None
    assert bench.timed(lambda: sum(range(1000)), repeat=2, budget=5.0) is not None


@pytest.mark.slow
def test_bench_table_reports_the_cells_over_budget(capsys: pytest.CaptureFixture[str]) -> None:
    from calculi.foil import bench

    bench.run_table(["t1"], repeat=1, budget=0.02)
    out = capsys.readouterr().out
    assert "scott sum 160" in out and "over the budget of 0.02s CPU: " in out and "scott sum 160 (" in out


@pytest.mark.slow
def test_bench_scaling_prints_every_family_and_phase(capsys: pytest.CaptureFixture[str]) -> None:
    from calculi.foil import bench
    from calculi.foil.scaling import FAMILIES, PHASES

    assert bench.main(["--scaling", "10", "--repeat", "1"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert len(rows) == len(FAMILIES) * len(PHASES)
    assert all(row.rstrip().endswith("x") for row in rows)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from calculi.core.files import cli
    from calculi.foil.__main__ import main

    status = cli(main, list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def test_bad_files_are_one_located_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    latin = tmp_path / "latin.lam"
    latin.write_bytes(b"\\x. x\n\\y. \xe9\n")
    status, out, err = _cli(capsys, "run", str(latin))
    assert status == 1 and out == ""
    assert err.splitlines()[0] == (f"{latin}:2:5: encoding error: the file is not UTF-8 text "
                                   "(byte 0xe9 cannot start a character)")
    big = tmp_path / "big.lam"
    big.write_text("\\x. x\n" + "9" * 4301 + "\n")
    status, out, err = _cli(capsys, "run", str(big))
    assert status == 1 and out.splitlines() == [r"\x. x"]
    assert err.startswith(f"{big}:2:1: syntax error: unexpected character '9'")
    status, out, err = _cli(capsys, "run", str(tmp_path / "missing.lam"))
    assert status == 1 and err.startswith(f"usage: cannot read {tmp_path / 'missing.lam'}")


@pytest.mark.parametrize("fuel", ["-5", "0", "²", "1e3"])
def test_fuel_must_be_a_positive_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fuel: str
) -> None:
    source = tmp_path / "id.lam"
    source.write_text("\\x. x\n")
    with pytest.raises(SystemExit) as info:
        _cli(capsys, "run", "--fuel", fuel, str(source))
    assert info.value.code == 2
    assert "expected a positive whole number" in capsys.readouterr().err


def test_trace_spends_fuel_and_stops_at_the_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "omega.lam"
    source.write_text("-- diverges\n(\\x. x x) (\\x. x x)\n\\a. a\n")
    status, out, err = _cli(capsys, "run", "--trace", "--fuel", "5", str(source))
    assert status == 1
    assert out.count("--> [β]") == 5 and out.rstrip().endswith("\\a. a")
    assert err.startswith(f"{source}:2:1: out of fuel: no result after 5 steps")


def test_completion_offers_the_names_typed_in_the_session() -> None:
    import io

    from calculi.core.registry import open_session
    from calculi.repl import Repl

    repl = Repl(open_session("foil"), io.StringIO(), strict=True)
    assert repl.completions("f") == []
    repl.handle(r"(\foo. foo) fob")
    repl.handle(r":alpha (\fizz. fizz) (\x. x)")
    repl.handle(r"\bad. (")
    assert repl.completions(r"(\y. f") == ["fizz", "fob", "foo"]
    assert repl.completions(":al") == [":alpha"]
