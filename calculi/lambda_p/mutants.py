"""Seeded bugs in the small-step semantics that the theorem suite must kill."""

from __future__ import annotations

from calculi.core.mutants import Mutant, patch, patch_entry
from calculi.core.trace import Fuel
from calculi.foil import core as foil
from calculi.lambda_p import semantics
from calculi.lambda_p.semantics import Frame, Machine, loop_bound, plug_all
from calculi.lambda_p.subst import substitute
from calculi.lambda_p.syntax import TRAVERSE, App, Arr, For, Handle, Lam, Lit, Term, Var


def shallow_resumption(handle: Handle, frames: list[Frame]) -> Term:
    """k = λs. λx. E[x]: the handler is not reinstalled (shallow handling)."""
    return Lam(0, Lam(1, plug_all(frames, Var(1, "x")), "x"), "s")


def parallel_under_handler(self: Machine, frames: list[Frame], t: For, fuel: Fuel) -> tuple[str, Term, int]:
    """(parallel) fires even when a handler encloses the loop."""
    return "parallel", self.parallel(t, fuel), len(frames)


def traverse_outer_parameter(handle: Handle, frames: list[Frame], loop: For) -> Term:
    """ℓi = λs'. handle h s e[x:=i]: the iterations get the outer parameter, not the clause's."""
    n = loop_bound(loop)
    s_id = foil.fresh_id(foil.empty_scope())
    bodies = tuple(
        Lam(s_id, Handle(handle.handler, handle.param, substitute(loop.body, {loop.binder: Lit(i)})), "s")
        for i in range(n)
    )
    k = Lam(0, Lam(1, Handle(handle.handler, Var(0), plug_all(frames, Var(1))), "xs"), "s")
    f_t = handle.handler.clause(TRAVERSE)
    assert f_t is not None
    return App(App(App(App(f_t, Lit(n)), handle.param), Arr(bodies)), k)


MUTANTS = [
    Mutant(
        "lambda_p.shallow_resumption",
        "lambda_p",
        "(perform) resumes with k = λs. λx. E[x] (shallow)",
        lambda: patch(semantics, "resumption", shallow_resumption),
    ),
    Mutant(
        "lambda_p.parallel_under_handler",
        "lambda_p",
        "(parallel) fires under a handler",
        lambda: patch(Machine, "loop", parallel_under_handler),
    ),
    Mutant(
        "lambda_p.bop_ignores_inner_frames",
        "lambda_p",
        "bop(E) ignores inner handle frames",
        lambda: patch_entry(semantics.BOP, "bop", lambda frames: set()),
    ),
    Mutant(
        "lambda_p.traverse_outer_parameter",
        "lambda_p",
        "(traverse) hands iterations the outer parameter",
        lambda: patch_entry(semantics.VARIANTS, "icfp24", traverse_outer_parameter),
    ),
]
