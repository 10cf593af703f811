"""The REPL driven through a pipe, and ``python -m calculi.foil run FILE``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
    row = bench.measure([power], repeat=1)
    assert set(row) == {"foil", "rapier", "always-rename", "de Bruijn"}
