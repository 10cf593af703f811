"""automap: search over partitioning actions, scored by the simulator under a memory limit.

An action is ``ManualPartition({v: d}, a)`` for an input ``v``, a dimension ``d`` and an axis ``a``
(each followed by propagation, as every tactic is); with ``atomic``, also its atomic form (the input
stored sharded, ZeRO-style); with ``replicate``, ``Replicate(v)`` for each value an operation makes.
Two methods search this space (``METHODS``): beam search, here, and Monte Carlo tree search
(``calculi.partir.mcts``); ``exhaustive`` enumerates it, as their oracle on small programs.

Beam search keeps, at each length, the ``width`` fastest schedules (by predicted time) that fit in
the memory limit and the ``width`` that come closest to fitting (smallest peak), since a schedule
that does not fit yet may after one more action; schedules whose propagation reports a conflict are
dropped. Every method answers with the fastest fitting schedule it scored (the shorter on a tie).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from calculi.core.errors import CalculusError
from calculi.partir.lower import lower
from calculi.partir.propagation import Partitioning, shapes_of
from calculi.partir.simulator import CostModel, Estimate, estimate
from calculi.partir.syntax import Apply
from calculi.partir.tactics import ManualPartition, Replicate, apply_tactic

Action = ManualPartition | Replicate
METHODS = ("beam", "mcts")


@dataclass(frozen=True, slots=True)
class Scored:
    schedule: tuple[Action, ...]
    part: Partitioning
    estimate: Estimate

    @property
    def time(self) -> float:
        return self.estimate.time


@dataclass(slots=True)
class Found:
    schedule: tuple[Action, ...]
    estimate: Estimate
    seconds: float
    evaluated: int
    """Distinct partitionings the simulator scored."""
    method: str = "beam"
    history: list[Scored] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Space:
    """The actions a search may take: over which axes, and whether atomic and ``Replicate`` ones too."""

    axes: tuple[str, ...]
    atomic: bool = False
    replicate: bool = False

    def actions(self, part: Partitioning) -> list[Action]:
        shapes = shapes_of(part.func)
        kinds = (False, True) if self.atomic else (False,)
        out: list[Action] = [ManualPartition({i.name: d}, a, atomic) for atomic in kinds for a in self.axes
                             for i in part.func.inputs for d in range(len(shapes[i.name]))]
        if self.replicate:
            out += [Replicate(s.result) for s in part.func.body
                    if isinstance(s, Apply) and s.result not in part.atomic]
        return out


def key(part: Partitioning) -> tuple[object, ...]:
    """Two schedules that reach the same partitioning reach the same state."""
    return (tuple(sorted(part.loops.items())), tuple(sorted(part.inputs.items())), tuple(sorted(part.atomic)))


def score(part: Partitioning, model: CostModel) -> Estimate:
    return estimate(lower(part), model)


class Scorer:
    """The simulator's estimates under a memory limit, each partitioning scored once."""

    def __init__(self, model: CostModel | None, memory: int | None) -> None:
        self.model = model or CostModel()
        self.limit = memory if memory is not None else 1 << 62
        self.cache: dict[tuple[object, ...], Estimate] = {}
        self.best: Scored | None = None

    @property
    def evaluated(self) -> int:
        return len(self.cache)

    def fits(self, e: Estimate) -> bool:
        return e.peak * self.model.itemsize <= self.limit

    def __call__(self, schedule: tuple[Action, ...], part: Partitioning) -> Scored:
        k = key(part)
        if k not in self.cache:
            self.cache[k] = score(part, self.model)
        s = Scored(schedule, part, self.cache[k])
        if self.fits(s.estimate) and (self.best is None or _better(s, self.best)):
            self.best = s
        return s

    def found(self, part: Partitioning, start: float, method: str) -> Found:
        if self.best is None:
            raise CalculusError(f"no schedule fits in {self.limit:,} bytes per device", part.func.span,
                                rule="automap")
        seconds = time.process_time() - start
        return Found(self.best.schedule, self.best.estimate, seconds, self.evaluated, method)


def _better(a: Scored, b: Scored) -> bool:
    return (a.time, len(a.schedule)) < (b.time, len(b.schedule))


def step(part: Partitioning, action: Action) -> Partitioning | None:
    """The partitioning after ``action``, or None where propagation reports a conflict."""
    try:
        return apply_tactic(part, action)
    except CalculusError:
        return None


def search(part: Partitioning, axes: Sequence[str], memory: int | None = None, width: int = 4, depth: int = 4,
           model: CostModel | None = None, space: Space | None = None) -> Found:
    """Beam search from ``part`` over actions on ``axes``; ``memory`` in bytes per device."""
    space = space or Space(tuple(axes))
    start, scorer = time.process_time(), Scorer(model, memory)
    beam = [scorer((), part)]
    seen = {key(part)}
    for _ in range(depth):
        children: list[Scored] = []
        for node in beam:
            for action in space.actions(node.part):
                child = step(node.part, action)
                if child is None or key(child) in seen:
                    continue
                seen.add(key(child))
                children.append(scorer((*node.schedule, action), child))
        if not children:
            break
        feasible = sorted((s for s in children if scorer.fits(s.estimate)), key=lambda s: s.time)
        over = sorted((s for s in children if not scorer.fits(s.estimate)),
                      key=lambda s: (s.estimate.peak, s.time))
        beam = feasible[:width] + over[:width]
    return scorer.found(part, start, "beam")


def reachable(part: Partitioning, space: Space, depth: int, scorer: Scorer) -> list[Scored]:
    """Every partitioning at most ``depth`` actions from ``part``, once, by a shortest schedule."""
    level: list[tuple[tuple[Action, ...], Partitioning]] = [((), part)]
    found, seen = [scorer((), part)], {key(part)}
    for _ in range(depth):
        nxt: list[tuple[tuple[Action, ...], Partitioning]] = []
        for schedule, p in level:
            for action in space.actions(p):
                child = step(p, action)
                if child is not None and key(child) not in seen:
                    seen.add(key(child))
                    nxt.append(((*schedule, action), child))
                    found.append(scorer(*nxt[-1]))
        level = nxt
    return found


def exhaustive(part: Partitioning, space: Space, memory: int | None = None, depth: int = 4,
               model: CostModel | None = None) -> Found:
    """The fastest fitting schedule of at most ``depth`` actions, by enumerating them all."""
    start, scorer = time.process_time(), Scorer(model, memory)
    reachable(part, space, depth, scorer)
    return scorer.found(part, start, "exhaustive")
