"""The command line and the REPL, driven as users drive them."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from calculi.linear_ad.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
TOUR = str(ROOT / "examples" / "linear_ad" / "tour.la")


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str) -> Outcome:
    """Run the command line in this process (one test below runs it as a real subprocess)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return Outcome(code, out.getvalue(), err.getvalue())


def test_grad_prints_value_and_gradient() -> None:
    out = subprocess.run([sys.executable, "-m", "calculi.linear_ad", "grad", TOUR, "f", "1.0", "2.0"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].startswith("value    19.52467508")
    assert out.stdout.splitlines()[1].startswith("gradient (60.9339148")


def test_show_each_stage() -> None:
    stages = (("jvp", "def f.jvp("), ("unzip", "def f.jvp.lin("), ("transpose", "def f.jvp.lin.T("))
    for stage, marker in stages:
        out = cli("show", TOUR, "f", "--stage", stage, "--ascii")
        assert out.returncode == 0 and marker in out.stdout, out.stderr


def test_bad_input_is_reported_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.la"
    bad.write_text("def f(x: R ; dx: R) -> (R ; R, R) = (x ; dx, dx)\n")
    out = cli("check", str(bad))
    assert out.returncode == 1 and "used twice (use dup)" in out.stderr and "Traceback" not in out.stderr
    out = cli("grad", TOUR, "nope", "1.0")
    assert out.returncode == 1 and "no function named nope" in out.stderr
    out = cli("grad", str(tmp_path / "missing.la"), "f")
    assert out.returncode == 1 and "cannot read" in out.stderr


def test_repl_through_a_pipe() -> None:
    script = "\n".join([
        "def f(x: R, y: R) -> R = sin(x) * y",
        ":type f",
        ":jvp f",
        ":unzip f recompute-all",
        ":transpose f",
        ":vjp f",
        ":grad f 1.5 2.0",
        ":cost f",
        "f(1.5, 2.0)",
        "def g(x: R) -> R = dx",
        ":grad g 1.0",
        ":unzip f nonsense",
        ":load examples/linear_ad/linear.la",
        ":transpose g",
        ":quit",
    ]) + "\n"
    out = subprocess.run([sys.executable, "-m", "calculi.repl", "linear_ad"], input=script,
                         capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    text = out.stdout + out.stderr
    assert "Traceback" not in text, text
    assert "f : (ℝ, ℝ ; ) → (ℝ ; )" in text
    assert "def f.jvp(x: ℝ, y: ℝ ; ẋ: ℝ, ẏ: ℝ)" in text
    assert "def f.jvp.lin.T(" in text
    assert "gradient (0.14147440333" in text
    assert "f.jvp.lin.T" in text and "work" in text
    assert "(1.99498997" in text
    assert "dx is not in scope" in text
    assert "no function named g" in text
    assert "unknown policy nonsense" in text
    assert "g : (ℝ ; ℝ, ℝ) → ( ; ℝ, ℝ)" in text and "def g.T(s: ℝ ; ċ: ℝ, ċ1: ℝ)" in text
