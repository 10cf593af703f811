"""The effects mean what λp's handlers mean: generated Dex programs with Reader, State and Accum,
translated into λp (``runReader``, ``runState``, ``runAccum`` of λp's prelude, and λp's ``for``),
give the value they give in Dex, exactly."""

from __future__ import annotations

from hypothesis import event

from calculi.dex.check import check
from calculi.dex.mutants_lambda_p import MUTANTS
from calculi.dex.pretty import show
from calculi.dex.semantics import evaluate
from calculi.dex.strategies import Program, histogram_programs, programs, state_programs
from calculi.dex.strategies_effects import effect_programs
from calculi.dex.to_lambda_p import Untranslatable, run_in_lambda_p, translate
from calculi.dex.values import show_value
from proofs.dex.language import DEX
from proofs.quality import distribution
from proofs.registry import register_mutants, theorem

register_mutants(MUTANTS)


@theorem("dex.effects.lambda_p_handlers", paper=DEX, section="§4", label="derived",
         statement="translated into λp (references as the operations of runReader, runState and "
                   "runAccum, parallel accumulating for as λp's for, tables as arrays), a program "
                   "gives the value it gives in Dex, exactly",
         given={"program": effect_programs() | effect_programs(depth=4) | programs()
                | state_programs() | histogram_programs()})
def _(program: Program) -> None:
    checked = check(program.expr)
    want = evaluate(program.expr, parallel=checked.parallel)
    try:
        got = run_in_lambda_p(program.expr, checked)
    except Untranslatable as err:  # only what the translation documents as refused
        refused = err
    else:
        assert got == want, (f"λp gives {show_value(got, checked.type)}, Dex "
                             f"{show_value(want, checked.type)}")
        return
    if "same kind" not in refused.reason:
        raise AssertionError(refused.render())
    event("refused: a reference used under a handler of its kind")


def _uses_lambda_p_for(program: Program) -> bool:
    return "(for k:" in translate(program.expr)


distribution("dex", "effect programs", effect_programs(), {
    "accumulates in λp's for (traversed by runAccum)": _uses_lambda_p_for,
    "has a sequential for (State)": lambda p: bool(check(p.expr).sequential),
    "a handler inside a for": lambda p: any(
        "run_" in show(loop.body) or "with_reader" in show(loop.body)
        for loop, _ in check(p.expr).loops),
    "three kinds of handler": lambda p: all(h in show(p.expr)
                                            for h in ("run_state", "run_accum", "with_reader")),
})
