"""Rule coverage of the backend: each row of the JVP and transpose tables fires its rule (``jvp:tanh``,
``transpose:reshapeL``) when J or T applies it, at trace time only; a mutant's patched row fires as the
row it replaces; the paper's scalar primitives count only on arrays."""

from __future__ import annotations

from collections import Counter

import numpy as np

import backend
import backend.numpy as bnp
import backend.primitives as P
from backend import rule_coverage
from backend.api import clear_cache
from backend.lprims import KINDS, TANGENT
from backend.ltypes import ArrayT
from calculi.core import coverage
from calculi.core.mutants import patch_entry
from calculi.linear_ad.primitives import jvp_rules, transpose_rules
from calculi.linear_ad.syntax import LVar, Var
from calculi.linear_ad.types import REAL


def _fired(counts: Counter[tuple[str, str]]) -> dict[str, int]:
    return {rule: n for rule, n in coverage.table(counts, "backend") if n}


def test_every_row_is_declared_and_fires_its_own_rule() -> None:
    names = rule_coverage.instrument()
    assert names == coverage.RULES["backend"] == rule_coverage.rule_names()
    assert {f"transpose:{p.name}" for p, kind in KINDS.items() if kind == TANGENT} <= set(names)
    assert "jvp:tanh" in names and "jvp:const" in names and "transpose:ladd" in names
    for name in names:
        table, key = (jvp_rules, "jvp:") if name.startswith("jvp:") else (transpose_rules, "transpose:")
        row = next(table[p] for p in KINDS if p.name == name.removeprefix(key) and p in table)
        assert isinstance(row, rule_coverage.Firing) and row.name == name


def test_rules_fire_when_a_program_is_transformed_not_when_it_runs() -> None:
    clear_cache()

    def f(x: np.ndarray) -> object:
        return bnp.sum(bnp.tanh(x) * 2.0)

    with coverage.recording() as counts:
        backend.grad(f)(np.ones(3))
    assert _fired(counts) == {"jvp:mul": 1, "jvp:tanh": 1, "jvp:const": 1, "jvp:reduce_sum": 1,
                              "transpose:ladd": 1, "transpose:scale": 3, "transpose:reduce_sumL": 1}
    with coverage.recording() as again:
        backend.grad(f)(np.zeros(3))  # the same trace: no rule is applied
    assert _fired(again) == {}


def test_a_patched_row_fires_as_the_row_it_replaces() -> None:
    original = jvp_rules[P.tanh_p]
    with patch_entry(jvp_rules, P.tanh_p, original.rule):  # type: ignore[attr-defined]
        rule_coverage.instrument()
        assert isinstance(jvp_rules[P.tanh_p], rule_coverage.Firing)
        clear_cache()
        with coverage.recording() as counts:
            backend.grad(lambda x: bnp.sum(bnp.tanh(x)))(np.ones(2))
        assert counts["backend", "jvp:tanh"] == 1
    assert jvp_rules[P.tanh_p] is original
    clear_cache()


def test_the_papers_scalar_primitives_count_on_arrays_only() -> None:
    """``sin`` is Linear A's primitive too: J of a scalar ``sin`` is not the backend's rule firing."""
    rule = jvp_rules[P.sin_p]
    assert isinstance(rule, rule_coverage.Firing) and rule.arrays_only
    array = ArrayT((2,), "float64")
    with coverage.recording() as counts:
        for t in (REAL, array, REAL):
            rule((Var(0, "x"),), (LVar(1, "dx"),), (t,), {})
    assert counts["backend", "jvp:sin"] == 1
    assert jvp_rules[P.tanh_p].arrays_only  # type: ignore[attr-defined]  (tanh is Linear A's too)
    assert not jvp_rules[P.softplus_p].arrays_only  # type: ignore[attr-defined]
