"""(parallel): the iterations of a for run in any order, in worker processes, and (for handlers
that allow it) as their sequential unrolling.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from hypothesis import strategies as st

from calculi.lambda_p.strategies import EFFECTS, computations, parse_program, program_texts, show_term
from proofs.lambda_p.fixtures import ICFP24, outcome, run, same, unrolled
from proofs.registry import theorem


@theorem(
    "lambda_p.parallel.order_independent",
    paper=ICFP24,
    section="(parallel) / ref §7 P1",
    label="derived",
    statement="running the iterations of (parallel) in any order gives the same result",
    given={"text": program_texts(), "seed": st.integers(0, 2**16)},
    show=show_term,
)
def _order(text: str, seed: int) -> None:
    term = parse_program(text)
    rng = random.Random(seed)

    def shuffled(n: int) -> list[int]:
        return rng.sample(range(n), n)

    same(outcome(term), outcome(term, order=shuffled), "in order vs shuffled")
    same(outcome(term), outcome(term, order=lambda n: list(reversed(range(n)))), "in order vs reversed")


@theorem(
    "lambda_p.parallel.jobs",
    paper=ICFP24,
    section="(parallel) / ref §7 P1",
    label="derived",
    statement="iterations run in worker processes (--jobs 2) give the sequential result",
)
def _jobs() -> None:
    texts = {
        "fast": "runAccum (+) 0 (\\_. for i:40. (accum i; fold (+) 0 (for j:i. j * i)))",
        "small-step": "for i:8. fold (+) 0 (for j:i. j * i)",
    }
    for machine, text in texts.items():
        term = parse_program(text)
        same(outcome(term, machine), outcome(term, machine, jobs=2), f"{machine}: jobs 1 vs jobs 2")


def _unrolling(effect: str) -> Callable[[list[str]], None]:
    def check(bodies: list[str]) -> None:
        loop, seq = unrolled(bodies)
        handler = EFFECTS[effect].handler
        same(run(f"{handler} (\\_. {loop})"), run(f"{handler} (\\_. {seq})"), "parallel vs unrolled")

    return check


for _effect, _label in (
    ("log", "Accum with ++ (associative, not commutative)"),
    ("reader", "Reader"),
    ("except", "weak exceptions alone"),
    ("amb", "Amb alone"),
):
    theorem(
        f"lambda_p.unrolling.{_effect}",
        paper=ICFP24,
        section="§5 / ref §7 P7",
        label="derived",
        statement=f"{_label}: a loop over bodies b_i equals their sequential unrolling",
        given={"bodies": st.lists(computations((_effect,), ("i",), 2), max_size=3)},
        show=show_term,
        max_examples=30,
    )(_unrolling(_effect))
