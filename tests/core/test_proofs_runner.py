"""The theorem registry: counting examples, shrunk counterexamples, replay lines, mutant hunting."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from hypothesis import strategies as st

from calculi.core.mutants import Mutant, patch, patch_entry
from proofs import registry
from proofs.registry import Paper, Theorem, check, hunt, kills

TOY = Paper("toy", "A toy paper", "nowhere")
RULES = {"double": lambda n: 2 * n}


def toy(id: str, prop: object, given: object = None) -> Theorem:
    return Theorem(id, TOY, "§1", "a toy statement", "derived", given,  # type: ignore[arg-type]
                   prop, lambda v: f"<{v}>")  # type: ignore[arg-type]


def double_is_even(n: int) -> None:
    assert RULES["double"](n) % 2 == 0, "double is odd"


def small_numbers_only(n: int) -> None:
    assert n < 10, f"{n} is too large"


def test_passing_theorem_counts_its_examples() -> None:
    result = check(toy("toy.even", double_is_even, {"n": st.integers()}), "dev", seed=1)
    assert result.ok
    assert result.examples >= 10
    assert result.replay == ""


def test_own_example_count_is_scaled_with_the_profile() -> None:
    capped = replace(toy("toy.even", double_is_even, {"n": st.integers()}), max_examples=3)
    counts = {p: check(capped, p, seed=1).examples for p in ("dev", "ci", "thorough")}
    assert counts == {"dev": 1, "ci": 3, "thorough": 50}, counts


class _Base:
    def rule(self) -> int:
        return 1


class _Sub(_Base):
    pass


def test_patch_of_an_inherited_method_leaves_no_copy_behind() -> None:
    with patch(_Sub, "rule", lambda self: 2):
        assert _Sub().rule() == 2
    assert "rule" not in vars(_Sub)
    with patch(_Base, "rule", lambda self: 3):
        assert _Sub().rule() == 3  # a later patch of the base reaches the subclass
    assert _Sub().rule() == 1


def test_failure_is_shrunk_printed_and_replayable() -> None:
    result = check(toy("toy.small", small_numbers_only, {"n": st.integers(0, 1000)}), "dev", seed=3)
    assert result.status == "failed"
    assert result.counterexample == {"n": "<10>"}
    assert result.message.splitlines()[0] == "10 is too large"
    assert result.replay == "python -m proofs --theorem toy.small --profile dev --seed 3"


def test_crash_is_an_error_not_a_pass() -> None:
    def crash() -> None:
        raise ZeroDivisionError("boom")

    result = check(toy("toy.crash", crash), "dev")
    assert result.status == "error"
    assert "ZeroDivisionError: boom" in result.message


def test_missing_optional_module_skips() -> None:
    thm = toy("toy.needs", double_is_even, {"n": st.integers()})
    object.__setattr__(thm, "requires", ("no_such_module_xyz",))
    assert check(thm, "dev").status == "skipped"


@contextmanager
def registered(thm: Theorem) -> Iterator[None]:
    registry.THEOREMS[thm.id] = thm
    try:
        yield
    finally:
        del registry.THEOREMS[thm.id]


def test_mutant_is_killed_by_the_theorem_it_breaks() -> None:
    thm = toy("toy.even", double_is_even, {"n": st.integers()})
    mutant = Mutant("toy.off_by_one", "toy", "double adds one",
                    lambda: patch_entry(RULES, "double", lambda n: 2 * n + 1))
    with registered(thm):
        killer = hunt(mutant, "dev")
    assert killer is not None
    assert killer.id == "toy.even"
    assert RULES["double"](3) == 6  # the table is restored


def test_kills_counts_the_seeds_that_kill_a_mutant() -> None:
    thm = toy("toy.small", small_numbers_only, {"n": st.integers(0, 12)})
    mutant = Mutant("toy.noop", "toy", "changes nothing the theorem sees",
                    lambda: patch_entry(RULES, "double", lambda n: 2 * n))
    with registered(thm):
        results = kills(mutant, "dev", seeds=3)
    assert len(results) == 3
    assert all(r is not None and r.id == "toy.small" for r in results)


def test_surviving_mutant_is_reported() -> None:
    thm = toy("toy.even", double_is_even, {"n": st.integers()})
    mutant = Mutant("toy.harmless", "toy", "double doubles",
                    lambda: patch_entry(RULES, "double", lambda n: n + n))
    with registered(thm):
        assert hunt(mutant, "dev") is None


@pytest.mark.parametrize("flag", ["--json", "--list"])
def test_command_line_with_no_match_exits_nonzero(flag: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "proofs", "--theorem", "no.such", flag],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2


def test_json_rows() -> None:
    proc = subprocess.run([sys.executable, "-m", "proofs", "--paper", "foil", "--json",
                           "--profile", "dev"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert rows
    assert {"id", "reference", "examples", "status", "seconds"} <= set(rows[0])
