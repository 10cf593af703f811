"""The compiler to NumPy answers to the reference interpreter on generated programs."""

from __future__ import annotations

from dataclasses import fields, replace
from fractions import Fraction
from typing import Any

import numpy as np

from calculi.dex.compile import compile_program
from calculi.dex.compile_mutants import MUTANTS
from calculi.dex.pretty import show_type
from calculi.dex.strategies import Program, histogram_programs, programs, state_programs
from calculi.dex.strategies_compile import (
    extremum_programs,
    keyed_accumulation_programs,
    scan_programs,
    window_programs,
)
from calculi.dex.syntax import Expr, RealLit
from proofs.dex.language import DEX
from proofs.registry import register_mutants, theorem

register_mutants(MUTANTS)


def dyadic(program: Program) -> Program:
    """``program`` with each real literal whose denominator is no power of two moved to the nearest
    eighth. The interpreter is exact and the compiled program float64: they agree at a comparison only
    where float64 holds its operands exactly (0.2 + 0.2 + 0.2 <= 0.6 holds exactly, not in float64)."""
    return Program(_dyadic(program.expr))


def _dyadic(node: Any) -> Any:
    if isinstance(node, RealLit):
        q = node.value.denominator
        return node if q & (q - 1) == 0 else replace(node, value=Fraction(round(node.value * 8), 8))
    if isinstance(node, tuple):
        return tuple(_dyadic(x) for x in node)
    if not isinstance(node, Expr):
        return node
    changes = {f.name: _dyadic(getattr(node, f.name)) for f in fields(node) if f.name != "span"}
    return replace(node, **{k: v for k, v in changes.items() if v is not getattr(node, k)})


def agree(got: Any, want: Any) -> bool:
    """Equal up to float64 rounding (relative 1e-9), tuple by tuple, array by array."""
    if isinstance(want, tuple):
        return (isinstance(got, tuple) and len(got) == len(want)
                and all(agree(g, w) for g, w in zip(got, want, strict=True)))
    g, w = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return g.shape == w.shape and bool(np.allclose(g, w, rtol=1e-9, atol=1e-9))


@theorem("dex.compiler.agrees", paper=DEX, section="§5", label="derived",
         statement="the program compiled to NumPy (parallel for as array operations, accumulation "
                   "as scatters, sequential for as loops) gives the interpreter's value",
         given={"program": (programs() | state_programs() | histogram_programs()).map(dyadic)})
def _(program: Program) -> None:
    _agrees(program)


@theorem("dex.compiler.array_rules", paper=DEX, section="§5", label="derived",
         statement="the array rules (a read at an index affine in the loop indices as a strided "
                   "view, a sliding-window sum as a correlation, guarded reads, histograms as "
                   "bincount, running sums as cumsum) give the interpreter's value",
         given={"window": window_programs().map(dyadic), "keyed": keyed_accumulation_programs().map(dyadic),
                "scan": scan_programs().map(dyadic)})
def _(window: Program, keyed: Program, scan: Program) -> None:
    for program in (window, keyed, scan):  # (one of each shape every example: a union drew some rarely)
        _agrees(program)


@theorem("dex.compiler.extremum", paper=DEX, section="§5", label="derived",
         statement="an if choosing the greater or lesser of the two values it compares compiles to "
                   "np.maximum or np.minimum (np.fmax or np.fmin where one side may be NaN) and gives "
                   "the interpreter's value, ties included (NaN and signed zeros, which exact "
                   "arithmetic never makes, are pinned over float inputs in tests/dex)",
         given={"program": extremum_programs()})
def _(program: Program) -> None:
    _agrees(program)


def _agrees(program: Program) -> None:
    compiled = compile_program(program.expr)
    got = compiled()
    want = compiled.interpret(())
    assert agree(got, want), (f"compiled ({compiled.mode}) gives {got!r}, the interpreter "
                              f"{want!r} : {show_type(compiled.checked.type)}")
