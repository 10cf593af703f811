"""Inputs that grow, and the cost of each phase on them: the front end and the evaluator must be
linear in the size of a ``let``, of a nest of applications, of a chain of λs, of a chain of redexes.

``FAMILIES[name](n)`` is the text of an input of size n (closed, so ``python -m calculi.foil run``
takes it as it is); ``PHASES`` maps each phase (parse, print, scope, normalise) to a function of
that text (parse) or of the term parsed from it beforehand (the others). ``work(run)`` counts the
function calls (Python and C) a run makes: a measure of work that, unlike time, is the same on
every machine and every run, so a test can compare n with 2n.
``print_scaling`` (``python -m calculi.foil.bench --scaling N``) prints both.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from calculi.foil.normalize import normalize
from calculi.foil.parse import parse
from calculi.foil.pretty import pretty
from calculi.foil.syntax import Expr, free_names


def _let(n: int) -> str:
    bindings = [r"x0 = \a. a"] + [rf"x{i} = \b. x{i - 1} b" for i in range(1, n)]
    return "let " + "; ".join(bindings) + rf" in \z. x{n - 1} z"


FAMILIES: dict[str, Callable[[int], str]] = {
    "let of n bindings": _let,
    "f (f (… x)) n deep": lambda n: r"\f. \x. " + "f (" * n + "x" + ")" * n,
    "n nested λs": lambda n: "".join(rf"\x{i % 7}. " for i in range(n)) + "x0 x3",
    "n nested redexes": lambda n: r"\z. " + r"(\x. x) (" * n + "z" + ")" * n,
}

PHASES: dict[str, Callable[[str, Expr[Any]], object]] = {
    "parse": lambda text, term: parse(text),
    "print": lambda text, term: pretty(term),
    "scope": lambda text, term: free_names(term),
    "normalise": lambda text, term: normalize(term),
}


def work(run: Callable[[], object]) -> int:
    """The number of function calls ``run()`` makes (Python functions and C functions alike)."""
    calls = 0

    def count(frame: FrameType, event: str, arg: object) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(count)
    try:
        run()
    finally:
        sys.setprofile(None)
    return calls


def seconds(run: Callable[[], object], repeat: int) -> float:
    """The best CPU time of ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def print_scaling(n: int, repeat: int) -> None:
    """For each family and phase: the time at n and at 2n, and the ratios of time and of work."""
    print(f"{'input':<22}{'phase':<11}{'n':>8}{'time n':>11}{'time 2n':>11}{'time':>8}{'work':>8}")
    for family, make in FAMILIES.items():
        small, large = make(n), make(2 * n)
        small_term, large_term = parse(small), parse(large)
        for phase, run in PHASES.items():
            t1 = seconds(lambda: run(small, small_term), repeat)  # noqa: B023
            t2 = seconds(lambda: run(large, large_term), repeat)  # noqa: B023
            w1 = work(lambda: run(small, small_term))  # noqa: B023
            w2 = work(lambda: run(large, large_term))  # noqa: B023
            print(f"{family:<22}{phase:<11}{n:>8}{t1:>10.3f}s{t2:>10.3f}s{t2 / max(t1, 1e-9):>7.2f}x"
                  f"{w2 / w1:>7.2f}x", flush=True)
