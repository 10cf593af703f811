"""Normal-order evaluation on the foil, by a machine that delays substitution.

    (λx. e) a  →β  e[x ↦ a]

The machine reduces ``S(Θ, σ, e)``, a term under a pending substitution, without building the
substituted term: Krivine's machine (call by name) with the foil's ``Substitution`` as its
environment. Its state at the head is ``(σ, e, a₁ … aₙ)`` with ``σ : I → O``, ``e : Expr[I]`` and
the arguments already in ``O``:

    σ, e₁ e₂, ā        ↦  σ, e₁, S(Θ, σ, e₂) ā          (an argument is substituted once, here)
    σ, λx. e, a ā      ↦  σ[x ↦ a], e, ā                (β: one unit of fuel)
    σ, x, ā            ↦  id, σ(x), ā                   (x ∈ dom σ)

It stops at a λ with no argument (the weak-head normal form, still under σ) or at a name σ leaves
alone. The full normal form goes on in normal order: under the λ with the rapier's step at a binder
(``core.lam_row``, renaming only on a clash with Θ), or into the arguments of the
name, from left to right. Each β-step of the machine is a head β-step of the substitution
semantics, so it spends the same fuel as ``semantics.step`` and the de Bruijn oracle (theorems P11
and step.agrees_with_nf); but a ``let`` with n bindings costs O(n), not O(n²): the body is walked
once, not once per β-step.

The machine's loop, ``head_normal``, is made by the trusted core (``fused.machine``), as the λ row
is: σ grows by one entry per β-step in place (the machine holds the only reference to it, since
arguments are substituted when they are pushed), and the loop holds the pair (σ, e) at a scope
``I`` that changes with every β-step, an existential type Python cannot state; written in the
core, σ's operations are the dict's own, as in the plain rapier, and the pair is typed at the
boundaries of every function here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from calculi.core.errors import FuelExhausted
from calculi.core.trace import DEFAULT_FUEL, Fuel
from calculi.foil.core import Head, Scope, Substitution, identity_subst, lam_row, machine
from calculi.foil.rules import fired, operation
from calculi.foil.substitution import substitute
from calculi.foil.syntax import App, Expr, Lam, Var, scope_of

N = TypeVar("N")
L = TypeVar("L")
I = TypeVar("I")  # noqa: E741
O = TypeVar("O")  # noqa: E741

if TYPE_CHECKING:

    def head_normal(scope: Scope[O], subst: Substitution[Expr[O], I, O], term: Expr[I], fuel: Fuel) -> Head:
        """Run the machine from ``(σ, e)`` to a weak-head normal form ``(σ', e', arguments)``:
        ``e'`` is a λ with no argument or a name σ' leaves alone; ``σ`` becomes the machine's."""

else:
    # The core's machine, stated at the λ-calculus's types above (``Machine`` cannot name ``Expr``).
    head_normal = machine(App, Lam, substitute)


def whnf(scope: Scope[N], term: Expr[N], fuel: Fuel) -> Expr[N]:
    """The weak-head normal form: contract head redexes until the head is a λ with no argument,
    or a name."""
    start: Substitution[Expr[N], N, N] = identity_subst()
    sigma, head, args = head_normal(scope, start, term, fuel)
    out: Expr[N] = substitute(scope, sigma, head)
    while args:
        out = App(out, args.pop())
    return out


def nf(scope: Scope[O], subst: Substitution[Expr[O], I, O], term: Expr[I], fuel: Fuel) -> Expr[O]:
    """The β-normal form of ``S(Θ, σ, e)``, in normal order; ``σ`` becomes the machine's."""
    sigma, head, args = head_normal(scope, subst, term, fuel)
    rule: Callable[[Scope[O], Any, Any, list[Expr[O]], Fuel], Expr[O]] = NF_RULES[type(head)]
    return rule(scope, sigma, head, args, fuel)


nf_lam = lam_row(Lam, Var, nf)
"""λx. e ↦ λx'. nf(e): under the binder with the rapier's step (x' = x unless it clashes), the
binder keeping its hint."""


def nf_var(scope: Scope[O], subst: Substitution[Expr[O], I, O], term: Var[I], args: list[Expr[O]],
           fuel: Fuel) -> Expr[O]:
    """x a₁ … aₙ ↦ x nf(a₁) … nf(aₙ): σ leaves x alone, so x is a name of ``O``."""
    out: Expr[O] = term  # type: ignore[assignment]
    while args:
        out = App(out, nf(scope, identity_subst(), args.pop(), fuel))
    return out


NF_RULES: dict[type, Callable[..., Expr[Any]]] = {Lam: nf_lam, Var: nf_var}


@operation
def normalize(term: Expr[N], fuel: Fuel | int | None = None) -> Expr[N]:
    """The β-normal form of ``term`` (normal order), or ``FuelExhausted`` after ``fuel`` β-steps."""
    spent = _fuel(fuel)
    with located(term, spent):
        return nf(scope_of(term), identity_subst(), term, spent)


@operation
def weak_head(term: Expr[N], fuel: Fuel | int | None = None) -> Expr[N]:
    """The weak-head normal form of ``term`` (normal order at the head)."""
    spent = _fuel(fuel)
    with located(term, spent):
        return whnf(scope_of(term), term, spent)


@contextmanager
def located(term: Expr[Any], fuel: Fuel) -> Iterator[None]:
    """Running out of fuel at a λ made by substitution (no span) points at the whole term; the
    β-steps taken count for rule coverage."""
    before = fuel.used
    try:
        yield
    except FuelExhausted as err:
        err.span = err.span or term.span
        raise
    finally:
        fired("β", min(fuel.used, fuel.limit) - before)


def _fuel(fuel: Fuel | int | None) -> Fuel:
    if isinstance(fuel, Fuel):
        return fuel
    return Fuel(DEFAULT_FUEL if fuel is None else fuel)
