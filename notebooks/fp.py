# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Fp: λp with types and effect rows
#
# ICFP'24 gives λp a type system, Fp. A type says what a term computes, and an *effect row*
# says which operations it may perform and leave to its context: `Int | <accum>` is an integer
# computed by a term that may perform `accum`. Handlers remove a label from the row; a loop
# `for i:Fin n. e` gives its index the type `Fin n`, so that `xs.i` can never be out of bounds.
# `calculi.lambda_p` checks Fp programs, erases them to the untyped λp, and runs them there.
# `:type` in `python -m calculi.repl lambda_p` answers with the same checker.

# %%
from calculi.core.errors import CalculusError
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.lambda_p.fp_examples import EXAMPLES
from calculi.lambda_p.fp_pretty import show_row, show_type
from calculi.lambda_p.fp_program import FpProgram
from calculi.lambda_p.run import run_term, show_value

program = FpProgram.with_prelude()


def type_of(text: str) -> str:
    """The type and least effect row of an Fp term, or the type error."""
    try:
        typed = program.add(Source(text))
    except CalculusError as err:
        return err.render()
    assert typed is not None
    return f"{show_type(typed[1])} | {show_row(typed[2])}"


print(type_of("1 + 2"))
print(type_of("perform accum 1"))
print(type_of("\\(x:Int). perform accum x"))

# %% [markdown]
# ## The handlers' types
#
# Each handler of the prelude is a definition polymorphic in the row `e` of its context: it
# takes a thunk that may perform its operation *and* whatever `e` allows, and returns an answer
# `ρ a` that may perform only `e`. The answer type constructor `ρ` says what the handler makes
# of the computation's result: a pair with the accumulated value, an `Either` for exceptions, a
# `List` of all nondeterministic outcomes.

# %%
for name in ("runAccum", "runWeakExcept", "runAmb", "runRandom"):
    print(f"{name} : {show_type(program.ctx.globals[name][0])}")

# %% [markdown]
# ## The papers' examples, typed
#
# Each example is checked, then erased to λp and run by λp's own evaluator: the values are those
# of the untyped golden tests.

# %%
for name, text in EXAMPLES.items():
    typed = program.add(Source(text, name))
    assert typed is not None
    value = show_value(run_term(program.erase(typed[0]), Fuel()))
    print(f"{name:17} : {show_type(typed[1]):30} = {value}")

# %% [markdown]
# ## Soundness, checked
#
# Theorems 6.3 (preservation) and 6.5 (progress) say that a well-typed program with the empty
# row steps, keeping its type, until it is a value. The theorem catalogue checks them on
# generated programs; here is one run of each.

# %%
from proofs.registry import check, select  # noqa: E402

for thm in select(theorem_id="lambda_p.fp"):
    if thm.id in ("lambda_p.fp.theorem_6_3", "lambda_p.fp.theorem_6_5"):
        result = check(thm, "dev", seed=0)
        print(f"{thm.id}  {thm.reference}  {result.status} on {result.examples} programs")
        assert result.ok
