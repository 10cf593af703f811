"""The REPL session: ``python -m calculi.repl partir``.

A program (``mesh ...`` then ``func ... { ... }``, over several lines) becomes the current one and is
run by the reference semantics on fixed random inputs. Then:

    :schedule ManualPartition({x: 0}, batch); ManualPartition({w1: 1}, model)
    :apply                  the partitioned program in PartIR:Core (loops and slices)
    :spmd                   the lowered per-device program with its collectives
    :simulate               the cost estimate, and a simulated run checked against the reference
    :search [beam|mcts] [AXES]   automap's beam search or Monte Carlo tree search over the axes
                            (default all); ``:set memory 128KiB`` limits each device, ``:set
                            episodes 300`` and ``:set seed 0`` set the tree search's budget and seed
    :step PROGRAM, :trace PROGRAM   the small-step semantics (``calculi.partir.steps``), rule by rule
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

import numpy as np

from calculi.core import registry
from calculi.core.errors import ShapeError, UsageError
from calculi.core.syntax import Source
from calculi.core.trace import Fuel, Step
from calculi.partir.automap import METHODS, Found, search
from calculi.partir.check import check_func
from calculi.partir.loops import to_loops
from calculi.partir.lower import lower
from calculi.partir.mcts import mcts
from calculi.partir.parse import parse_func, parse_schedule
from calculi.partir.pretty import show_func, show_shape
from calculi.partir.prims import PRIMS
from calculi.partir.propagation import Partitioning
from calculi.partir.report import inputs_for, show_estimate, show_results, show_spmd
from calculi.partir.semantics import evaluate
from calculi.partir.simulator import CostModel, estimate, run
from calculi.partir.steps import Machine, show_machine, step
from calculi.partir.syntax import Func
from calculi.partir.tactics import Tactic, apply_schedule, unpartitioned
from calculi.redistribution.memory import parse_memory, show_bytes

COMMANDS_HELP = __doc__


def simulate_text(part: Partitioning, model: CostModel) -> str:
    spmd = lower(part)
    args = inputs_for(part.func)
    outs = run(spmd, args).outputs
    ref = evaluate(part.func, args)
    worst = max(float(np.max(np.abs(a - b))) if a.size else 0.0 for a, b in zip(outs, ref, strict=True))
    if worst > 1e-6:
        raise ShapeError(f"the simulated run differs from the reference by {worst:.3g}", part.func.span,
                         rule="lowering")
    verdict = f"\nsimulated run    equals the reference (max error {worst:.1e})"
    return show_estimate(estimate(spmd, model), model) + verdict


Term = Func | Machine
"""What the session steps: a program, then the machine running it."""


class Session(registry.Session[Term]):
    name = "partir"
    prompt = "partir> "

    def __init__(self) -> None:
        super().__init__()
        self.func: Func | None = None
        self.schedule: tuple[Tactic, ...] = ()
        self.memory: int | None = None
        self.model = CostModel()
        self.width, self.episodes, self.seed = 4, 300, 0

    def parse(self, source: Source) -> Func:
        func = parse_func(source)
        check_func(func)
        return func

    def show(self, term: Term) -> str:
        return show_machine(term)

    def evaluate(self, term: Term, fuel: Fuel) -> str:
        if isinstance(term, Machine):
            while (nxt := step(term)) is not None:
                fuel.tick()
                term = nxt.term
            return show_results(term.func, term.results())
        fuel.tick(amount=len(term.body))
        self.func = term
        return show_results(term, evaluate(term, inputs_for(term)))

    def step(self, term: Term) -> Step[Term] | None:
        """The machine's next step; a program first binds the session's fixed random inputs."""
        nxt = step(term, inputs_for(term)) if isinstance(term, Func) else step(term)
        return None if nxt is None else Step(nxt.rule, nxt.term)

    def type_of(self, term: Term) -> str:
        func = term.func if isinstance(term, Machine) else term
        shapes = check_func(func)
        return ", ".join(f"{r} : {show_shape(shapes[r])}" for r in func.results)

    def names(self) -> Iterable[str]:
        return (*PRIMS, "loop", "slice", "ManualPartition", "Replicate", "AutomaticPartition")

    def load(self, source: Source) -> Iterator[str]:
        """A file holds one program."""
        yield self.evaluate(self.parse(source), Fuel(self.fuel_limit))

    def _need(self) -> Func:
        if self.func is None:
            raise UsageError("no program yet: enter one (mesh ... func ... { ... }) or :load FILE")
        return self.func

    def _part(self) -> Partitioning:
        return apply_schedule(self._need(), self.schedule)

    def _schedule(self, args: str) -> str:
        if args.strip():
            self.schedule = parse_schedule(Source(args))
            self._part()
        return "; ".join(map(str, self.schedule)) or "(empty schedule)"

    def search(self, method: str, axes: tuple[str, ...]) -> Found:
        part = unpartitioned(self._need())
        if method == "mcts":
            return mcts(part, axes, memory=self.memory, episodes=self.episodes, seed=self.seed,
                        model=self.model)
        return search(part, axes, memory=self.memory, width=self.width, model=self.model)

    def _search(self, args: str) -> str:
        func = self._need()
        method, _, rest = args.strip().partition(" ")
        method = method.rstrip(",")
        if method not in METHODS:
            method, rest = "beam", args
        axes = tuple(a.strip() for a in rest.split(",") if a.strip()) or func.mesh.names
        unknown = [a for a in axes if a not in func.mesh]
        if unknown:
            raise UsageError(f"{', '.join(unknown)}: not an axis of the mesh {', '.join(func.mesh.names)} "
                             f"(:search [beam|mcts] [AXES])")
        found = self.search(method, axes)
        budget = f"{self.episodes} episodes, seed {self.seed}" if method == "mcts" else f"width {self.width}"
        return "\n".join([f"found: {'; '.join(map(str, found.schedule)) or '(nothing)'}",
                          show_estimate(found.estimate, self.model),
                          f"search           {method} ({budget}): {found.evaluated} schedules scored "
                          f"in {found.seconds:.2f} s"])

    def _set_memory(self, value: str) -> str:
        self.memory = parse_memory(value)
        return f"memory = {show_bytes(self.memory)} per device"

    def commands(self) -> Mapping[str, registry.Command]:
        C = registry.Command
        return {
            "schedule": C("schedule", ":schedule TACTIC; ...", "set (alone: show) the schedule",
                          self._schedule),
            "apply": C("apply", ":apply", "the partitioned program in PartIR:Core",
                       lambda _: show_func(to_loops(self._part()))),
            "spmd": C("spmd", ":spmd", "the per-device program with collectives",
                      lambda _: show_spmd(lower(self._part()))),
            "simulate": C("simulate", ":simulate", "predicted cost, and a simulated run checked",
                          lambda _: simulate_text(self._part(), self.model)),
            "search": C("search", ":search [beam|mcts] [AXES]", "automap: search for a schedule",
                        self._search),
        }

    def _set_count(self, name: str) -> Callable[[str], str]:
        def set_count(value: str) -> str:
            digits = value.strip()
            if not (digits.isascii() and digits.isdigit()) or (name != "seed" and int(digits) == 0):
                raise UsageError(f"{name} must be a {'non-negative' if name == 'seed' else 'positive'} "
                                 f"whole number, not {digits!r}")
            setattr(self, name, int(digits))
            return f"{name} = {int(digits)}"
        return set_count

    def settings(self) -> Mapping[str, Callable[[str], str]]:
        return {"memory": self._set_memory, **{n: self._set_count(n) for n in ("width", "episodes", "seed")}}
