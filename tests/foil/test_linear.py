"""The front end and the evaluator are linear in the size of their input, and nesting past what
they can take is a located error, never a hang or a RecursionError.

Linearity is checked by counting work (function calls, ``scaling.work``) at sizes n and 2n: the
count must about double. The timings are in ``python -m calculi.foil.bench --scaling``."""

from __future__ import annotations

import importlib
import sys

import pytest

from calculi.core.errors import CalculusError, ParseError
from calculi.foil import normalize, parse, pretty
from calculi.foil.scaling import FAMILIES, PHASES, work

parse_module = importlib.import_module("calculi.foil.parse")  # the package's ``parse`` is the function
deep = importlib.import_module("calculi.foil.deep")

GROWTH = 2.25
"""How much more work 2n may take than n (2 is linear; a quadratic phase takes 4)."""


def _ratio(family: str, phase: str, n: int) -> float:
    """How much more work (calls, or characters printed) size 2n takes than size n."""
    run = PHASES[phase]
    small, large = FAMILIES[family](n), FAMILIES[family](2 * n)
    small_term, large_term = parse(small), parse(large)
    if phase == "print":  # one call may print a long line of indentation: count the characters
        return len(pretty(large_term)) / len(pretty(small_term))
    return work(lambda: run(large, large_term)) / work(lambda: run(small, small_term))


@pytest.mark.parametrize("phase", ["print", "normalise"])
def test_a_let_of_n_bindings_costs_linear_work(phase: str) -> None:
    assert _ratio("let of n bindings", phase, 150) < GROWTH


@pytest.mark.slow
@pytest.mark.parametrize("phase", list(PHASES))
@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_phase_costs_linear_work(family: str, phase: str) -> None:
    assert _ratio(family, phase, 1500) < GROWTH


@pytest.mark.slow
def test_ten_thousand_levels_and_a_hundred_thousand_bindings_run() -> None:
    nested = parse(FAMILIES["f (f (… x)) n deep"](10_000))
    assert normalize(nested) == nested and pretty(nested, width=None).count("(") == 10_000 - 1
    assert pretty(normalize(parse(FAMILIES["let of n bindings"](100_000)))) == r"\z. z"
    assert pretty(normalize(parse(FAMILIES["n nested redexes"](10_000)))) == r"\z. z"


def test_nesting_past_the_limit_is_a_located_parse_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_module, "MAX_NESTING", 100)
    parse("f (" * 100 + "x" + ")" * 100, free=True)
    parse("let " + "; ".join(f"x{i} = y" for i in range(300)) + " in x0", free=True)  # siblings
    parse("f" + " x" * 300, free=True)  # the arguments of one application are siblings
    with pytest.raises(ParseError) as info:
        parse("f (" * 102 + "x" + ")" * 102, free=True)
    assert "nested too deeply (more than 100 levels); bind the inner parts with let" in info.value.reason
    assert info.value.span is not None and info.value.span.column == 1 + 3 * 101
    with pytest.raises(ParseError) as info:
        parse(r"\x. " * 102 + "x")
    assert info.value.span is not None and info.value.span.column == 1 + 4 * 101


@pytest.mark.slow
def test_nesting_past_the_real_limit_is_a_located_parse_error() -> None:
    depth = parse_module.MAX_NESTING + 2
    with pytest.raises(ParseError, match="nested too deeply") as info:
        parse("f (" * depth + "x" + ")" * depth, free=True)
    assert info.value.span is not None


def test_a_result_too_deep_for_the_evaluator_is_a_located_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deep, "LIMIT", 3_000)
    twelve = r"\f. \x. " + "f (" * 12 + "x" + ")" * 12
    term = parse(rf"({twelve}) (\f. \x. f (f x))")  # 2^12 levels of f; the evaluator has room for ~750
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(2_000)  # below LIMIT, so that ``room`` raises it to exactly LIMIT
    try:
        with pytest.raises(CalculusError, match="nested too deeply") as info:
            normalize(term)
    finally:
        sys.setrecursionlimit(before)
    assert info.value.span is not None and (info.value.span.line, info.value.span.column) == (1, 1)
