"""Seeded bugs in Fp's checker that the theorem suite must kill: each replaces one typing rule
(an entry of ``fp_check.EXPRESSION_RULES``) or row equivalence."""

from __future__ import annotations

from calculi.core.mutants import Mutant, patch, patch_entry
from calculi.lambda_p import fp_check, fp_types
from calculi.lambda_p import fp_syntax as f
from calculi.lambda_p.fp_check import EXPRESSION_RULES, check_handle, infer
from calculi.lambda_p.fp_kinds import Context, check_bound


def handle_forgets_row(ctx: Context, e: f.Handle, row: f.Row) -> f.Type:
    """t-handle types the handled computation in ε, not ⟨l | ε⟩: the handled operation's label
    is forgotten."""
    typed = check_handle(ctx, f.Handle(e.answer, e.param_ty, e.handler, e.param, f.Con("Tuple")), row)
    assert isinstance(typed, f.TApp)
    return f.TApp(e.answer, infer(ctx, e.body, row))


def for_without_bound(ctx: Context, e: f.For, row: f.Row) -> f.Type:
    """t-for binds the index at Int, not at Fin n."""
    check_bound(ctx, e.bound, "t-for")
    return f.TArray(e.bound, infer(ctx.with_value(e.name, f.INT), e.body, row))


def rows_as_sets(r1: f.Row, r2: f.Row, names: fp_types.Names | None = None) -> bool:
    """Row equivalence up to reordering and repetition: ⟨l | ⟨l | ε⟩⟩ ≡ ⟨l | ε⟩."""
    return fp_types._same(r1.tail, r2.tail, names) and set(r1.labels) == set(r2.labels)


FP = "lambda_p.fp."
"""Fp's mutants are hunted by Fp's theorems only: the untyped ones never run its checker."""

MUTANTS = [
    Mutant("lambda_p.fp.handle_forgets_row", "lambda_p",
           "Fp's t-handle checks the handled computation without the handled operation's label in its row",
           lambda: patch_entry(EXPRESSION_RULES, f.Handle, handle_forgets_row), FP),
    Mutant("lambda_p.fp.for_without_fin_bound", "lambda_p",
           "Fp's t-for gives the loop index the type Int instead of Fin n",
           lambda: patch_entry(EXPRESSION_RULES, f.For, for_without_bound), FP),
    Mutant("lambda_p.fp.rows_ignore_duplicates", "lambda_p",
           "Fp's row equivalence compares the sets of labels, ignoring repeated labels",
           lambda: patch(fp_types, "row_equiv", rows_as_sets), FP),
]
assert fp_check.EXPRESSION_RULES is EXPRESSION_RULES
