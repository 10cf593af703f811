"""Depth: the fast evaluator's Python stack does not grow with the program, and no program of
depth up to 10^4 (nesting of its syntax, or of its computation) raises RecursionError anywhere.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from hypothesis import strategies as st

from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.lambda_p import eval as fast
from calculi.lambda_p.compile import compile_term
from calculi.lambda_p.deep import deep
from calculi.lambda_p.pretty import show
from calculi.lambda_p.program import Program
from calculi.lambda_p.run import run_term, show_value
from calculi.lambda_p.values import to_term
from proofs.lambda_p.fixtures import ICFP24
from proofs.registry import theorem

RECURSIONS: dict[str, tuple[str, str, Callable[[int], str]]] = {
    # name: (definition, program with N, its value)
    "handled loop": (
        'def loop n = if n == 0 then "done" else (perform tick (); loop (n - 1))',
        "handle {return -> \\x. x, tick -> \\_ k. k ()} (loop N)",
        lambda n: '"done"',
    ),
    "non-tail recursion": (
        "def depth n = if n == 0 then 0 else (accum n; 1 + depth (n - 1))",
        "runAccum (+) 0 (\\_. depth N)",
        lambda n: f"({n}, {n * (n + 1) // 2})",
    ),
    "state": (
        "def count n = if n == 0 then get () else (x <- get (); set (x + 1); count (n - 1))",
        "runState 0 (\\_. count N)",
        lambda n: f"({n}, {n})",
    ),
    "resumptions inside loops": (
        "def pick n = if n == 0 then 0 else (x <- amb <1>; x + pick (n - 1))",
        "runAmb (\\_. pick N)",
        lambda n: f"<{n}>",
    ),
    "nested handlers": (
        "def nest n = if n == 0 then ask () else runReader n (\\_. nest (n - 1))",
        "runReader 0 (\\_. nest N)",
        lambda n: "1" if n else "0",
    ),
    "nested loops": (
        "def loops n = if n == 0 then 0 else fold (+) 0 (for i:1. 1 + loops (n - 1))",
        "runReader 0 (\\_. loops N)",
        lambda n: str(n),
    ),
}


@contextmanager
def _recursion_limit(extra: int) -> Iterator[None]:
    """A recursion limit of ``extra`` frames above the caller's."""
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back  # type: ignore[assignment]
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + extra)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


@theorem(
    "lambda_p.eval.bounded_stack",
    paper=ICFP24,
    section="Fig. 1 (perform), (traverse) / derived",
    label="derived",
    statement="the fast evaluator runs handled loops, effectful non-tail recursion, resumptions inside "
    "loops, nested handlers and nested loops 10^3 to 10^4 deep within 40 Python frames of its caller",
    given={"kind": st.sampled_from(sorted(RECURSIONS)), "n": st.sampled_from([0, 1, 2, 500, 3000, 10_000])},
    max_examples=12,
)
def _bounded_stack(kind: str, n: int) -> None:
    definition, text, expected = RECURSIONS[kind]
    program = Program.with_prelude()
    program.add(Source(definition, "<generated>"))
    (term,) = program.expressions(Source(text.replace("N", str(n)), "<generated>"))
    code = deep(lambda: compile_term(term))
    deep(lambda: fast.evaluate(term, Fuel(10**8)))  # compiles the globals the program reaches
    machine = fast.Machine(Fuel(10**8))
    machine.c = code
    with _recursion_limit(40):
        value = machine.run()
    assert deep(lambda: show(to_term(value))) == expected(n)


def _nested(kind: str, n: int) -> str:
    """A program whose syntax is nested n deep, of the given kind."""
    shapes = {
        "arithmetic": ("(" * n) + "1" + " + 1)" * n,
        "lets": "x <- 0; " + "x <- x + 1; " * n + "x",
        "handlers": "runReader 0 (\\_. " * n + "ask ()" + ")" * n,
        "lambdas": "(\\x. " * n + "x" + ") 1" * n,
        "arrays": "<" * n + "1" + ">" * n,
        "conditionals": "if True then " * n + "1" + " else 0" * n,
        "tuples": "(1, " * n + "2" + ")" * n,
        "loops": "for i:1. " * n + "i",
    }
    return shapes[kind]


@theorem(
    "lambda_p.depth.no_recursion_error",
    paper=ICFP24,
    section="Fig. 1 / derived",
    label="derived",
    statement="programs nested up to 2,000 deep in their syntax (arithmetic, lets, handlers, λs, arrays, "
    "conditionals, tuples, loops) parse, run on both interpreters, and print without RecursionError",
    given={
        "kind": st.sampled_from(["arithmetic", "lets", "handlers", "lambdas", "arrays", "conditionals",
                                 "tuples", "loops"]),
        "n": st.sampled_from([1, 10, 200, 2000]),
    },
    max_examples=12,
)
def _no_recursion_error(kind: str, n: int) -> None:
    program = Program.with_prelude()
    (term,) = program.expressions(Source(_nested(kind, n), "<generated>"))
    machines = ["fast", "small-step"] if n <= 200 else ["fast"]
    values = {show_value(run_term(term, Fuel(10**8), machine=m)) for m in machines}
    assert len(values) == 1, values
