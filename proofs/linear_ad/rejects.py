"""Negative type checks: programs the checker must reject, each with the reason it must give.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from calculi.core.errors import TypeCheckError
from calculi.core.syntax import Source
from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.transpose import transpose_program
from proofs.linear_ad.fixtures import YOLO
from proofs.registry import theorem

REJECTED = {
    "implicit linear dup": ("def f(x: R ; dx: R) -> (R ; R, R) = (x ; dx, dx)", "used twice (use dup)"),
    "implicit linear drop": ("def f(x: R ; dx: R) -> (R ;) = (x ;)", "never used (use drop)"),
    "implicit non-linear drop": ("def f(x: R, y: R) -> R = x", "y never used (use drop)"),
    "product of two linear values": ("def f(; dx: R, dy: R) -> (; R) = dx * dy", "applied to a linear"),
    "sin of a linear value": ("def f(; dx: R) -> (; R) = sin(dx)", "sin applied to a linear value"),
    "dup in an application": ("def g(; a: R, b: R) -> (; R) = a (+) b\n"
                              "def f(; x: R) -> (; R) = g(; x, x)", "used twice (use dup)"),
    "non-linear value added linearly": ("def f(x: R) -> (; R) = x (+) x", "applied to a non-linear value"),
}


@theorem("linear_ad.types.rejects", paper=YOLO, section="§3 (typing)", label="derived",
         statement="the checker rejects implicit linear dup and drop, implicit non-linear drop, products "
                   "of linear values, sin of a linear value, and transposing non-linear results")
def _() -> None:
    for what, (text, message) in REJECTED.items():
        err = rejection(partial(check_program_text, text))
        assert err is not None, f"accepted {what}: {text}"
        assert message in err.reason and err.span is not None, f"{what}: {err.reason}"
    typing = check_program(parse_program(Source("def f(x: R ; dx: R) -> (R ; R) = (x ; dx)")))
    err = rejection(lambda: transpose_program(typing, "f"))
    assert err is not None and "non-linear results" in err.reason


def check_program_text(text: str) -> Typing:
    return check_program(parse_program(Source(text)))


def rejection(action: Callable[[], object]) -> TypeCheckError | None:
    try:
        action()
    except TypeCheckError as err:
        return err
    return None
