"""Second-order programs: each first-order stage, embedded (``embed``), fed to the stages again.

For ``f : ℝⁿ → ℝ`` (one ℝ result), with G = ⌊U(J f) ∪ T(lin)⌋ and D = ⌊J f⌋::

    def f.grad(x̄ ;) → (ℝⁿ ;) = let (y, tape ;) = f.jvp.nonlin(x̄) in drop(y); f.jvp.lin.T(tape, 1)
    def f.dir(x̄, v̄ ;) → (ℝ ;)  = let (y, ẏ ;) = f.jvp(x̄, v̄) in drop(y); ẏ

    forward over reverse   hvp(x, v) = tangent of J(f.grad)(x ; v)                  = H(x) v
    reverse over forward   hvp(x, v) = first n cotangents of grad(f.dir)(x, v)      = H(x) v
    forward over forward   (H(x) v)ᵢ = tangent of J(f.dir)(x, v ; eᵢ, 0)
    Hessian                H(x)      = [hvp(x, eᵢ)]ᵢ

Every program here is an ordinary program of the calculus, type-checked like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from calculi.core.errors import UsageError
from calculi.linear_ad.ad import Stages, grad, jvp, jvp_values, require, stages
from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.embed import embed_program
from calculi.linear_ad.jvp import jvp_name
from calculi.linear_ad.names import Supply
from calculi.linear_ad.primitives import FLOAT, Value
from calculi.linear_ad.syntax import Call, Drop, FuncDef, LetB, Lit, Program, block, var_of
from calculi.linear_ad.types import REAL, Mixed
from calculi.linear_ad.unzip import Policy, save_all
from calculi.linear_ad.values import format_values


def grad_name(name: str) -> str:
    return f"{name}.grad"


def dir_name(name: str) -> str:
    return f"{name}.dir"


@dataclass(slots=True)
class SecondOrder:
    """The first-order stages of ``name``, their embeddings, and the second-order programs."""

    name: str
    first: Stages
    gradient: Typing
    """⌊U(J f), T(lin)⌋ and ``f.grad``: the gradient as an ordinary program."""
    directional: Typing
    """⌊J f⌋ and ``f.dir``: the directional derivative as an ordinary program."""
    over_reverse: Typing
    """J(f.grad): forward over reverse."""
    over_forward: Stages
    """The stages of f.dir: J(f.dir) is forward over forward, its transpose reverse over forward."""

    @property
    def n(self) -> int:
        return len(self.first.source.signatures[self.name].params)

    def program(self, stage: str) -> Program:
        """``grad``, ``dir`` (the embedded stages), ``hvp`` (J(f.grad)), ``fof`` (J(f.dir)) or
        ``rof`` (T of f.dir's linear half)."""
        table = {"grad": self.gradient, "dir": self.directional, "hvp": self.over_reverse,
                 "fof": self.over_forward.jvp, "rof": self.over_forward.transposed}
        if stage not in table:
            raise UsageError(f"unknown second-order stage {stage!r}; one of {', '.join(table)}")
        return table[stage].program

    def hvp(self, x: Sequence[Value], v: Sequence[Value], domain: Any = FLOAT) -> tuple[Value, ...]:
        """H(x) v, forward over reverse."""
        return jvp_values(self.over_reverse_source, grad_name(self.name), list(x), list(v), domain)[1]

    @property
    def over_reverse_source(self) -> Typing:
        return self.gradient

    def hvp_reverse_over_forward(self, x: Sequence[Value], v: Sequence[Value],
                                 domain: Any = FLOAT) -> tuple[Value, ...]:
        """H(x) v as the first n entries of ∇(x, v ↦ ∂f(x)·v)."""
        _, g = grad(self.directional, dir_name(self.name), [*x, *v], domain=domain)
        return g[: self.n]

    def hvp_forward_over_forward(self, x: Sequence[Value], v: Sequence[Value],
                                 domain: Any = FLOAT) -> tuple[Value, ...]:
        """(H(x) v)ᵢ = J(f.dir)(x, v ; eᵢ, 0), one forward pass per coordinate."""
        zero, one = domain.literal("0"), domain.literal("1")
        out = []
        for i in range(self.n):
            e = [one if k == i else zero for k in range(self.n)]
            out.append(jvp_values(self.directional, dir_name(self.name), [*x, *v], [*e, *[zero] * self.n],
                                  domain)[1][0])
        return tuple(out)

    def hessian(self, x: Sequence[Value], domain: Any = FLOAT) -> list[tuple[Value, ...]]:
        """H(x), row i = H(x) eᵢ (forward over reverse)."""
        zero, one = domain.literal("0"), domain.literal("1")
        return [self.hvp(x, [one if k == i else zero for k in range(self.n)], domain) for i in range(self.n)]


def _gradient_def(name: str, st: Stages, n: int) -> FuncDef:
    supply = Supply()
    xs = supply.binders([f"x{i}" for i in range(n)])
    n_out = len(st.source.signatures[name].result.nonlin)
    ys = supply.binders(["y"] * n_out)
    tape, one = supply.binder("tape"), supply.binder("one")
    body = block([LetB((*ys, tape), (), Call(st.nonlin_fn, tuple(var_of(b) for b in xs), ())),
                  *[LetB((), (), Drop(var_of(y))) for y in ys],
                  LetB((one,), (), Lit("1"))],
                 Call(st.transposed_fn, (var_of(tape), var_of(one)), ()))
    return FuncDef(grad_name(name), xs, (REAL,) * n, (), (), Mixed((REAL,) * n, ()), body)


def _directional_def(name: str, n: int) -> FuncDef:
    supply = Supply()
    xs = supply.binders([f"x{i}" for i in range(n)])
    vs = supply.binders([f"v{i}" for i in range(n)])
    y, dy = supply.binder("y"), supply.binder("dy")
    body = block([LetB((y, dy), (), Call(jvp_name(name), tuple(var_of(b) for b in (*xs, *vs)), ())),
                  LetB((), (), Drop(var_of(y)))], var_of(dy))
    return FuncDef(dir_name(name), (*xs, *vs), (REAL,) * (2 * n), (), (), Mixed((REAL,), ()), body)


def second_order(typing: Typing, name: str, policy: Policy = save_all) -> SecondOrder:
    """The second-order programs of ``name``, which must take ℝ arguments and return one ℝ."""
    require(typing, name)
    d = typing.signatures[name]
    if d.lparams or d.result.lin or d.result.nonlin != (REAL,) or any(t != REAL for t in d.param_types):
        shown = ", ".join(t.show() for t in (*d.param_types, *d.lparam_types))
        raise UsageError(f"second-order derivatives need a function of ℝ arguments with one ℝ result; "
                         f"{name} takes ({shown}) and returns {d.result}")
    n = len(d.params)
    st = stages(typing, name, policy)
    known = set(st.unzipped.program.names())
    first = Program(st.unzipped.program.defs
                    + tuple(x for x in st.transposed.program.defs if x.name not in known))
    gradient = check_program(embed_program(first).with_defs((_gradient_def(name, st, n),)))
    directional = check_program(embed_program(st.jvp.program).with_defs((_directional_def(name, n),)))
    over_reverse = jvp(gradient, grad_name(name))
    over_forward = stages(directional, dir_name(name), policy)
    return SecondOrder(name, st, gradient, directional, over_reverse, over_forward)


def hvp_text(typing: Typing, name: str, x: Sequence[Value], v: Sequence[Value],
             policy: Policy = save_all) -> str:
    """The value, gradient and H(x)·v of ``name``, as the CLI and the REPL print them."""
    so = second_order(typing, name, policy)
    value, gradient = grad(typing, name, list(x), policy)
    return (f"value    {value!r}\ngradient {format_values(gradient, ())}\n"
            f"hvp      {format_values(so.hvp(x, v), ())}")


def hessian_text(typing: Typing, name: str, x: Sequence[Value], policy: Policy = save_all) -> str:
    """H(x), one row per line (forward over reverse, one pass per row)."""
    rows = second_order(typing, name, policy).hessian(x)
    return "hessian\n" + "\n".join(f"  {format_values(r, ())}" for r in rows)
