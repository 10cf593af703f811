"""Unzip writes both halves with their canonical names: the tape lists the residuals in the order the
linear half first reads them, and only a half checkpointing removed bindings from is renumbered."""

from __future__ import annotations

import pytest

from calculi.core.syntax import Source
from calculi.linear_ad import unzip as unzip_module
from calculi.linear_ad.ad import jvp, load
from calculi.linear_ad.jvp import jvp_name
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.pretty import show_program
from calculi.linear_ad.rename import canonical
from calculi.linear_ad.syntax import FuncDef, Program
from calculi.linear_ad.unzip import POLICIES, unzip_program

SOURCE = "def g(x: R) -> R = sin(x) * x\ndef f(x: R, y: R) -> R = let c = g(y) in c * exp(x)"

F_HALVES = """\
def f.jvp.nonlin(x: R, y: R) -> (R, ((R, R), R, R, R) ; ) =
  let (y1, t ;) = g.jvp.nonlin(y) in
  let y2 = exp(x) in
  let y3 = y1 * y2 in
  let t1 = tup(t, x, y2, y1) in
  (y3, t1 ;)

def f.jvp.lin(t: ((R, R), R, R, R) ; dx: R, dy: R) -> ( ; R) =
  let (t1, x, y, y1) = unpack t in
  let (; dc) = g.jvp.lin(t1 ; dy) in
  let (; dy1) = exp(x) *. dx in
  let (; dy2) = y *. dc (+) y1 *. dy1 in
  (; dy2)"""


def unzipped(policy: str, monkeypatch: pytest.MonkeyPatch | None = None) -> Program:
    typing = load(SOURCE)
    j = jvp(typing, "f", getattr(POLICIES[policy], "bind_scales", False))
    if monkeypatch is not None:
        def refuse(d: FuncDef) -> FuncDef:
            raise AssertionError(f"{d.name} was renumbered")
        monkeypatch.setattr(unzip_module, "renumber", refuse)
    return unzip_program(j, jvp_name("f"), POLICIES[policy]).program


def test_the_tape_follows_the_linear_half() -> None:
    program = unzipped("save-all")
    f = Program(tuple(d for d in program.defs if d.name.startswith("f.")))
    text = show_program(f, unicode=False)
    assert text == F_HALVES
    assert parse_program(Source(show_program(program))) == program  # (printed, it reads back as it is)


@pytest.mark.parametrize("policy", list(POLICIES))
def test_every_half_is_canonical(policy: str) -> None:
    for d in unzipped(policy).defs:
        assert d == canonical(d), d.name


@pytest.mark.parametrize("policy", ["save-all", "save-coefficients"])
def test_saving_policies_rename_nothing(policy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert unzipped(policy, monkeypatch).defs
