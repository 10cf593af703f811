"""The training command: a resumed run loses no step; bad input is a message, not a traceback."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np

from backend import optim, train
from backend.models import griffin

ARGS = ["griffin", "--preset", "tiny", "--batch", "2", "--seq", "16", "--eval-batches", "1", "--sample", "0",
        "--save-every", "2"]


def _run(argv: list[str]) -> dict[str, object]:
    return train.run(train.parser().parse_args(argv), out=io.StringIO())


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
    for (_, x), (_, y) in zip(optim.named_leaves(a), optim.named_leaves(b), strict=True):
        np.testing.assert_array_equal(x, y)


def test_the_loss_goes_down() -> None:
    result = _run([*ARGS, "--steps", "30", "--lr", "1e-2"])
    assert result["valid_loss"] < np.log(103)  # type: ignore[operator]


def test_bad_resume_is_reported_without_a_traceback(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "backend.train", *ARGS, "--resume", "--checkpoint",
                           str(tmp_path / "missing.npz")], capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "usage" in proc.stderr and "--resume needs an existing" in proc.stderr
    assert "Traceback" not in proc.stderr
