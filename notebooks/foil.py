# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The foil: capture-avoiding substitution with no sharp edges
#
# Substituting under binders can *capture* a name: `(\x. \y. x) y` must not become the identity.
# The rapier (GHC's inliner) avoids capture without a global fresh-name supply: it carries the
# set Θ of names in scope and renames a binder only when it clashes with Θ. The foil puts Θ and
# the rapier's invariants into the types. This notebook shows capture, the in-scope set, and
# what the type checker rules out.

# %%
from calculi.foil import alpha_equiv, normalize, parse, pretty, subst, to_debruijn
from calculi.foil.baselines import naive
from calculi.foil.core import (
    empty_scope,
    extend_scope,
    raw,
    sink,
    unsafe_name,
    with_fresh,
    with_refreshed,
)
from calculi.foil.nbe import normalize_by_evaluation

# %% [markdown]
# ## 1. Capture
#
# Naive substitution replaces `x` by `y` textually and captures the free `y`:

# %%
k_y = parse(r"(\x. \y. x) y", free=True)
print("naive:", pretty(naive.normalize(k_y)))
print("foil: ", pretty(normalize(k_y)))
assert alpha_equiv(naive.normalize(k_y), parse(r"\y. y"))  # captured: the identity
assert not alpha_equiv(normalize(k_y), parse(r"\y. y"))  # the foil renamed the binder

# %% [markdown]
# Up to α, the foil agrees with de Bruijn indices, where names do not exist at all:

# %%
print(to_debruijn(normalize(k_y)))

# %% [markdown]
# ## 2. The in-scope set Θ
#
# `substitute(Θ, σ, e)` renames a binder only if its name is in Θ (the names of the *output*),
# and when it keeps the name it *deletes* σ's entry for it, so that the inner binder shadows:

# %%
print(pretty(subst(parse(r"\y. x", free=True), {"x": parse("y", free=True)})))  # y ∈ Θ: renamed
print(pretty(subst(parse(r"\z. x", free=True), {"x": parse("y", free=True)})))  # z ∉ Θ: kept
print(pretty(subst(parse(r"\x. x", free=True), {"x": parse("y", free=True)})))  # delete: shadowed

# %% [markdown]
# Θ as the foil keeps it at run time is a bit set of raw names; `with_fresh` picks one past the
# largest, and `with_refreshed` keeps a name unless it clashes:

# %%


def grow(scope):
    return with_fresh(scope, lambda b, ev: extend_scope(b, scope))


theta = grow(grow(grow(empty_scope())))
print("Θ =", theta)
print("fresh:", with_fresh(theta, lambda b, ev: raw(b)))
print("refresh 1 (clashes):", with_refreshed(theta, unsafe_name(1), lambda b, ev: raw(b)))
print("refresh 7 (free):   ", with_refreshed(theta, unsafe_name(7), lambda b, ev: raw(b)))

# %% [markdown]
# Terms may still repeat a raw name of an outer binder (`\x1. ... \x1. ...`): only *scopes*
# are kept distinct. Normalisation copes (lambda-n-ways' `capture10`):

# %%
print(pretty(normalize(parse(r"\x0. (\x1. \x0. x1) (\x2. x0)"))))

# %% [markdown]
# ## 3. What the types rule out
#
# Every name has a phantom scope: `Name[N]`, `NameBinder[N, L]` (extends `N` to `L`),
# `Expr[N]`. A fresh binder is only available inside a continuation that is generic in `L`, so
# mypy --strict rejects, among others (tests/typecheck/foil_ill_scoped.py has them all):
#
# ```python
# def k(b: NameBinder[N, L], ev: DExt[N, L]) -> Expr[N]:
#     return Lam(b, Var(x))          # x : Name[N] used under the binder without sink_name(x, ev)
#
# def k(b: NameBinder[N, L], ev: DExt[N, L]) -> Name[N]:
#     return name_of(b)              # the binder's name escaping to the outer scope
#
# def k(b: NameBinder[N, VoidS], ev: DExt[N, VoidS]) -> int: ...
# with_fresh(scope, k)               # a continuation fixed to one scope
# ```
#
# At run time all of this is erased: names are `int`s, scopes `int` bit sets, substitutions
# `dict`s and `sink` is the identity:

# %%
term = parse(r"\x. x y", free=True)
assert with_fresh(theta, lambda b, ev: sink(term, ev)) is term

# %% [markdown]
# ## 4. Normalisation by evaluation
#
# `normalize` substitutes (lazily, in an environment). `normalize_by_evaluation` evaluates the term
# into closures and neutral terms, sharing each argument's value (call by need), then reads the
# value back: under a closure it takes the closure's own binder, refreshed when it clashes with
# Θ. A renamed binder keeps its hint, so the printer shows `y` renamed as `y1`:

# %%
print(pretty(normalize_by_evaluation(k_y)))
print(pretty(normalize_by_evaluation(parse(r"(\x. \y. \y1. x) (y y1)", free=True))))
church = r"(\f. \x. f (f (f x)))"
cube = parse(rf"(\m. \n. n m) {church} {church}")
assert alpha_equiv(normalize_by_evaluation(cube), normalize(cube))

# %% [markdown]
# The benchmark (`python -m calculi.foil.bench`) measures what the typed calls cost in Python
# against the plain rapier; the theorem catalogue (`python -m proofs --paper foil`) checks the
# properties above on generated terms, and `--mutants` shows it catches the rapier's classic bugs.
