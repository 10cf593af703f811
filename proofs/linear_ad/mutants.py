"""Linear A's seeded bugs: the passes' (``calculi.linear_ad.mutants``), two in the small-step
semantics, which only ``linear_ad.semantics.agrees_with_eval`` can see, and one in each of the
shortcuts of the fast evaluator and the checker.
"""

from __future__ import annotations

from typing import Any

from calculi.core.mutants import Mutant, patch, patch_entry
from calculi.linear_ad import mutants as linear_mutants
from calculi.linear_ad import semantics
from calculi.linear_ad.check import REAL_NL, Rule, _Checker
from calculi.linear_ad.eval import Evaluator, MixedValue
from calculi.linear_ad.syntax import Prim, Zero
from proofs.registry import register_mutants

register_mutants(linear_mutants.MUTANTS)


def _bind_reversed(subst: Any, binders: Any, values: Any, atom: Any) -> Any:
    return _correct_bind(subst, binders, tuple(reversed(values)), atom)


_correct_bind = semantics.bind


def _zero_is_one(m: Any, e: Any, subst: Any) -> Any:
    return "0", semantics.lval(e.type.zero(m.domain) + 1), subst


def _params_linear_first(self: Evaluator, name: str, args: Any, largs: Any = ()) -> MixedValue:
    """The fast evaluator's call binds the linear parameters first (the list it reads once)."""
    d = self.typing.signatures[name]
    names = [b.name for b in (*d.lparams, *d.params)]
    return self.eval(d.body, dict(zip(names, (*args, *largs), strict=True)))


def _rule_of_forgets_linearity(self: _Checker, e: Prim) -> Rule:
    """The checker's per-primitive cache records every ℝ result as non-linear."""
    rule, fired, _ = _correct_rule_of(self, e)
    known = self.rules[id(e.prim)] = (rule, fired, REAL_NL)
    return known


_correct_rule_of = _Checker.rule_of


register_mutants([
    Mutant("linear_ad.semantics_bind_reversed", "linear_ad",
           "the small-step let/unpack/call binds a list of values in reverse order",
           lambda: patch(semantics, "bind", _bind_reversed)),
    Mutant("linear_ad.semantics_zero_is_one", "linear_ad", "the small-step rule 0 yields ⟨1⟩",
           lambda: patch_entry(semantics.RULES, Zero, _zero_is_one)),
    Mutant("linear_ad.eval_params_linear_first", "linear_ad",
           "the fast evaluator's call binds the argument values to the linear parameters first",
           lambda: patch(Evaluator, "_call", _params_linear_first), theorems="linear_ad.semantics"),
    Mutant("linear_ad.check_linear_result_cached_nonlinear", "linear_ad",
           "the checker's cache of a primitive's typing rule types its ℝ result non-linear",
           lambda: patch(_Checker, "rule_of", _rule_of_forgets_linearity), theorems="linear_ad.types"),
])
