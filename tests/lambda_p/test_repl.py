"""The REPL, driven through a pipe as a user would."""

from __future__ import annotations

import io
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest


def repl(*lines: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "calculi.repl", "lambda_p"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout.splitlines()


def test_evaluate_define_and_use() -> None:
    assert repl("1 + 2", "def double x = x + x", "double 21") == ["3", "double defined", "42"]


def test_step_and_trace_name_the_rules() -> None:
    term = "handle {return -> \\s x. x, ask -> \\s _ k. k s s} 7 (perform ask ())"
    mark = ":set fuel 1000"  # answered "fuel = 1,000 steps": where each command's answer ends
    out = "\n".join(repl(f":step {term}", ":step", mark, f":fulltrace {term}", mark, f":trace {term}"))
    stepped, full, summary = (part.strip("\n").splitlines() for part in out.split("fuel = 1,000 steps"))
    assert [line for line in stepped if line.startswith("--> [")] == [full[5]]
    rules = [line.split("]")[0][5:] for line in full if line.startswith("--> [")]
    assert rules[0] == "perform" and "return" in rules
    assert full[-1] == "--> [app] 7"
    assert summary[:-1] == full  # a short trace is shown whole, then counted
    assert summary[-1] == f"{len(rules)} steps: app {rules.count('app')}, perform 1, return 1"


def test_desugar_shows_the_core_term() -> None:
    assert repl(":desugar x <- 1; if x == 1 then 2 else 3") == [
        "(\\x. case x == 1 of {True -> 2 | False -> 3}) 1"
    ]


def test_errors_point_into_the_input() -> None:
    out = repl("1 + perform ask 5")
    assert (
        out[0] == "<input>:1:5: stuck [perform]: unhandled operation 'ask' (argument 5); "
        "enclosing handlers handle: none"
    )
    assert out[2] == "      " + "^" * len("perform ask 5")
    out = repl("<1, 2>.2", "(\\x. x) 1 2", "nope", "(1 + ")
    assert "index 2 out of range for array of length 2" in out[0]
    assert "stuck [not a function]: cannot apply an integer to an argument" in out[3]
    assert "unbound name: nope is not defined" in out[6]
    assert out[9].startswith("<input>:1:") and "syntax error" in out[9]


def test_divergence_ends_at_the_fuel_limit() -> None:
    out = repl(":set fuel 1000", "def loop x = loop x", "loop 1")
    assert "out of fuel: no result after 1,000 steps" in out[-3]


def test_variant_switch_changes_traverse() -> None:
    out = repl(
        'runRandom "k" (\\_. for i:2. sampleUniform ())',
        ":variant pepm22",
        'runRandom "k" (\\_. for i:2. sampleUniform ())',
        ":variant",
    )
    assert out == [
        '<"k_0_0", "k_1_0">',
        "variant = pepm22 (traverse rule of PEPM’22)",
        '<"k_0_0_0", "k_0_1_0">',
        "variant = pepm22",
    ]


def test_load_a_file() -> None:
    assert repl(":load examples/lambda_p/sum.lp") == ["sum defined", "6"]


def test_ctrl_c_interrupts_an_evaluation_and_keeps_the_session() -> None:
    # A shell that starts a job in the background makes it ignore SIGINT (POSIX), and children inherit
    # that; the REPL is started as a terminal starts it, with Python's own Ctrl-C handler.
    as_from_a_terminal = ("import runpy, signal, sys; "
                          "signal.signal(signal.SIGINT, signal.default_int_handler); "
                          "sys.argv = ['calculi.repl', 'lambda_p']; "
                          "runpy.run_module('calculi.repl', run_name='__main__')")
    proc = subprocess.Popen([sys.executable, "-c", as_from_a_terminal], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    stdout = proc.stdout

    def read() -> None:
        for text in iter(stdout.readline, ""):
            lines.put(text)

    threading.Thread(target=read, daemon=True).start()

    def line() -> str:  # the next line, or a failure (never a hang) if none comes within a minute
        try:
            return lines.get(timeout=60)
        except queue.Empty:
            state = f"exited with {proc.returncode}" if proc.poll() is not None else "still running"
            proc.kill()
            stderr = proc.stderr.read() if proc.stderr is not None else ""
            raise AssertionError(f"no output from the REPL within 60 s ({state}); "
                                 f"stderr: {stderr[-2000:]}") from None

    try:
        proc.stdin.write(":set fuel 100000000000\ndef loop x = loop x\nloop 1\n")
        proc.stdin.flush()
        assert line().startswith("fuel =")
        assert line() == "loop defined\n"
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        assert line() == "interrupted\n"
        proc.stdin.write("1 + 1\n")
        proc.stdin.close()
        assert line() == "2\n"
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()


def test_an_interrupt_before_the_hand_over_is_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    # Ctrl-C landing while the caller is still fetching the big-stack thread's queue: the job was never
    # handed over, so the caller must not wait for it (it waited for ever: the REPL hung, printing nothing).
    from calculi.lambda_p import deep

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(deep, "_jobs", interrupted)
    outcome: list[str] = []

    def call() -> None:
        try:
            deep.deep(lambda: 1)
        except KeyboardInterrupt:
            outcome.append("interrupted")

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    caller.join(timeout=10)
    assert outcome == ["interrupted"] and not deep.CANCEL.is_set()


def test_completion_offers_the_session_definitions_and_the_prelude() -> None:
    from calculi.core.registry import open_session
    from calculi.repl import Repl

    session = open_session("lambda_p")
    out = io.StringIO()
    shell = Repl(session, out, strict=True)
    shell.handle("def runTwice f x = f (f x)")
    assert shell.completions("runT") == ["runTwice"]
    assert {"runAccum", "runAmb", "runReader", "runRandom", "runSharedState", "runState"} <= set(
        shell.completions("1 + run"))
    assert "length" in shell.completions("len")


@pytest.mark.parametrize(
    ("text", "more"),
    [("<1, 2,", True), ("<1, 2, 3", True), ("<1, 2, 3\n>", False), ("f (x", True), ("a < b", False),
     ('"(" ++ "<"', False), ("x -- (", False), ("accum 1;", True), ("handle {return -> \\x. x", True),
     ("<<1>, <2>", True), ("<1, 2>", False), ("<1,\n  2\n  >", False)],
)
def test_multi_line_input_goes_on_while_a_bracket_or_an_array_is_open(text: str, more: bool) -> None:
    from calculi.core.registry import open_session

    assert open_session("lambda_p").incomplete(text) is more


def test_an_array_closed_on_the_next_line_parses() -> None:
    from calculi.core.fuzz import feed

    answers = feed("lambda_p", ["<1, 2,\n  3\n>", "<<1>, <2>\n  >.1", "if 1\n  > 0 then 5 else 6"])
    assert [a.printed.strip() for a in answers] == ["<1, 2, 3>", "<2>", "5"]
