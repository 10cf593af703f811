"""Reverse mode: ``vjp`` is ``jvp`` then ``transpose``; ``grad`` runs the transposed program on
the reference interpreter (exact when the inputs are rationals and the program is rational).

A file's gradient (``python -m calculi.dex grad FILE``, the REPL's ``:grad``) is that of its last
item, a program of type ``Real``, with respect to its *parameters*: the definitions of a type
in which ``Real`` occurs (reals, tables and pairs of them) whose right-hand side uses no other
definition, and that the program uses. Every other
definition is let-bound in front of the program, so that the gradient flows through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from calculi.core.errors import TypeCheckError
from calculi.core.trace import Fuel
from calculi.dex.check import Checked, check
from calculi.dex.jvp import Linearized, differentiable, jvp
from calculi.dex.pretty import show_type
from calculi.dex.semantics import evaluate, free_vars
from calculi.dex.syntax import Expr, Let, RealT, Type
from calculi.dex.transpose import ONE, Transposer, transpose
from calculi.dex.values import Value


@dataclass
class Vjp:
    """The linearization, the transposed program and its checked type (with its loops)."""

    linearized: Linearized
    program: Expr
    checked: Checked


def vjp(expr: Expr, inputs: Mapping[str, Type], env: Mapping[str, Type] | None = None,
        ct: Expr = ONE, transposer: type[Transposer] | None = None) -> Vjp:
    """The program ``ct ↦ (ct ⋅ ∂expr/∂x)`` for each input ``x``; ``ct`` may name a free variable."""
    types = {**(env or {}), **inputs}
    result = check(expr, types).type
    if not differentiable(result):
        raise TypeCheckError(f"the program has type {show_type(result)}; reverse mode needs a "
                             "type in which Real occurs (Real, tables, pairs)", expr.span,
                             rule="AD-Fragment")
    try:
        lin = jvp(expr, dict(inputs), dict(env or {}))
        program = transpose(lin, ct, transposer)
    except RecursionError:
        raise TypeCheckError("program nested too deeply to differentiate (bind the inner parts "
                             "with let)", expr.span, rule="AD-Fragment") from None
    ct_types = dict(types)
    if not isinstance(result, RealT):
        ct_types["ct"] = result
    return Vjp(lin, program, check(program, ct_types))


def unpack(value: Value, inputs: Mapping[str, Type]) -> dict[str, Value]:
    """The cotangents of the inputs from the nested pairs of the transposed program's value."""
    out: dict[str, Value] = {}
    for x in reversed(list(inputs)):
        assert isinstance(value, tuple)
        value, out[x] = value
    return {x: out[x] for x in inputs}


def run_vjp(v: Vjp, values: Mapping[str, Value], fuel: Fuel | None = None) -> dict[str, Value]:
    value = evaluate(v.program, dict(values), fuel=fuel, parallel=v.checked.parallel)
    return unpack(value, v.linearized.inputs_types())


def grad(expr: Expr, inputs: Mapping[str, Type], values: Mapping[str, Value],
         env: Mapping[str, Type] | None = None, fuel: Fuel | None = None) -> dict[str, Value]:
    """``∇expr`` at ``values`` (which also hold the other free variables), for a ``Real`` program."""
    result = check(expr, {**(env or {}), **inputs}).type
    if not isinstance(result, RealT):
        raise TypeCheckError(f"grad needs a program of type Real, not {show_type(result)}",
                             expr.span, rule="AD-Fragment")
    return run_vjp(vjp(expr, inputs, env), values, fuel)


def tangent(lin: Linearized, values: Mapping[str, Value], tangents: Mapping[str, Value],
            fuel: Fuel | None = None) -> tuple[Value, Value]:
    """The JVP program's value ``(f x, ∂f x ⋅ ẋ)``."""
    env = dict(values)
    for x, (d, _) in lin.inputs.items():
        env[d] = tangents[x]
    checked = check(lin.program(), {**{x: t for x, (_, t) in lin.inputs.items()},
                                    **{d: t for d, t in lin.inputs.values()}, **lin.env})
    value = evaluate(lin.program(), env, fuel=fuel, parallel=checked.parallel)
    assert isinstance(value, tuple)
    return value[0], value[1]


@dataclass
class Definition:
    name: str
    expr: Expr
    type: Type
    value: Value


@dataclass
class Problem:
    """A file's program with its derived definitions let-bound in front, and its parameters."""

    program: Expr
    params: dict[str, Type]
    env: dict[str, Type]
    values: dict[str, Value]


def parameters(definitions: list[Definition], program: Expr) -> Problem:
    """The parameters of ``program`` after ``definitions``, and the program to differentiate."""
    defined = {d.name for d in definitions}
    params = {d.name: d.type for d in definitions
              if differentiable(d.type) and not (free_vars(d.expr) & defined)}
    env = {d.name: d.type for d in definitions if d.name not in params}
    for d in reversed(definitions):
        if d.name not in params and d.name in free_vars(program):
            program = Let(d.name, d.expr, program, span=program.span)
            env.pop(d.name)
    used = free_vars(program)
    params = {x: t for x, t in params.items() if x in used}
    if not params:
        raise TypeCheckError("the program uses no parameter: a parameter is a definition of type "
                             "Real or a table of reals that uses no other definition",
                             program.span, rule="AD-Fragment")
    outer = {x: t for x, t in env.items() if x in used}
    return Problem(program, params, outer, {d.name: d.value for d in definitions})


def file_gradient(definitions: list[Definition], program: Expr, fuel: Fuel | None = None
                  ) -> tuple[dict[str, Type], Vjp, dict[str, Value]]:
    """The parameters, the vjp program and the gradient of ``program`` after ``definitions``."""
    problem = parameters(definitions, program)
    result = check(problem.program, {**problem.env, **problem.params}).type
    if not isinstance(result, RealT):
        raise TypeCheckError(f"grad needs a program of type Real, not {show_type(result)}",
                             program.span, rule="AD-Fragment")
    v = vjp(problem.program, problem.params, problem.env)
    return problem.params, v, run_vjp(v, problem.values, fuel)


__all__ = ["Definition", "Problem", "Vjp", "file_gradient", "grad", "parameters", "run_vjp",
           "tangent", "unpack", "vjp"]
