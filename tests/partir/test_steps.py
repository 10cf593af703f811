"""The small-step semantics: rules by name, the REPL's :step and :trace, and run --trace."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from calculi.core.errors import TypeCheckError, UsageError
from calculi.core.files import cli as run_cli
from calculi.core.syntax import Source
from calculi.partir.__main__ import main
from calculi.partir.commands import Session
from calculi.partir.loops import to_loops
from calculi.partir.parse import parse_func
from calculi.partir.pretty import show_func
from calculi.partir.report import inputs_for
from calculi.partir.semantics import evaluate
from calculi.partir.steps import Machine, run, step
from calculi.partir.syntax import Func, Input, Slice
from calculi.partir.tactics import ManualPartition, apply_schedule, megatron
from calculi.redistribution.syntax import Mesh

EXAMPLES = Path(__file__).parents[2] / "calculi" / "partir" / "examples"
SUMMED = "mesh a=2 func f(x: [4]) { y = loop a #sum { s = slice(x, 0, a) yield s } return y }"


def _looped() -> tuple[str, dict[str, np.ndarray]]:
    mlp = parse_func(Source((EXAMPLES / "mlp.partir").read_text()))
    part = apply_schedule(mlp, [ManualPartition({"x": 0}, "batch"), megatron("w1", "model")])
    return show_func(to_loops(part)), inputs_for(mlp)


def test_stepping_bp_and_megatron_gives_the_reference_results() -> None:
    text, args = _looped()
    looped = parse_func(Source(text))
    outputs, rules = run(looped, args)
    for got, want in zip(outputs, evaluate(looped, args), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert set(rules) == {"inputs", "apply", "unroll", "slice", "tile", "sum"}
    assert rules[0] == "inputs" and rules.count("unroll") == rules.count("tile") + rules.count("sum")


def test_a_summed_loop_steps_rule_by_rule() -> None:
    func = parse_func(Source(SUMMED))
    x = np.array([1.0, 2.0, 3.0, 4.0])
    first = step(func, {"x": x})
    assert first is not None and first.rule == "inputs"
    machine = first.term
    rules = []
    while (nxt := step(machine)) is not None:
        rules.append(nxt.rule)
        machine = nxt.term
    assert rules == ["unroll", "slice", "slice", "sum"]
    assert isinstance(machine, Machine) and machine.final
    np.testing.assert_array_equal(machine.results()[0], [4.0, 6.0])


def test_repl_step_and_trace() -> None:
    s = Session()
    assert "loop a #sum" in s.step_once(Source(SUMMED))
    assert s.step_once(None).startswith("--> [inputs] bound: 1 values")
    assert "s@a0 = slice(x, 0, a=0)" in s.step_once(None)
    lines = list(s.trace(Source(SUMMED)))
    assert [line.split("]")[0] for line in lines[1:]] == ["--> [inputs", "--> [unroll", "--> [slice",
                                                          "--> [slice", "--> [sum"]
    assert lines[-1].endswith("done: y : [2]")
    assert s.step_once(None).startswith("--> [slice]")
    assert s.step_once(None).startswith("--> [slice]")
    assert s.step_once(None) == "--> [sum] done: y : [2]"
    assert s.step_once(None) == "(final: no rule applies)"


def test_repl_step_needs_a_program() -> None:
    with pytest.raises(UsageError, match="nothing to step"):
        Session().step_once(None)


def test_run_trace_on_the_command_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text, _ = _looped()
    path = tmp_path / "looped.partir"
    path.write_text(text)
    assert run_cli(main, ["run", str(path), "--trace"]) == 0
    out = capsys.readouterr().out
    assert "--> [unroll]" in out and "--> [tile]" in out and "--> [sum]" in out
    assert out.rstrip().endswith("done: y : [8, 16], l : []")


def test_an_unchecked_slice_outside_its_loop_is_a_type_error() -> None:
    func = Func(Mesh.of(a=2), "f", (Input("x", (4,)),), (Slice("y", "x", 0, "a"),), ("y",))
    with pytest.raises(TypeCheckError, match="outside a loop over a"):
        step(func, {"x": np.zeros(4)})
    machine = Machine(func, {"x": np.zeros(4)}, func.body)
    with pytest.raises(TypeCheckError, match="outside a loop over a"):
        step(machine)
