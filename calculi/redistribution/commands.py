"""The REPL session: ``python -m calculi.repl redistribution``.

    :mesh x=2,y=3              set the mesh (``:mesh`` alone shows it)
    :check [3{x}6]             check a type; ``:check TYPE PROGRAM`` checks a program from it
    :synth [3{x}6] -> [2{y}6]  synthesise (strategy from ``:set strategy paper|optimal|naive|xla``)
    :run [A -> B]              run the last (or given) redistribution on ``:set engine sim|jax``
    :step [3{x}6] -> [2{y}6]   then ``:step`` applies one collective at a time, naming its rule

A line without a colon is ``A -> B`` (synthesise and run) or ``TYPE [PROGRAM]`` (check). Runs are
refused when they would hold more than ``:set memory SIZE`` (1 GiB unless set).
"""

from __future__ import annotations

import re
from argparse import ArgumentTypeError
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from calculi.core import registry
from calculi.core.errors import UsageError
from calculi.core.files import positive_int
from calculi.core.syntax import Source
from calculi.core.trace import Fuel, Step
from calculi.redistribution.baselines import STRATEGIES, synthesize
from calculi.redistribution.check import check_mesh, check_program, check_type, type_of_op
from calculi.redistribution.memory import DEFAULT_BUDGET, parse_memory, show_bytes
from calculi.redistribution.parse import parse_checked, parse_mesh, parse_redistribution
from calculi.redistribution.pretty import show_count, show_mesh, show_op, show_program, show_type
from calculi.redistribution.report import ENGINES, Report, report_of, synth_report, verify
from calculi.redistribution.syntax import AllGather, AllPermute, AllToAll, DistType, DynSlice, Mesh, Program
from calculi.redistribution.synth import REWRITE_FUEL

COLLECTIVES = tuple(op.__name__ for op in (DynSlice, AllGather, AllToAll, AllPermute))


@dataclass(frozen=True, slots=True)
class Term:
    """A type and the collectives still to apply to it (what ``:step`` walks through)."""

    current: DistType
    remaining: Program


_COLLECTIVE_CALL = re.compile(r"\b(?:DynSlice|AllGather|AllToAll|AllPermute)\s*\(")


def _is_redistribution(text: str) -> bool:
    """``SOURCE -> TARGET`` asks for a synthesis; a program (collectives applied) is checked."""
    return "->" in text and not _COLLECTIVE_CALL.search(text)


class Session(registry.Session[Term]):
    name = "redistribution"
    prompt = "redist> "

    def __init__(self) -> None:
        super().__init__()
        self.fuel_limit = REWRITE_FUEL  # a step here is a rewrite of synthesis, or one collective
        self.mesh: Mesh | None = None
        self.strategy = "paper"
        self.engine = "sim"
        self.last: Report | None = None
        self.tracing = False
        self.memory = DEFAULT_BUDGET
        """The memory budget of a run, in bytes."""

    def _need_mesh(self) -> Mesh:
        if self.mesh is None:
            raise UsageError("no mesh yet: set one with ':mesh x=2,y=3'")
        return self.mesh

    # -- the protocol -----------------------------------------------------------------------

    def parse(self, source: Source) -> Term:
        mesh = self._need_mesh()
        if _is_redistribution(source.text):
            src, tgt = parse_redistribution(source)
            return Term(src, synthesize(src, tgt, mesh, self.strategy, Fuel(self.fuel_limit)))
        ty, program = parse_checked(source)
        check_program(ty, program or (), mesh)
        return Term(ty, program or ())

    def show(self, term: Term) -> str:
        rest = f" {show_program(term.remaining)}" if term.remaining else ""
        return show_type(term.current) + rest

    def evaluate(self, term: Term, fuel: Fuel) -> str:
        fuel.tick(amount=len(term.remaining))
        self.last = report_of(term.current, term.remaining, self._need_mesh(), self.strategy)
        return self.last.to_text() + "\n" + verify(self.last, self.engine, self.memory)

    def step(self, term: Term) -> Step[Term] | None:
        if not term.remaining:
            return None
        op = term.remaining[0]
        after = type_of_op(op, term.current, self._need_mesh())
        return Step(type(op).__name__, Term(after, term.remaining[1:]))

    def type_of(self, term: Term) -> str:
        types = check_program(term.current, term.remaining, self._need_mesh())
        return f"{show_type(types[0])} -> {show_type(types[-1])}"

    def input(self, source: Source) -> str:
        term = self.parse(source)
        if self.tracing:
            return "\n".join(self.trace(source))
        if _is_redistribution(source.text):
            return self.evaluate(term, Fuel(self.fuel_limit))
        return self.type_of(term)

    def names(self) -> Iterable[str]:
        """The mesh's axis names and the collectives: what tab completion offers."""
        return (*(self.mesh.names if self.mesh is not None else ()), *COLLECTIVES)

    def load(self, source: Source) -> Iterator[str]:
        """A file of inputs; lines starting with ``:`` are this session's own commands or ``:set``."""
        commands = self.commands()
        for lineno, text in enumerate(source.text.splitlines(), start=1):
            stripped = text.strip()
            if not stripped or stripped.startswith(("#", "--")):
                continue
            line = Source("\n" * (lineno - 1) + text, source.filename)
            if stripped.startswith(":"):
                name, _, args = stripped[1:].partition(" ")
                if name == "set":
                    yield self.apply_setting(args.strip())
                    continue
                if name not in commands:
                    at = line.text.index(":")
                    raise UsageError(f"unknown command ':{name}' in a file (commands: "
                                     f"{', '.join(':' + c for c in [*commands, 'set'])})",
                                     line.span(at, at + 1 + len(name)))
                result = commands[name].run(args.strip())
                yield from [result] if isinstance(result, str) else result
            else:
                yield self.input(line)

    def apply_setting(self, args: str) -> str:
        """``:set NAME VALUE`` in a file: the settings of this calculus, and ``fuel``."""
        name, _, value = args.partition(" ")
        if name == "fuel":
            try:
                self.fuel_limit = positive_int(value.strip())
            except ArgumentTypeError:
                raise UsageError("usage: :set fuel N (a positive number of steps)") from None
            return f"fuel = {self.fuel_limit:,} steps"
        settings = self.settings()
        if name not in settings:
            raise UsageError(f"unknown setting {name!r}; settings: {', '.join(['fuel', *settings])}")
        return settings[name](value.strip())

    # -- commands ---------------------------------------------------------------------------

    def commands(self) -> Mapping[str, registry.Command]:
        C = registry.Command
        return {
            "mesh": C("mesh", ":mesh x=2,y=3", "set the device mesh (alone: show it)", self._mesh),
            "check": C("check", ":check TYPE [PROGRAM]", "check a type, or a program from it", self._check),
            "synth": C("synth", ":synth A -> B", "synthesise a redistribution; program and memory profile",
                       self._synth),
            "run": C("run", ":run [A -> B]", "run the last (or given) redistribution and check it",
                     self._run),
        }

    def settings(self) -> Mapping[str, Callable[[str], str]]:
        return {"strategy": self._set_strategy, "engine": self._set_engine, "memory": self._set_memory}

    def _mesh(self, args: str) -> str:
        if args:
            self.mesh = check_mesh(parse_mesh(Source(args, "<input>")))
            self.last = None
        mesh = self._need_mesh()
        return f"mesh {show_mesh(mesh)} ({show_count(mesh.device_count)} devices)"

    def _check(self, args: str) -> str:
        mesh = self._need_mesh()
        if not args:
            raise UsageError("usage: :check TYPE [PROGRAM]")
        ty, program = parse_checked(Source(args, "<input>"))
        check_type(ty, mesh)
        if not program:
            return (f"{show_type(ty)} : ok (local shape {ty.local_shape}, {show_count(ty.local_size)} "
                    f"elements per device; spec {_spec(ty)})")
        types = check_program(ty, program, mesh)
        rows = [f"  {show_op(op)} : {show_type(t)}  ({show_count(t.local_size)})"
                for op, t in zip(program, types[1:], strict=True)]
        return "\n".join([f"{show_type(ty)}  ({show_count(ty.local_size)})", *rows])

    def _synth(self, args: str) -> str:
        mesh = self._need_mesh()
        if not args:
            raise UsageError("usage: :synth A -> B")
        src, tgt = parse_redistribution(Source(args, "<input>"))
        self.last = synth_report(src, tgt, mesh, self.strategy, Fuel(self.fuel_limit))
        return self.last.to_text() + "\nmemory profile (local elements):\n" + self.last.profile_bar()

    def _run(self, args: str) -> str:
        if args:
            self._synth(args)
        if self.last is None:
            raise UsageError("nothing to run: ':synth A -> B' first, or ':run A -> B'")
        return verify(self.last, self.engine, self.memory)

    def _set_strategy(self, value: str) -> str:
        if value not in STRATEGIES:
            raise UsageError(f"strategies: {', '.join(STRATEGIES)}")
        self.strategy = value
        return f"strategy = {value}"

    def _set_engine(self, value: str) -> str:
        if value not in ENGINES:
            raise UsageError(f"engines: {', '.join(ENGINES)}")
        self.engine = value
        return f"engine = {value}"

    def _set_memory(self, value: str) -> str:
        if not value:
            return f"memory = {show_bytes(self.memory)} (runs holding more are refused)"
        self.memory = parse_memory(value)
        return f"memory = {show_bytes(self.memory)}"


def _spec(ty: DistType) -> str:
    from calculi.redistribution.spec import spec_of

    return "P(" + ", ".join(repr(e) for e in spec_of(ty)) + ")"
