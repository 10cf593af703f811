"""T's shortcut (the top block replayed only) and its way back to hoisting: nested blocks and errors."""

from __future__ import annotations

import pytest

from calculi.core import coverage
from calculi.core.errors import TypeCheckError
from calculi.linear_ad.ad import load
from calculi.linear_ad.pretty import show_program
from calculi.linear_ad.transpose import transpose_program
from proofs.linear_ad.speed_transpose import NESTED

NESTED_T = """def l.T(x: R, t: (R, R) ; c: R) -> ( ; R) =
  let w = x * 3.0 in
  let (a, b) = unpack t in
  let u = x + 2.0 in
  let v = x * x in
  let z = x + x in
  let (; c1, c2) = dup(c) in
  let (; c3) = lneg(; c2) in
  let (; c4) = z *. c3 in
  let (; c5) = c1 (+) c4 in
  let (; c6) = v *. c5 in
  let (; c7) = x *. c6 in
  let (; c8) = u *. c7 in
  let (; c9) = w * a * b *. c8 in
  (; c9)"""


def test_nested_blocks_are_hoisted_in_order_each_with_its_own_names() -> None:
    """The sibling blocks bind the same numbers: each scaling reads its own block's factor."""
    assert show_program(transpose_program(load(NESTED), "l"), unicode=False).strip() == NESTED_T


def test_the_shortcut_writes_what_hoisting_writes() -> None:
    """Coverage counting takes the hoisting pass throughout."""
    typing = load(NESTED)
    with coverage.recording():
        hoisted = transpose_program(typing, "l")
    assert transpose_program(typing, "l") == hoisted


MIXED = """def l(x : R ; dy : R) -> (; R) =
  let (; dz) = (let (w ; dw) = (x ; dy) in scale(w ; dw)) in
  let (v ; du) = (x ; dz) in
  let (;) = drop(v) in
  (; du)
"""


def test_the_first_error_in_order_is_reported() -> None:
    """The shortcut meets the top block's mixed let first; hoisting meets the nested one first, as T
    always has."""
    typing = load(MIXED)
    with pytest.raises(TypeCheckError) as fast:
        transpose_program(typing, "l")
    with coverage.recording(), pytest.raises(TypeCheckError) as hoisted:
        transpose_program(typing, "l")
    assert str(fast.value) == str(hoisted.value)
    assert "this let binds both non-linear and linear names" in str(fast.value)
    assert fast.value.span is not None and fast.value.span.line == 2
