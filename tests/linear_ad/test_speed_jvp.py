"""J's fast paths write what the reference J writes on every benchmark family and example."""

from __future__ import annotations

from pathlib import Path

import pytest

from calculi.core.syntax import Source
from calculi.linear_ad.bench import FAMILIES, sized
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.pretty import show_program
from proofs.linear_ad.speed_jvp import agrees

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "linear_ad").glob("*.la"))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_fast_j_agrees_on_the_families(family: str) -> None:
    for n in (1, 2, 7, 40):
        program = sized(family, n)
        agrees(program)
        agrees(parse_program(Source(show_program(program))))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_fast_j_agrees_on_the_examples(path: Path) -> None:
    agrees(parse_program(Source(path.read_text())))


def test_fast_j_agrees_on_shared_and_nested_terms() -> None:
    text = """
def g(x: R, y: R) -> (R, R ;) = (y, x ;)
def f(x: R, y: R) -> R =
  let (a, b) = g(x, x) in
  let c = (let z = sin(x) in z * y) in
  let t = tup(a, c) in
  let (p, q) = unpack t in
  let (;) = drop(p) in
  sin(q * x) * (let w = cos(y) in w * b) + 2.0
"""
    agrees(parse_program(Source(text)))
