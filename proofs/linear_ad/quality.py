"""The suite's own quality for Linear A: every declared rule fires on generated programs, and what
the generators produce (``python -m proofs --paper linear_ad --coverage`` prints both).

The exercise runs samples of both generators through the checker (the typing rules), the three
passes under both checkpointing policies (J, U with its save and recompute choices, T), the
transposition of generated linear programs, and the small-step semantics.
"""

from __future__ import annotations

from fractions import Fraction

from calculi.linear_ad.ad import stages
from calculi.linear_ad.check import check_program
from calculi.linear_ad.eval import Evaluator
from calculi.linear_ad.primitives import FLOAT, FRACTION
from calculi.linear_ad.rules import CALCULUS
from calculi.linear_ad.semantics import run as run_semantics
from calculi.linear_ad.semantics import start
from calculi.linear_ad.strategies import linear_programs, nonlinear_programs, primitive_programs
from calculi.linear_ad.syntax import Call, Dup, Expr, LetB, Program, children
from calculi.linear_ad.transpose import transpose_program
from calculi.linear_ad.unzip import POLICIES
from proofs.linear_ad.fixtures import YOLO, constants, main_of, point
from proofs.linear_ad.zeros import exercise as exercise_zeros
from proofs.quality import distribution, every_rule_fires, sample

SAMPLES = 40


def exercise() -> None:
    """Samples of both generators through every rule: typing, J, U (save and recompute), T, and
    the small-step semantics."""
    for program in [*primitive_programs(), *sample(nonlinear_programs(), SAMPLES, seed=1)]:
        typing, name = main_of(program)
        for policy in ("save-all", "recompute-all"):
            stages(typing, name, POLICIES[policy])
        run_semantics(start(typing, name, [float(v) for v in point(typing, name)]))
    for program in sample(linear_programs(), SAMPLES, seed=2):
        typing, name = main_of(program)
        check_program(transpose_program(typing, name))
        d = typing.signatures[name]
        run_semantics(start(typing, name, constants(len(d.params)), [Fraction(1)] * len(d.lparams),
                            FRACTION))
    exercise_zeros()


every_rule_fires(CALCULUS, YOLO, "§2 (J, U, T), §1.3 (typing)", exercise)


# -- what the generators produce -------------------------------------------------------------


def jacobian(program: Program) -> list[Fraction]:
    """Every entry of the main linear function's matrix at the theorems' point (exact)."""
    typing, name = main_of(program)
    d = typing.signatures[name]
    ev = Evaluator(typing, FRACTION)
    n = len(d.lparams)
    return [x for i in range(n) for x in ev.call(name, constants(len(d.params)),
                                                 [Fraction(int(j == i)) for j in range(n)])[1]]


def nodes(program: Program) -> list[Expr]:
    """Every expression of every function."""
    out: list[Expr] = []
    stack: list[Expr] = [d.body for d in program.defs]
    while stack:
        e = stack.pop()
        out.append(e)
        stack.extend(children(e))
    return out


def calls(program: Program) -> list[Call]:
    return [e for e in nodes(program) if isinstance(e, Call)]


def helpers(program: Program) -> list[int]:
    """The helpers' (non-linear, linear) parameter and result counts, flattened per helper."""
    return [len(d.lparams) for d in program.defs[:-1]]


def shares(program: Program) -> bool:
    """J inserts a dup: some variable is used twice (contraction of Γ)."""
    typing, name = main_of(program)
    return any(isinstance(e, Dup) for e in nodes(stages(typing, name).jvp.program))


def nonlinear_let_in_linear_code(program: Program) -> bool:
    return any(isinstance(b, LetB) and b.binders for e in nodes(program) if hasattr(e, "bindings")
               for b in e.bindings)


distribution(CALCULUS, "linear programs", linear_programs(), {
    "compute the zero map": lambda p: all(x == 0 for x in jacobian(p)),
    "have every Jacobian entry in {0, 1}": lambda p: all(x in (0, 1) for x in jacobian(p)),
    "have a helper with ≥ 2 linear parameters": lambda p: any(n >= 2 for n in helpers(p)),
    "have a helper with ≥ 2 results": lambda p: any(len(d.result.lin) >= 2 for d in p.defs[:-1]),
    "call a helper": lambda p: bool(calls(p)),
    "call a helper with ≥ 2 linear arguments": lambda p: any(len(c.largs) >= 2 for c in calls(p)),
    "bind a non-linear value in linear code": nonlinear_let_in_linear_code,
})

distribution(CALCULUS, "non-linear programs", nonlinear_programs(), {
    "call a helper": lambda p: bool(calls(p)),
    "call a helper with ≥ 2 arguments": lambda p: any(len(c.args) >= 2 for c in calls(p)),
    "call a helper of 2 results": lambda p: any(len(p.index[c.func].result.nonlin) >= 2
                                                for c in calls(p)),
    "have 2 helpers": lambda p: len(p.defs) >= 3,
    "share a variable (J inserts a dup)": shares,
    "evaluate to a finite float": lambda p: all(abs(v) < float("inf") for v in Evaluator(
        main_of(p)[0], FLOAT).call(p.defs[-1].name, [float(v) for v in point(*main_of(p))])[0]),
})
