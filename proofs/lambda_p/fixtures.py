"""What λp's theorem modules share: the papers, the fuel, and running a program on either
interpreter to the text of its outcome.
"""

from __future__ import annotations

from collections.abc import Callable

from calculi.core.errors import FuelExhausted
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.lambda_p import eval as fast
from calculi.lambda_p.parse import Definition
from calculi.lambda_p.pretty import show
from calculi.lambda_p.program import Program
from calculi.lambda_p.semantics import Machine
from calculi.lambda_p.strategies import parse_program
from calculi.lambda_p.stuck import Stuck
from calculi.lambda_p.syntax import Term
from calculi.lambda_p.values import to_term
from proofs.registry import Paper

ICFP24 = Paper("ICFP'24", "Parallel Algebraic Effect Handlers", "PACMPL 8(ICFP), 2024")
PEPM22 = Paper("PEPM'22", "Parallel Algebraic Effect Handlers", "PEPM 2022 (arXiv 2110.07493)")
FUEL = 400_000


def outcome(
    term: Term,
    machine: str = "small-step",
    variant: str = "icfp24",
    order: Callable[[int], list[int]] | None = None,
    jobs: int = 1,
) -> str:
    """The value printed, or the stuck group (and message); running out of fuel is a failure."""
    try:
        if machine == "fast":
            return show(to_term(fast.evaluate(term, Fuel(FUEL), variant, jobs)))
        return show(Machine(variant, jobs, order).evaluate(term, Fuel(FUEL)))
    except Stuck as err:
        return f"stuck [{err.group}]: {err.reason}"
    except FuelExhausted as err:
        raise AssertionError(f"generated program ran out of fuel: {err.reason}") from None


def run_items(items: list[str], machine: str = "small-step", variant: str = "icfp24") -> str:
    """REPL inputs one after another (definitions may rebind names); the outcome of the last."""
    program = Program.with_prelude(variant)
    result = ""
    for text in items:
        item = program.add(Source(text, "<generated>")).item
        if not isinstance(item, Definition):
            result = outcome(item, machine, variant)
            continue
        try:  # a definition whose body is not a value: evaluated now, by the same interpreter
            program.run(item, lambda term: _value(term, machine, variant))
        except Stuck as err:
            return f"stuck [{err.group}]: {err.reason}"
    return result


def _value(term: Term, machine: str, variant: str) -> Term:
    if machine == "fast":
        return to_term(fast.evaluate(term, Fuel(FUEL), variant))
    return Machine(variant).evaluate(term, Fuel(FUEL))


def run(text: str, machine: str = "small-step", variant: str = "icfp24") -> str:
    return outcome(parse_program(text, variant), machine, variant)


def same(left: str, right: str, what: str) -> None:
    assert left == right, f"{what}:\n  {left}\n≠ {right}"


def unrolled(bodies: list[str]) -> tuple[str, str]:
    """for i:n. b_i, and r0 ← b_0; …; ⟨r0, …⟩ (each body may mention i)."""
    thunks = ", ".join(f"\\i. {b}" for b in bodies)
    loop = f"(for i:{len(bodies)}. (<{thunks}>.i) i)"
    names = [f"r{i}" for i in range(len(bodies))]
    seq = "".join(f"{r} <- ((\\i. {b}) {k}); " for k, (r, b) in enumerate(zip(names, bodies, strict=True)))
    return loop, f"({seq}<{', '.join(names)}>)"
