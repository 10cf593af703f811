"""Reverse mode as a composition: linearize = unzip ∘ jvp, vjp = transpose ∘ linearize, grad.

Every stage's output is type-checked again (as the authors' harness does), so a pass that
produced ill-typed code fails at once with the checker's message.

    >>> prog = load("def f(x: R, y: R) -> R = sin(x) * y")
    >>> grad(prog, "f", [1.5, 2.0])                                   # doctest: +SKIP
    ((1.99498997320811,), (0.1414744033..., 0.99749498660405...))
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from calculi.core.errors import UsageError
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.eval import Cost, Evaluator
from calculi.linear_ad.jvp import jvp_name, jvp_program
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.primitives import FLOAT, Value
from calculi.linear_ad.syntax import Program
from calculi.linear_ad.transpose import transpose_name, transpose_program
from calculi.linear_ad.types import REAL
from calculi.linear_ad.unzip import Policy, UnzipReport, lin_name, nonlin_name, save_all, unzip_program
from calculi.linear_ad.zeros import zeros_program


def load(text: str, filename: str = "<input>") -> Typing:
    """Parse and type-check a program."""
    return check_program(parse_program(Source(text, filename)))


@dataclass(slots=True)
class Stages:
    """Every stage of reverse mode for one function, each checked."""

    name: str
    source: Typing
    jvp: Typing
    unzipped: Typing
    transposed: Typing
    report: UnzipReport

    @property
    def jvp_fn(self) -> str:
        return jvp_name(self.name)

    @property
    def nonlin_fn(self) -> str:
        return nonlin_name(jvp_name(self.name))

    @property
    def lin_fn(self) -> str:
        return lin_name(jvp_name(self.name))

    @property
    def transposed_fn(self) -> str:
        return transpose_name(self.lin_fn)

    def program(self, stage: str) -> Program:
        return {"source": self.source, "jvp": self.jvp, "unzip": self.unzipped,
                "linearize": self.unzipped, "transpose": self.transposed}[stage].program


def require(typing: Typing, name: str) -> None:
    if name not in typing.signatures:
        known = ", ".join(typing.signatures) or "none"
        raise UsageError(f"no function named {name} (defined: {known})")


def jvp(typing: Typing, name: str, bind_scales: bool = False, zeros: bool = False) -> Typing:
    """J of ``name``; ``bind_scales`` let-binds the rules' scale expressions (see ``jvp_program``);
    ``zeros`` propagates the linear zero through it (``zeros.zeros_program``), each checked."""
    require(typing, name)
    j = check_program(jvp_program(typing, name, bind_scales))
    return check_program(zeros_program(j)) if zeros else j


def linearize(typing: Typing, name: str, policy: Policy = save_all,
              bind_scales: bool = False, zeros: bool = False) -> tuple[Typing, Typing, UnzipReport]:
    """unzip ∘ jvp: the JVP'd program and its unzipped halves ``f.jvp.nonlin`` / ``f.jvp.lin``; a
    policy with ``bind_scales`` (``save-coefficients``) binds the scale expressions first."""
    j = jvp(typing, name, bind_scales or getattr(policy, "bind_scales", False), zeros)
    u = unzip_program(j, jvp_name(name), policy)
    return j, check_program(u.program), u.report


def transpose(unzipped: Typing, name: str) -> Typing:
    """T of the linear half ``f.jvp.lin`` of ``name``: ``f.jvp.lin.T``."""
    return check_program(transpose_program(unzipped, lin_name(jvp_name(name))))


def stages(typing: Typing, name: str, policy: Policy = save_all, bind_scales: bool = False,
           zeros: bool = False) -> Stages:
    """jvp, unzip and transpose of ``name``, each built once and checked once."""
    with collector_paused():
        j, u, report = linearize(typing, name, policy, bind_scales, zeros)
        return Stages(name, typing, j, u, transpose(u, name), report)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cycle collector while the passes build their (acyclic) programs: its full
    collections rescan the growing heap and cost a third of the pipeline's time at 10^4 operations;
    the memory is freed by reference counting all the same."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(slots=True)
class VJP:
    """The primal results and the pullback of one function at one point."""

    stages: Stages
    value: tuple[Value, ...]
    tape: Value
    domain: Any

    def pull(self, cotangents: Sequence[Value], cost: Cost | None = None) -> tuple[Value, ...]:
        """vjp(f, x)(c) = J_f(x)ᵀ c."""
        ev = Evaluator(self.stages.transposed, self.domain, cost=cost)
        return ev.call(self.stages.transposed_fn, [self.tape], list(cotangents))[1]


def vjp(typing: Typing, name: str, args: Sequence[Value], policy: Policy = save_all, domain: Any = FLOAT,
        fuel: Fuel | None = None, st: Stages | None = None) -> VJP:
    require(typing, name)
    Evaluator(typing, domain).check_arguments(name, args)
    st = stages(typing, name, policy) if st is None else st
    out = Evaluator(st.unzipped, domain, fuel).call(st.nonlin_fn, list(args))[0]
    return VJP(st, out[:-1], out[-1], domain)


def grad(typing: Typing, name: str, args: Sequence[Value], policy: Policy = save_all, domain: Any = FLOAT,
         fuel: Fuel | None = None) -> tuple[Value, tuple[Value, ...]]:
    """The value of a function with one ℝ result, and its gradient with respect to every parameter."""
    require(typing, name)
    d = typing.signatures[name]
    if d.result.nonlin != (REAL,) or d.result.lin:
        raise UsageError(f"grad needs a function with one ℝ result; {name} returns {d.result} "
                         "(use vjp with a cotangent)")
    v = vjp(typing, name, args, policy, domain, fuel)
    return v.value[0], v.pull([domain.literal("1")])


def jvp_values(typing: Typing, name: str, args: Sequence[Value], tangents: Sequence[Value],
               domain: Any = FLOAT, fuel: Fuel | None = None) -> tuple[tuple[Value, ...], tuple[Value, ...]]:
    """Forward mode at a point: the results of ``name`` at ``args`` and ``J_f(x) v`` for ``v = tangents``."""
    require(typing, name)
    Evaluator(typing, domain).check_arguments(name, args)
    return Evaluator(jvp(typing, name), domain, fuel).call(jvp_name(name), list(args), list(tangents))


def vjp_values(typing: Typing, name: str, args: Sequence[Value], cotangents: Sequence[Value],
               policy: Policy = save_all, domain: Any = FLOAT,
               fuel: Fuel | None = None) -> tuple[tuple[Value, ...], tuple[Value, ...]]:
    """Reverse mode at a point: the results of ``name`` at ``args`` and ``J_f(x)ᵀ c``, ``c = cotangents``."""
    v = vjp(typing, name, args, policy, domain, fuel)
    return v.value, v.pull(cotangents)
