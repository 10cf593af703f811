"""Golden tests: every worked example of the papers, with the value written here, by both
interpreters (and by the command line)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from calculi.core.errors import CalculusError
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.lambda_p import parallel
from calculi.lambda_p.program import Program
from calculi.lambda_p.run import TRACE_ENDS, run_term, show_value

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "lambda_p"

GOLDEN = {
    "state": "42",
    "amb_bool": "<True, False, False, False>",
    "accum_seq": "((), 3)",
    "accum_done": '("done", 6)',
    "ask_143": "143",
    "incr": "<2, 3, 4>",
    "reader_for": "<42, 42, 42, 42, 42>",
    "sum": "6",
    "weak_exc": '(Left "error", "start 01!34")',
    "weak_exc_swapped": 'Left "error"',
    "amb_coins": '<"HHH", "HHT", "HTH", "HTT", "THH", "THT", "TTH", "TTT">',
    "amb_13": "(<" + ", ".join(["()"] * 100) + ">, 6)",
    "shared_state": "((1, 3), <12, 42>)",
    "trace": '"ABCDE"',
    # ICFP'24 §5.3: the loop and its unrolling draw with different keys (mock PRNG)
    "rng_for": '<"k_0_0", "k_1_0">',
    "rng_unrolled": '<"k_0", "k_1_0">',
}

# PEPM'22 §4.3 splits keys differently; its traverse rule gives the same values elsewhere
PEPM22 = {**GOLDEN, "rng_for": '<"k_0_0_0", "k_0_1_0">'}


def run_example(name: str, variant: str = "icfp24", machine: str = "fast", jobs: int = 1) -> str:
    program = Program.with_prelude(variant)
    path = EXAMPLES / f"{name}.lp"
    (term,) = program.expressions(Source(path.read_text(encoding="utf-8"), str(path)))
    return show_value(run_term(term, Fuel(), variant, jobs, machine))


def test_every_example_file_has_a_golden_value() -> None:
    assert {p.stem for p in EXAMPLES.glob("*.lp")} == set(GOLDEN)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_fast_evaluator(name: str) -> None:
    assert run_example(name) == GOLDEN[name]


@pytest.mark.parametrize("name", sorted(set(GOLDEN) - {"amb_13"}))
def test_small_step_machine(name: str) -> None:
    assert run_example(name, machine="small-step") == GOLDEN[name]


@pytest.mark.parametrize("name", sorted(set(GOLDEN) - {"amb_13"}))
def test_pepm22_variant(name: str) -> None:
    if name in ("accum_done",):
        pytest.skip("the handler is written for ICFP'24 (ℓ is an array)")
    assert run_example(name, variant="pepm22", machine="small-step") == PEPM22[name]
    assert run_example(name, variant="pepm22") == PEPM22[name]


def test_accum_done_is_stuck_under_pepm22() -> None:
    """ICFP'24's handler indexes ℓ; under PEPM'22 ℓ is a function, so the program is stuck."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "calculi.lambda_p",
            "run",
            str(EXAMPLES / "accum_done.lp"),
            "--variant",
            "pepm22",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "stuck [bad index]: cannot index a function" in result.stderr


def test_command_line_prints_values_and_warnings() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "calculi.lambda_p", "run", str(EXAMPLES / "ask_143.lp")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout == "143\n"
    assert "ask_143.lp:3:8: warning: this handler uses the default traverse clause" in result.stderr


def _command_line(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "calculi.lambda_p", "run", *args],
                          capture_output=True, text=True, check=False)


def test_command_line_full_trace_names_every_rule() -> None:
    result = _command_line(str(EXAMPLES / "reader_for.lp"), "--full-trace")
    rules = [line.split("]")[0][5:] for line in result.stdout.splitlines() if line.startswith("--> [")]
    assert rules[0] == "traverse"
    assert rules.count("parallel") == 1
    assert rules.index("parallel") < rules.index("return")
    assert result.stdout.splitlines()[-1].endswith("<42, 42, 42, 42, 42>")


def test_command_line_trace_summarises_a_long_trace(tmp_path: Path) -> None:
    path = tmp_path / "count.lp"
    path.write_text("def count n = if n == 0 then 0 else 1 + count (n - 1)\ncount 6\n", encoding="utf-8")
    full = _command_line(str(path), "--full-trace").stdout.splitlines()
    summary = _command_line(str(path), "--trace").stdout.splitlines()
    steps = [line for line in full if line.startswith("--> [")]
    assert len(steps) > 3 * TRACE_ENDS and full[-1] == "--> [prim] 6"
    assert summary[:TRACE_ENDS + 1] == full[:TRACE_ENDS + 1]  # the term and the first steps
    assert summary[TRACE_ENDS + 1] == f"… {len(steps) - 2 * TRACE_ENDS:,} steps more (--full-trace or " \
        ":fulltrace shows every step) …"
    assert summary[TRACE_ENDS + 2:-1] == full[-TRACE_ENDS:]  # the last steps
    rules = Counter(line.split("]")[0][5:] for line in steps)
    assert summary[-1] == f"{len(steps):,} steps: " + ", ".join(f"{r} {n:,}" for r, n in rules.most_common())


def test_jobs_give_the_same_values() -> None:
    for name in ("incr", "reader_for", "weak_exc", "amb_coins", "rng_for"):
        assert run_example(name, jobs=2) == GOLDEN[name]


def test_jobs_report_the_lowest_index_error_as_sequential_evaluation_does() -> None:
    program = Program.with_prelude()
    (term,) = program.expressions(Source('for i:16. if i == 5 || i == 11 then 1 + "x" else i * i'))
    outcomes = []
    for machine in ("fast", "small-step"):
        for jobs in (1, 2):
            with pytest.raises(CalculusError) as info:
                run_term(term, Fuel(), jobs=jobs, machine=machine)
            outcomes.append(info.value.render())
    assert len(set(outcomes)) == 1
    assert "+ expects integers, got a string" in outcomes[0]


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_jobs_give_the_same_values_however_workers_start(method: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers start forked, or (where JAX is loaded) from a fork server, which shares nothing
    with this process: the program's definitions and the prelude's travel with the iterations."""
    monkeypatch.setattr(parallel, "START_METHOD", method)
    in_workers, answered = parallel.in_workers, []

    def counted(*args: Any) -> Any:
        answered.append(in_workers(*args))
        return answered[-1]

    monkeypatch.setattr(parallel, "in_workers", counted)
    program = Program.with_prelude()
    program.add(Source("def weight x = x * x + 1"))
    (term,) = program.expressions(Source(
        "for i:8. runAccum (+) 0 (\\_. fold (+) 0 (map (\\x. accum x; weight x * i) (iota i)))"))
    expected = "<" + ", ".join(
        f"({sum((x * x + 1) * i for x in range(i))}, {sum(range(i))})" for i in range(8)) + ">"
    for machine in ("fast", "small-step"):
        assert show_value(run_term(term, Fuel(), jobs=2, machine=machine)) == expected
    assert len(answered) == 2 and None not in answered  # each machine ran the loop in workers
