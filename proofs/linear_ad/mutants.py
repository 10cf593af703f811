"""Linear A's seeded bugs: the passes' (``calculi.linear_ad.mutants``), two in the small-step
semantics, which only ``linear_ad.semantics.agrees_with_eval`` can see, and one in each of the
shortcuts of the fast evaluator and the checker; and four in the fast checker's shortcuts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from calculi.core.mutants import Mutant, patch, patch_entry
from calculi.linear_ad import mutants as linear_mutants
from calculi.linear_ad import semantics
from calculi.linear_ad.check import REAL_NL, Rule, _Checker
from calculi.linear_ad.check_errors import misuse
from calculi.linear_ad.check_fast import FAST, FastChecker
from calculi.linear_ad.check_rules import LINEAR, TYPE, USES
from calculi.linear_ad.eval import Evaluator, MixedValue
from calculi.linear_ad.syntax import Call, Expr, LVar, Prim, Var, Zero
from calculi.linear_ad.types import Mixed, Type
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


def _use_anywhere(self: _Checker, v: Var | LVar, linear: bool) -> Type:
    """A variable's use judged by its own kind only, not by the kind of its position."""
    slot = self.env.get(v.name)
    own = isinstance(v, LVar)
    if slot is None or slot[LINEAR] != own or (own and slot[USES]):
        misuse(v, slot, own)
    slot[USES] += 1
    return slot[TYPE]  # type: ignore[no-any-return]


register_mutants([
    Mutant("linear_ad.check_use_anywhere", "linear_ad",
           "the checker takes a linear variable in a non-linear place (or the other way round) when it "
           "is bound so", lambda: patch(_Checker, "use", _use_anywhere), theorems="linear_ad.types"),
])


# -- the fast checker's shortcuts (each answers to the reference checker) ------------------------------


def _atoms_twice(self: FastChecker, vs: Any, linear: bool) -> tuple[Type, ...]:
    """The fast checker's variables of a result or tuple: a linear one's second use goes unnoticed."""
    types: list[Type] = []
    for v in vs:
        slot = self.env.get(v.name)
        if slot is None or slot[LINEAR] is not linear:
            return _correct_atoms(self, vs, linear)
        slot[USES] += 1
        types.append(slot[TYPE])
    return tuple(types)


_correct_atoms = FastChecker.atoms


def _call_without_levels(self: FastChecker, e: Call) -> Mixed:
    """The fast checker's call forgets the callee's own levels (its depth)."""
    depths, self.typing.depths = self.typing.depths, {}
    try:
        return _correct_call(self, e)
    finally:
        self.typing.depths = depths


_correct_call = FAST[Call]


def _operand_same_level(self: FastChecker, a: Expr) -> Mixed:
    """The fast checker checks a primitive's argument that is a primitive at its parent's level."""
    if type(a) is not Prim:
        return self.expr(a)
    t = self.types[id(a)] = self.prim(a)
    return t


register_mutants([
    Mutant("linear_ad.check_fast_linear_used_twice", "linear_ad",
           "the fast checker accepts a linear variable used a second time in a result or a tuple",
           lambda: patch(FastChecker, "atoms", _atoms_twice), theorems="linear_ad.types"),
    Mutant("linear_ad.check_fast_call_levels", "linear_ad",
           "the fast checker's call does not count the callee's own levels in the caller's depth",
           lambda: patch_entry(FAST, Call, _call_without_levels), theorems="linear_ad.types"),
    Mutant("linear_ad.check_fast_operand_level", "linear_ad",
           "the fast checker checks a primitive's argument that is a primitive at its parent's level",
           lambda: patch(FastChecker, "operand", _operand_same_level), theorems="linear_ad.types"),
])


class _AnyTypes(list[Type]):
    """Argument types that equal any others."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = None


def _prim_types_ignored(self: FastChecker, e: Prim) -> Mixed:
    """The fast checker's last application of a primitive matches any argument types."""
    t = _correct_prim(self, e)
    last = self.last.get(id(e.prim))
    if last is not None:
        self.last[id(e.prim)] = (_AnyTypes(last[0]), _AnyTypes(last[1]), last[2], last[3])
    return t


_correct_prim = FastChecker.prim


@contextmanager
def _prim_mutant() -> Iterator[None]:
    with patch(FastChecker, "prim", _prim_types_ignored), patch_entry(FAST, Prim, _prim_types_ignored):
        yield


register_mutants([
    Mutant("linear_ad.check_fast_last_application", "linear_ad",
           "the fast checker reuses the type of a primitive's last application whatever its argument types",
           _prim_mutant, theorems="linear_ad.types"),
])
