"""The training command: a resumed run loses no step; bad input is a message, not a traceback; an
interrupted run saves and exits 130; a step with a gradient that is not finite is skipped and said."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend import optim, train
from backend.models import griffin
from backend.pytree import named_leaves

ARGS = ["griffin", "--preset", "tiny", "--batch", "2", "--seq", "16", "--eval-batches", "1", "--sample", "0",
        "--save-every", "2"]


def _run(argv: list[str], err: io.StringIO | None = None) -> dict[str, object]:
    return train.run(train.parser().parse_args(argv), out=io.StringIO(), err=err or io.StringIO())


def test_resuming_a_checkpoint_gives_the_uninterrupted_run(tmp_path: Path) -> None:
    whole, part = tmp_path / "whole.npz", tmp_path / "part.npz"
    _run([*ARGS, "--steps", "4", "--checkpoint", str(whole)])
    _run([*ARGS, "--steps", "2", "--checkpoint", str(part)])
    _run([*ARGS, "--steps", "4", "--checkpoint", str(part), "--resume"])
    cfg = griffin.preset("tiny", 103)
    like = griffin.init(cfg)
    a, opt_a, _, _ = optim.load(str(whole), like)
    b, opt_b, _, _ = optim.load(str(part), like)
    assert opt_a.step == opt_b.step == 4
    assert opt_a.history == opt_b.history
    for (_, x), (_, y) in zip(named_leaves(a), named_leaves(b), strict=True):
        np.testing.assert_array_equal(x, y)


def test_the_loss_goes_down() -> None:
    result = _run([*ARGS, "--steps", "30", "--lr", "1e-2"])
    assert float(result["valid_loss"]) < np.log(103)  # type: ignore[arg-type]


def test_bad_resume_is_reported_without_a_traceback(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "backend.train", *ARGS, "--resume", "--checkpoint",
                           str(tmp_path / "missing.npz")], capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "usage" in proc.stderr and "--resume needs an existing" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- options --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("option", "value"), [
    ("--steps", "-5"), ("--steps", "0"), ("--steps", "2.5"), ("--batch", "0"), ("--seq", "0"),
    ("--hidden", "0"), ("--lr", "0"), ("--lr", "-0.001"), ("--lr", "nan"), ("--lr", "inf"), ("--seed", "-1"),
    ("--save-every", "-1"), ("--eval-batches", "0"), ("--sample", "-1")])
def test_a_bad_number_is_a_usage_error_naming_the_option(option: str, value: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        train.main(["griffin", option, value])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}:" in err and value in err and "Traceback" not in err


def test_help_gives_every_option_with_its_default() -> None:
    ap = train.parser()
    options = [a for a in ap._actions if a.option_strings and a.dest != "help"]
    assert len(options) == 13
    for action in options:
        assert action.help and "default" in action.help, action.option_strings
    text = ap.format_help()
    assert "(default: 300)" in text and "(default: 0.003)" in text and "130" in text


# -- progress -------------------------------------------------------------------------------------

class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_off_a_terminal_is_a_few_plain_lines_with_the_time_left() -> None:
    out = io.StringIO()
    bar = train.Progress(100, 0, out)
    for step in range(1, 101):
        bar.update(step, loss=1.0)
    bar.close()
    lines = out.getvalue().splitlines()
    assert 10 <= len(lines) <= 12 and lines[0].startswith("step 1/100 loss 1.0000")
    assert all("eta " in line for line in lines) and lines[-1].startswith("step 100/100")


def test_progress_on_a_terminal_is_a_rich_bar() -> None:
    out = Terminal()
    bar = train.Progress(50, 10, out)
    bar.update(30, loss=2.5)
    bar.message("a note")
    bar.close()
    assert bar.bar is not None
    text = out.getvalue()
    assert "30/50" in text and "loss 2.5000" in text and "a note" in text and "eta" in text


# -- resuming, interrupting, skipping ------------------------------------------------------------

def test_resuming_with_fewer_steps_than_the_checkpoint_says_so(tmp_path: Path) -> None:
    path = tmp_path / "c.npz"
    _run([*ARGS, "--steps", "3", "--checkpoint", str(path)])
    before = path.read_bytes()
    err = io.StringIO()
    result = _run([*ARGS, "--steps", "2", "--checkpoint", str(path), "--resume"], err)
    assert result["step"] == 3
    assert "already at step 3, --steps is 2: no step to take" in err.getvalue()
    assert path.read_bytes() == before


def _failing(at: int, failure: Callable[[Any], Any]) -> Callable[..., Callable[..., Any]]:
    """A ``grad_function`` whose ``at``-th call returns ``failure(value, grads)`` instead."""
    real = train.grad_function

    def make(loss: Any) -> Callable[..., Any]:
        vg, calls = real(loss), [0]

        def step(*args: Any) -> Any:
            calls[0] += 1
            out = vg(*args)
            return failure(out) if calls[0] == at else out

        return step

    return make


def _interrupt(out: Any) -> Any:
    raise KeyboardInterrupt


def test_an_interrupted_run_saves_and_exits_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    whole, part = tmp_path / "whole.npz", tmp_path / "part.npz"
    monkeypatch.setattr(train, "grad_function", _failing(3, _interrupt))
    assert train.main([*ARGS, "--steps", "4", "--save-every", "0", "--checkpoint", str(part)]) == 130
    assert "interrupted at step 2; checkpoint saved to" in capsys.readouterr().err
    monkeypatch.undo()
    _run([*ARGS, "--steps", "4", "--checkpoint", str(part), "--resume"])
    _run([*ARGS, "--steps", "4", "--checkpoint", str(whole)])
    like = griffin.init(griffin.preset("tiny", 103))
    (a, opt_a, _, _), (b, opt_b, _, _) = optim.load(str(whole), like), optim.load(str(part), like)
    assert opt_a.step == opt_b.step == 4
    for (_, x), (_, y) in zip(named_leaves(a), named_leaves(b), strict=True):
        np.testing.assert_array_equal(x, y)


def test_ctrl_c_saves_and_exits_130(tmp_path: Path) -> None:
    path = tmp_path / "c.npz"
    argv = [*ARGS, "--steps", "100000", "--checkpoint", str(path), "--save-every", "0"]
    proc = subprocess.Popen([sys.executable, "-m", "backend.train", *argv], stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    line = proc.stderr.readline()  # the first step's progress line
    assert line.startswith("step 1/100000"), line
    os.kill(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    assert "checkpoint saved to" in proc.stderr.read()
    _, opt, _, _ = optim.load(str(path), griffin.init(griffin.preset("tiny", 103)))
    assert opt.step >= 1


def _nan_gradient(out: Any) -> Any:
    value, grads = out
    return value, {**grads, "final_norm": {"scale": np.full_like(grads["final_norm"]["scale"], np.nan)}}


def test_a_step_with_a_nan_gradient_is_skipped_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(train, "grad_function", _failing(2, _nan_gradient))
    err = io.StringIO()
    result = _run([*ARGS, "--steps", "3"], err)
    assert result["step"] == 3 and result["skipped"] == 1
    assert "step 2: the loss" in err.getvalue() and "step skipped, parameters unchanged" in err.getvalue()
