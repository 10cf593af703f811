"""The REPL session: ``python -m calculi.repl redistribution``.

    :mesh x=2,y=3              set the mesh (``:mesh`` alone shows it)
    :check [3{x}6]             check a type; ``:check TYPE PROGRAM`` checks a program from it
    :synth [3{x}6] -> [2{y}6]  synthesise (strategy from ``:set strategy paper|naive|xla``)
    :run [A -> B]              run the last (or given) redistribution on ``:set engine sim|jax``
    :step [3{x}6] -> [2{y}6]   then ``:step`` applies one collective at a time, naming its rule

A line without a colon is ``A -> B`` (synthesise and run) or ``TYPE [PROGRAM]`` (check).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from calculi.core import registry
from calculi.core.errors import UsageError
from calculi.core.syntax import Source
from calculi.core.trace import Fuel, Step
from calculi.redistribution.baselines import STRATEGIES, synthesize
from calculi.redistribution.check import check_mesh, check_program, check_type, type_of_op
from calculi.redistribution.parse import parse_checked, parse_mesh, parse_redistribution
from calculi.redistribution.pretty import show_mesh, show_op, show_program, show_type
from calculi.redistribution.report import ENGINES, Report, report_of, synth_report, verify
from calculi.redistribution.syntax import DistType, Mesh, Program


@dataclass(frozen=True, slots=True)
class Term:
    """A type and the collectives still to apply to it (what ``:step`` walks through)."""

    current: DistType
    remaining: Program


class Session(registry.Session[Term]):
    name = "redistribution"
    prompt = "redist> "

    def __init__(self) -> None:
        super().__init__()
        self.mesh: Mesh | None = None
        self.strategy = "paper"
        self.engine = "sim"
        self.last: Report | None = None
        self.tracing = False

    def _need_mesh(self) -> Mesh:
        if self.mesh is None:
            raise UsageError("no mesh yet: set one with ':mesh x=2,y=3'")
        return self.mesh

    # -- the protocol -----------------------------------------------------------------------

    def parse(self, source: Source) -> Term:
        mesh = self._need_mesh()
        if "->" in source.text and "(" not in source.text:
            src, tgt = parse_redistribution(source)
            return Term(src, synthesize(src, tgt, mesh, self.strategy))
        ty, program = parse_checked(source)
        check_program(ty, program or (), mesh)
        return Term(ty, program or ())

    def show(self, term: Term) -> str:
        rest = f" {show_program(term.remaining)}" if term.remaining else ""
        return show_type(term.current) + rest

    def evaluate(self, term: Term, fuel: Fuel) -> str:
        fuel.tick(amount=len(term.remaining))
        self.last = report_of(term.current, term.remaining, self._need_mesh(), self.strategy)
        return self.last.to_text() + "\n" + verify(self.last, self.engine)

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
        if "->" in source.text and "(" not in source.text:
            return self.evaluate(term, Fuel(self.fuel_limit))
        return self.type_of(term)

    def load(self, source: Source) -> Iterator[str]:
        """A file of inputs; lines starting with ``:`` are this session's own commands."""
        commands = self.commands()
        for lineno, text in enumerate(source.text.splitlines(), start=1):
            stripped = text.strip()
            if not stripped or stripped.startswith(("#", "--")):
                continue
            if stripped.startswith(":"):
                name, _, args = stripped[1:].partition(" ")
                if name not in commands:
                    raise UsageError(f"{source.filename}:{lineno}: unknown command ':{name}' in a file")
                result = commands[name].run(args.strip())
                yield from [result] if isinstance(result, str) else result
            else:
                yield self.input(Source("\n" * (lineno - 1) + text, source.filename))

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
        return {"strategy": self._set_strategy, "engine": self._set_engine}

    def _mesh(self, args: str) -> str:
        if args:
            self.mesh = check_mesh(parse_mesh(Source(args, "<input>")))
            self.last = None
        mesh = self._need_mesh()
        return f"mesh {show_mesh(mesh)} ({mesh.device_count} devices)"

    def _check(self, args: str) -> str:
        mesh = self._need_mesh()
        if not args:
            raise UsageError("usage: :check TYPE [PROGRAM]")
        ty, program = parse_checked(Source(args, "<input>"))
        check_type(ty, mesh)
        if not program:
            return (f"{show_type(ty)} : ok (local shape {ty.local_shape}, {ty.local_size} elements "
                    f"per device; spec {_spec(ty)})")
        types = check_program(ty, program, mesh)
        rows = [f"  {show_op(op)} : {show_type(t)}  ({t.local_size})"
                for op, t in zip(program, types[1:], strict=True)]
        return "\n".join([f"{show_type(ty)}  ({ty.local_size})", *rows])

    def _synth(self, args: str) -> str:
        mesh = self._need_mesh()
        if not args:
            raise UsageError("usage: :synth A -> B")
        src, tgt = parse_redistribution(Source(args, "<input>"))
        self.last = synth_report(src, tgt, mesh, self.strategy)
        return self.last.to_text() + "\nmemory profile (local elements):\n" + self.last.profile_bar()

    def _run(self, args: str) -> str:
        if args:
            self._synth(args)
        if self.last is None:
            raise UsageError("nothing to run: ':synth A -> B' first, or ':run A -> B'")
        return verify(self.last, self.engine)

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


def _spec(ty: DistType) -> str:
    from calculi.redistribution.spec import spec_of

    return "P(" + ", ".join(repr(e) for e in spec_of(ty)) + ")"
