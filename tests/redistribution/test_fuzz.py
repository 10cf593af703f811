"""The REPL fuzzed in-process: mistyped, huge and deep input ends in the calculus's own located errors.

Inputs are random text and mutations of what people type (the README's session, the notebook's
problems), plus inputs made to hurt: sizes of 4,301 digits, meshes of many axes, types of many
dimensions, programs of many collectives, runs that would need far more memory than the budget.
Each is answered after a ``:mesh`` line in a fresh session; no internal error may escape
(``feed`` runs the REPL strictly), and every error about a non-command input has a position.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calculi.core.fuzz import feed, fuzzing, inputs, unlocated

HUGE = "9" * 4301
MANY_AXES = ",".join(f"a{i}=2" for i in range(24))
SPLIT_24 = "1{" + ",".join(f"a{i}" for i in range(24)) + "}" + str(2**24)

MESHES = [":mesh x=2,y=3", ":mesh a=4", ":mesh x=2,y=2,z=2", ":mesh x=4096", f":mesh {MANY_AXES}"]

EXAMPLES = [
    # the README's tour and the notebook's problems
    ":mesh x=2,y=3", ":synth [3{x}6] -> [2{y}6]", ":run", "[3{x}6] -> [2{y}6]",
    ":check [3{x}6]", ":check [3{x}6] DynSlice(0, y); AllGather(0, x)",
    ":type [1{x,y}6] AllPermute([1{y,x}6])", ":step [3{x}6] -> [2{y}6]", ":step",
    ":trace [2{a}8, 8] -> [8, 2{a}8]", "[2{a}8, 8] AllToAll(0 -> 1, a)",
    "[4{x}8, 4{y}8, 8] -> [8, 2{z,x}8, 4{y}8]", "[16{x}64, 64] -> [64, 32{y}64]",
    ":set strategy xla", ":set strategy naive", ":set memory 1GiB", ":set memory 12", ":set fuel 50",
    ":help synth",
    # sub-axes and bad meshes
    ":check [2{a:2}8] DynSlice(0, a:(2)2); AllGather(0, a:(2)2)", "[1{a:2,a:(2)2}4] -> [4]",
    "[4{a:(2)2}8] AllPermute([4{a:2}8])", ":check [2{a:(2)4, x:3}6]", ":mesh ξ=2", ":mesh 1=2", ":mesh x=-2",
    # made to hurt: huge sizes, many axes, many dimensions, long programs, memory bombs
    f":mesh x={HUGE}", f"[{HUGE}] -> [{HUGE}]", f":check [2] AllToAll(0 -> {HUGE}, x)",
    "[4096{x}16777216] -> [16777216]", ":synth [4096{x}16777216] -> [16777216]",
    "[" + ", ".join(["2"] * 65) + "]", "[" + ", ".join(["1{x}2"] + ["1"] * 64) + "] -> [2" + ", 1" * 64 + "]",
    f"[{SPLIT_24}] -> [{2**24}]", f":synth [{SPLIT_24}, {2**24}] -> [{2**24}, {SPLIT_24}]",
    "[2] " + "; ".join(["DynSlice(0, x); AllGather(0, x)"] * 300),
    f":mesh {MANY_AXES}", f"[{4**400}, {4**400}] -> [{4**400}, {2 * 4**399}{{x}}{4**400}]",
]


def answer(mesh: str, text: str) -> None:
    answers = feed("redistribution", [mesh, text], fuel=20_000)
    assert unlocated(answers) == [], [a.printed for a in unlocated(answers)]


@fuzzing(100)
@given(st.sampled_from(MESHES), inputs(EXAMPLES))
def test_fuzzed_inputs_end_in_located_errors(mesh: str, text: str) -> None:
    answer(mesh, text)


@pytest.mark.slow
@fuzzing(2_000)
@given(st.sampled_from(MESHES), inputs(EXAMPLES))
def test_fuzzed_inputs_end_in_located_errors_thoroughly(mesh: str, text: str) -> None:
    answer(mesh, text)


@pytest.mark.parametrize("text", EXAMPLES)
@pytest.mark.parametrize("mesh", MESHES)
def test_every_example_is_answered(mesh: str, text: str) -> None:
    answer(mesh, text)
