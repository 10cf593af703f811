"""The command line and the REPL, driven as users drive them."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from calculi.core.errors import TypeCheckError
from calculi.core.files import cli as run_cli
from calculi.core.fuzz import feed
from calculi.core.syntax import Source
from calculi.linear_ad.__main__ import main
from calculi.linear_ad.check import check_program
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.syntax import Program
from calculi.linear_ad.unzip import POLICIES

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
        code = run_cli(main, list(args))
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


def test_unreadable_files_and_huge_numbers_are_one_located_error(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.la"
    latin1.write_bytes(b"def f(x: R) -> R = x # caf\xe9\n")
    out = cli("check", str(latin1))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith(f"{latin1}:1:27: encoding error: the file is not UTF-8 text (byte 0xe9")
    big = tmp_path / "big.la"
    big.write_text("def f(x: R) -> R = x * " + "9" * 4301 + "\n")
    out = cli("run", str(big), "f", "1.0")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith(f"{big}:1:24: syntax error: integer literal of 4,301 digits is too long")
    out = cli("run", TOUR, "f", "9" * 4301, "1.0")
    assert out.returncode == 1
    assert out.stderr.startswith("<argument>:1:1: syntax error: integer literal of 4,301 digits is too long")
    out = cli("grad", TOUR, "f", "(1.0,", "2.0")
    assert out.returncode == 1 and out.stderr.startswith("<argument>:1:5: syntax error: expected a number")
    out = cli("run", str(tmp_path / "~nosuchuser" / ".." / "x.la"))
    assert out.returncode == 1 and "cannot read" in out.stderr


@pytest.mark.parametrize("fuel", ["-5", "0", "²", "9" * 4301, "many"])
def test_fuel_must_be_a_positive_whole_number(fuel: str) -> None:
    with pytest.raises(SystemExit) as exit_, contextlib.redirect_stderr(io.StringIO()) as err:
        main(["run", TOUR, "f", "1.0", "2.0", "--fuel", fuel])
    assert exit_.value.code == 2 and "--fuel: expected a positive whole number" in err.getvalue()


def test_fuel_bounds_run_grad_and_cost() -> None:
    for command in ("run", "grad", "cost"):
        out = cli(command, TOUR, "f", "1.0", "2.0", "--fuel", "5")
        assert out.returncode == 1 and "out of fuel: no result after 5 steps" in out.stderr, out.stderr
    assert cli("run", TOUR, "f", "1.0", "2.0", "--fuel", "1000").returncode == 0


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


@pytest.mark.parametrize(("text", "error"), [
    ("def f(x: R) -> R = x\ndef f(x: R) -> R = sin(x)\n",
     "{file}:2:5: scope error [Def]: function f is defined twice: first at {file}:1:5, again here"),
    ("def f(x: R) -> R = y\n", "{file}:1:20: unbound name [Var]: y is not in scope"),
    ("def f(x: R) -> R = foo(x)\n", "{file}:1:20: unbound name [App]: unknown function or primitive foo"),
    ("def f(x: R) -> R = g(x)\ndef g(x: R) -> R = x\n",
     "{file}:1:20: unbound name [App]: g is called before its definition at {file}:2:5"),
    ("def f(x: R) -> R = f(x)\n", "{file}:1:20: unbound name [App]: f calls itself"),
])
def test_scope_errors_name_their_rule_and_positions(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "scope.la"
    path.write_text(text)
    for command in (["check", str(path)], ["grad", str(path), "f", "1.0"]):
        out = cli(*command)
        assert out.returncode == 1 and out.stdout == "", out
        assert out.stderr.startswith(error.format(file=path)), out.stderr
        assert "Traceback" not in out.stderr


@pytest.mark.parametrize("number", ["-1e-3", "-1.", "-.5", "-3", "-2E+1"])
def test_negative_numbers_are_values_not_options(number: str) -> None:
    v = float(number)
    assert cli("run", TOUR, "sq", number).stdout == f"({v * v!r})\n"
    grad = cli("grad", TOUR, "sq", number)
    assert grad.stdout.splitlines() == [f"value    {v * v!r}", f"gradient ({2 * v!r})"], grad.stderr
    for command, option in (("jvp", "--tangent"), ("vjp", "--cotangent")):
        out = cli(command, TOUR, "sq", number, option, number)
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines()[1].split()[1] == f"({2 * v * v!r})"
    assert cli("cost", TOUR, "sq", number).returncode == 0
    out = cli("grad", TOUR, "f", number, "-1", "--wrt", "2")
    assert out.returncode == 0 and out.stdout.startswith("value    "), out.stderr
    with pytest.raises(SystemExit), contextlib.redirect_stderr(io.StringIO()) as err:
        main(["run", TOUR, "sq", "1.0", "--fuel", number])
    assert f"--fuel: expected a positive whole number, got {number!r}" in err.getvalue()


def test_each_command_loads_only_what_it_needs() -> None:
    """``--help`` starts without lark, numpy or sympy; ``grad`` without sympy, hypothesis, the
    small-step semantics or the REPL (a lazy start-up; the times are measured outside the tests)."""
    code = ("import sys, contextlib, io\n"
            "from calculi.linear_ad.__main__ import main\n"
            "heavy = ('lark', 'numpy', 'sympy', 'hypothesis', 'calculi.foil',\n"
            "         'calculi.linear_ad.semantics', 'calculi.linear_ad.commands')\n"
            "for argv in (['--help'], ['grad', sys.argv[1], 'f', '1.0', '2.0']):\n"
            "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            "        main(argv)\n"
            "    print(' '.join(m for m in heavy if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code, TOUR], capture_output=True, text=True, cwd=ROOT,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    help_, grad = out.stdout.split("\n")[:2]
    assert help_ == ""
    assert not {"sympy", "hypothesis", "calculi.linear_ad.semantics", "calculi.linear_ad.commands"} & set(
        grad.split())


def test_the_checker_names_the_rule_of_a_call_before_definition_it_is_given_directly() -> None:
    """A program built without the parser (a pass's output, say) is checked with the same rule."""
    g, f = parse_program(Source("def g(x: R) -> R = x\ndef f(x: R) -> R = g(x)\n", "<input>")).defs
    for program in (Program((f, g)), Program((f,))):
        with pytest.raises(TypeCheckError) as err:
            check_program(program)
        assert err.value.rule == "App"
        assert err.value.render().startswith(
            "<input>:2:20: type error [App]: unknown function g: a function may call only those defined "
            "before it (Linear A has no recursion)")


def test_every_unzip_policy_is_offered_by_the_command_line_and_the_repl() -> None:
    for policy in POLICIES:
        out = cli("show", TOUR, "f", "--stage", "unzip", "--policy", policy)
        assert out.returncode == 0 and "def f.jvp.lin(" in out.stdout, out.stderr
    with pytest.raises(SystemExit), contextlib.redirect_stderr(io.StringIO()) as err:
        main(["show", TOUR, "f", "--policy", "nonsense"])
    assert f"invalid choice: 'nonsense' (choose from {', '.join(sorted(POLICIES))})" in err.getvalue()
    (help_,) = feed("linear_ad", [":help unzip"])
    assert all(policy in help_.printed for policy in POLICIES)
