"""The theorem catalogue: every theorem of the papers as a registered Hypothesis property.

A theorem module registers each property with its id, paper, section and statement::

    @theorem("foil.subst.alpha_invariant", paper=FOIL, section="§3 P4",
             statement="substitution respects α-equivalence", given={"pair": alpha_pairs()})
    def _(pair: tuple[Term, Term]) -> None:
        ...

``given`` maps argument names to strategies (``None``: an example-based check that runs once).
``show`` prints counterexample values in the calculus's own syntax.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import hypothesis
from hypothesis import strategies as st

from calculi.core.mutants import Mutant

__all__ = ["MUTANTS", "THEOREMS", "Mutant", "Paper", "Result", "Theorem", "check", "hunt", "kills",
           "theorem"]

Show = Callable[[object], str]


@dataclass(frozen=True, slots=True)
class Paper:
    key: str
    title: str
    venue: str


@dataclass(frozen=True, slots=True)
class Theorem:
    id: str
    paper: Paper
    section: str
    statement: str
    label: str
    given: Mapping[str, st.SearchStrategy[Any]] | None
    check: Callable[..., None]
    show: Show
    max_examples: int | None = None
    requires: tuple[str, ...] = ()

    @property
    def calculus(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def reference(self) -> str:
        return f"{self.paper.key} {self.section}"


@dataclass(slots=True)
class Result:
    id: str
    reference: str
    label: str
    examples: int
    status: str  # "passed" | "skipped" | "failed" | "error"
    seconds: float
    seed: int
    counterexample: dict[str, str] = field(default_factory=dict)
    message: str = ""
    replay: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("passed", "skipped")


NO_SHRINK = tuple(p for p in hypothesis.Phase if p is not hypothesis.Phase.shrink)

THEOREMS: dict[str, Theorem] = {}
MUTANTS: dict[str, Mutant] = {}


def scaled(own: int, examples: int) -> int:
    """A theorem's own ``max_examples`` (its count under ci) under a profile of ``examples``: scaled as
    the profile is against ci (a costly theorem drawn once under ci is drawn 16 times under
    thorough), at least once."""
    from proofs.profiles import CI_EXAMPLES

    return max(1, min(examples, own * examples // CI_EXAMPLES))


def theorem(
    id: str,
    *,
    paper: Paper,
    section: str,
    statement: str,
    given: Mapping[str, st.SearchStrategy[Any]] | None = None,
    label: str = "paper-claim",
    show: Show = str,
    max_examples: int | None = None,
    requires: tuple[str, ...] = (),
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register the decorated function as the check of theorem ``id``.

    ``requires`` names optional modules (``"jax"``) without which the theorem is skipped.
    """

    def register(check: Callable[..., None]) -> Callable[..., None]:
        if id in THEOREMS:
            raise ValueError(f"theorem {id} registered twice")
        THEOREMS[id] = Theorem(
            id, paper, section, statement, label, given, check, show, max_examples, requires
        )
        return check

    return register


def register_mutants(mutants: Iterable[Mutant]) -> None:
    for m in mutants:
        MUTANTS[m.id] = m


def load_all(only: str | None = None) -> None:
    """Import the theorem modules of the ``proofs`` package (each registers itself).

    ``only`` names one calculus: then only ``proofs/<only>.py`` is imported, when it exists.
    """
    import proofs

    names = [i.name for i in pkgutil.iter_modules(proofs.__path__)]
    names = [n for n in names if n not in {"registry", "profiles", "quality", "__main__"}]
    if only is not None and only in names:
        names = [only]
    for name in names:
        importlib.import_module(f"proofs.{name}")


def select(paper: str | None = None, theorem_id: str | None = None) -> list[Theorem]:
    load_all(paper or (theorem_id.split(".", 1)[0] if theorem_id else None))
    chosen = list(THEOREMS.values())
    if paper:
        chosen = [t for t in chosen if paper in (t.paper.key, t.calculus)]
    if theorem_id:
        chosen = [t for t in chosen if t.id == theorem_id or t.id.startswith(theorem_id + ".")]
    return chosen


def check(thm: Theorem, profile: str = "ci", seed: int = 0, *, shrink: bool = True) -> Result:
    """Run one theorem under a Hypothesis profile and seed; never raises.

    ``shrink=False`` reports the first failing example as found (a mutant hunt needs a failure,
    not the smallest one, and shrinking is most of its time)."""
    from proofs.profiles import settings_for

    calls: list[dict[str, object]] = []

    def counted(**kwargs: object) -> None:
        calls.append(kwargs)
        thm.check(**kwargs)

    replay = f"python -m proofs --theorem {thm.id} --profile {profile} --seed {seed}"
    missing = [m for m in thm.requires if importlib.util.find_spec(m) is None]
    if missing:
        return Result(thm.id, thm.reference, thm.label, 0, "skipped", 0.0, seed,
                      message=f"needs {', '.join(missing)}")
    start = time.perf_counter()
    status, message = "passed", ""
    try:
        if thm.given is None:
            counted()
        else:
            base = settings_for(profile)
            own = thm.max_examples
            limit = base.max_examples if own is None else scaled(own, base.max_examples)
            runner = hypothesis.seed(seed)(
                hypothesis.settings(base, max_examples=max(1, limit),
                                    phases=tuple(hypothesis.Phase) if shrink else NO_SHRINK)(
                    hypothesis.given(**thm.given)(counted)
                )
            )
            runner()
    except AssertionError as err:
        status, message = "failed", str(err) or "assertion failed"
    except Exception as err:  # a crash of the property is a failure too, reported as such
        status, message = "error", f"{type(err).__name__}: {err}"
    seconds = time.perf_counter() - start
    counterexample: dict[str, str] = {}
    if status != "passed" and calls and calls[-1]:
        counterexample = {k: _show(thm.show, v) for k, v in calls[-1].items()}
    return Result(
        thm.id,
        thm.reference,
        thm.label,
        len(calls),
        status,
        seconds,
        seed,
        counterexample,
        message,
        replay if status != "passed" else "",
    )


def _show(show: Show, value: object) -> str:
    try:
        return show(value)
    except Exception:
        return repr(value)


def kills(mutant: Mutant, profile: str = "ci", seeds: int = 10) -> list[Result | None]:
    """``hunt`` under each of the seeds ``0 … seeds-1``: which theorem (if any) killed it."""
    return [hunt(mutant, profile, seed, shrink=seed == 0) for seed in range(seeds)]


def hunt(mutant: Mutant, profile: str = "ci", seed: int = 0, *, shrink: bool = True) -> Result | None:
    """Run the theorems of the mutant's calculus with the mutant active; the first failure."""
    load_all(mutant.calculus)
    for thm in THEOREMS.values():
        if thm.calculus != mutant.calculus or not thm.id.startswith(mutant.theorems):
            continue
        with mutant.activate():
            result = check(thm, profile, seed, shrink=shrink)
        if not result.ok:
            return result
    return None


def all_mutants(calculus: str | None = None) -> list[Mutant]:
    load_all(calculus)
    return [m for m in MUTANTS.values() if calculus is None or m.calculus == calculus]
