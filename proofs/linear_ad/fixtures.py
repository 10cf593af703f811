"""What Linear A's theorem modules share: the papers, the generators, and the fixtures that run a
generated program (its main function, a rational point, an evaluator call, a 50-digit comparison).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy

from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.eval import Cost, Evaluator
from calculi.linear_ad.primitives import FLOAT
from calculi.linear_ad.strategies import linear_programs, nonlinear_programs
from calculi.linear_ad.syntax import Program
from calculi.linear_ad.transpose import transpose_program
from proofs.registry import Paper

YOLO = Paper("YOLO", "You Only Linearize Once: Tangents Transpose to Gradients", "POPL 2023")
LAFI = Paper("LAFI", "Decomposing reverse-mode automatic differentiation", "LAFI 2021")

NONLIN = {"program": nonlinear_programs()}
LINEAR = {"program": linear_programs()}
SYMBOLIC = 30


def main_of(program: Program) -> tuple[Typing, str]:
    return check_program(program), program.defs[-1].name


def point(typing: Typing, name: str, seed: int = 1) -> list[Fraction]:
    """A deterministic rational point in [-1, 1] for ``name``'s parameters."""
    n = len(typing.signatures[name].params)
    return [Fraction((3 * i + seed) % 7 - 3, 4) for i in range(n)]


def run(typing: Typing, name: str, args: list[Any], largs: list[Any], domain: Any = FLOAT,
        cost: Cost | None = None) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    return Evaluator(typing, domain, cost=cost).call(name, args, largs)


def near(a: Any, b: Any, digits: int = 50) -> bool:
    """Two sympy constants agree to ``digits`` significant digits (used after exact derivation)."""
    x, y = sympy.N(a, digits), sympy.N(b, digits)
    return bool(abs(x - y) <= sympy.Float(10) ** (-(digits - 15)) * max(1, abs(x), abs(y)))


def constants(n: int) -> list[Fraction]:
    """The values of a linear function's ``n`` non-linear parameters: none is 0 or 1, and none
    cancels a scale factor of the generators (whose denominators are powers of 2)."""
    return [Fraction(5 + 4 * k, 7) for k in range(n)]


def linear_fixture(program: Program) -> tuple[Typing, str, Typing, list[Fraction]]:
    typing, name = main_of(program)
    t = check_program(transpose_program(typing, name))
    return typing, name, t, constants(len(typing.signatures[name].params))
