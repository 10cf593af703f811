"""automap: search over partitioning actions, scored by the simulator under a memory limit.

An action is ``ManualPartition({v: d}, a)`` for an input ``v``, a dimension ``d`` and an axis ``a``
(each followed by propagation, as every tactic is). Beam search keeps, at each length, the ``width``
fastest schedules (by predicted time) that fit in the memory limit and the ``width`` that come
closest to fitting (smallest peak), since a schedule that does not fit yet may after one more
action; schedules whose propagation reports a conflict are dropped. The fastest fitting schedule
seen at any length is the answer.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from calculi.core.errors import CalculusError
from calculi.partir.lower import lower
from calculi.partir.propagation import Partitioning, shapes_of
from calculi.partir.simulator import CostModel, Estimate, estimate
from calculi.partir.tactics import ManualPartition, apply_tactic


@dataclass(frozen=True, slots=True)
class Scored:
    schedule: tuple[ManualPartition, ...]
    part: Partitioning
    estimate: Estimate

    @property
    def time(self) -> float:
        return self.estimate.time


@dataclass(slots=True)
class Found:
    schedule: tuple[ManualPartition, ...]
    estimate: Estimate
    seconds: float
    evaluated: int
    history: list[Scored] = field(default_factory=list)


def actions(part: Partitioning, axes: Sequence[str]) -> list[ManualPartition]:
    shapes = shapes_of(part.func)
    return [ManualPartition({i.name: d}, a) for a in axes for i in part.func.inputs
            for d in range(len(shapes[i.name]))]


def _key(part: Partitioning) -> tuple[object, ...]:
    return (tuple(sorted((k, v) for k, v in part.loops.items())), tuple(sorted(part.inputs.items())))


def score(part: Partitioning, model: CostModel) -> Estimate:
    return estimate(lower(part), model)


def search(part: Partitioning, axes: Sequence[str], memory: int | None = None, width: int = 4, depth: int = 4,
           model: CostModel | None = None) -> Found:
    """Beam search from ``part`` over actions on ``axes``; ``memory`` in bytes per device."""
    model = model or CostModel()
    start = time.process_time()
    limit = memory if memory is not None else 1 << 62

    def fits(e: Estimate) -> bool:
        return e.peak * model.itemsize <= limit

    root = Scored((), part, score(part, model))
    best: Scored | None = root if fits(root.estimate) else None
    beam, seen, evaluated = [root], {_key(part)}, 1
    for _ in range(depth):
        children: list[Scored] = []
        for node in beam:
            for action in actions(node.part, axes):
                try:
                    child = apply_tactic(node.part, action)
                except CalculusError:
                    continue
                if _key(child) in seen:
                    continue
                seen.add(_key(child))
                evaluated += 1
                children.append(Scored((*node.schedule, action), child, score(child, model)))
        if not children:
            break
        feasible = sorted((s for s in children if fits(s.estimate)), key=lambda s: s.time)
        over = sorted((s for s in children if not fits(s.estimate)), key=lambda s: (s.estimate.peak, s.time))
        beam = feasible[:width] + over[:width]
        if feasible and (best is None or feasible[0].time < best.time):
            best = feasible[0]
    if best is None:
        raise CalculusError(f"no schedule fits in {limit:,} bytes per device", part.func.span, rule="automap")
    return Found(best.schedule, best.estimate, time.process_time() - start, evaluated)
