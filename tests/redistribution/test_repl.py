"""The REPL, driven through a pipe."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def repl(*lines: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "calculi.repl", "redistribution"],
                          input="\n".join(lines) + "\n", capture_output=True, text=True, check=False,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc.stdout


def test_a_session() -> None:
    out = repl(":check [3{x}6]", ":mesh x=2,y=3", ":check [3{x}6]", ":synth [3{x}6] -> [2{y}6]", ":run",
               ":check [3{q}6]", ":set strategy xla", ":synth [3{x}6] -> [2{y}6]")
    assert "no mesh yet" in out
    assert "mesh x=2, y=3 (6 devices)" in out
    assert "[3{x}6] : ok (local shape (3,), 3 elements per device; spec P('x'))" in out
    assert "AllPermute([1{y,x}6])" in out and "memory profile" in out
    assert "checked on the NumPy simulator: every device holds its block of [2{y}6]" in out
    assert "unbound name [Type-Wf]: axis 'q'" in out
    assert "strategy = xla" in out and "peak local elements: 6" in out


def test_the_optimal_strategy_in_the_repl() -> None:
    out = repl(":mesh x=4,y=2", ":set strategy optimal", ":synth [3{x}12, 6{y}12] -> [12, 3{x}12]", ":run",
               ":set strategy best")
    assert "strategy = optimal" in out and "(strategy optimal)" in out
    assert "AllToAll(0 -> 1, x)" in out and "peak local elements: 36" in out
    assert "checked on the NumPy simulator" in out
    assert "strategies: paper, optimal, optimal-subaxes, naive, xla" in out


def test_stepping_names_each_rule() -> None:
    out = repl(":mesh x=2,y=3", ":step [3{x}6] -> [2{y}6]", ":step", ":step", ":step", ":step")
    assert "--> [DynSlice] [1{x,y}6] AllPermute([1{y,x}6]); AllGather(0, x)" in out
    assert "--> [AllPermute] [1{y,x}6] AllGather(0, x)" in out
    assert "--> [AllGather] [2{y}6]" in out
    assert "(final: no rule applies)" in out


def test_ill_typed_program_in_the_repl() -> None:
    out = repl(":mesh x=2,y=3", ":check [3{x}6] DynSlice(0, y); AllGather(0, x)")
    assert "type error [AllGather]" in out and "^^^" in out


def test_load_a_file(tmp_path: Path) -> None:
    script = tmp_path / "session.redist"
    script.write_text("# a redistribution script\n:mesh a=4\n[2{a}8, 8] -> [8, 2{a}8]\n", encoding="utf-8")
    out = repl(f":load {script}")
    assert "AllToAll(0 -> 1, a)" in out and "checked on the NumPy simulator" in out
    proc = subprocess.run([sys.executable, "-m", "calculi.redistribution", "run", str(script)],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0 and "AllToAll(0 -> 1, a)" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "calculi.redistribution", "run", "--trace", str(script)],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.stdout.splitlines()[1:] == ["[2{a}8, 8] AllToAll(0 -> 1, a)", "--> [AllToAll] [8, 2{a}8]"]
