"""The small-step semantics against the reference interpreter, on generated partitioned programs."""

from __future__ import annotations

from calculi.partir.loops import to_loops
from calculi.partir.semantics import evaluate
from calculi.partir.steps import run
from calculi.partir.strategies import Case, cases
from calculi.partir.syntax import Loop, Stmt
from proofs.partir.paper import PARTIR, _applied, _args, _same, show
from proofs.registry import theorem


def unrolled(body: tuple[Stmt, ...], sizes: dict[str, int]) -> int:
    """How many loops a run unrolls: a nested loop once per index of each enclosing loop."""
    return sum(1 + sizes[s.axis] * unrolled(s.body, sizes) for s in body if isinstance(s, Loop))


@theorem("partir.steps.agree_with_reference", paper=PARTIR, section="§3 loop semantics",
         statement="stepping the partitioned program to the end (unrolling each loop per device index, "
                   "then assembling its tiles or sum) gives the reference interpreter's results",
         given={"case": cases()}, show=show)
def _(case: Case) -> None:
    args = _args(case)
    looped = to_loops(_applied(case))
    outputs, rules = run(looped, args)
    _same(outputs, evaluate(case.func, args))
    loops = unrolled(looped.body, dict(looped.mesh.axes))
    assert rules.count("unroll") == rules.count("tile") + rules.count("sum") == loops
