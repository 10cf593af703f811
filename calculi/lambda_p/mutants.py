"""Seeded bugs in the small-step semantics and in the fast evaluator that the theorem suite
must kill."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from calculi.core.mutants import Mutant, patch, patch_entry
from calculi.core.syntax import Span
from calculi.core.trace import Fuel
from calculi.foil import core as foil
from calculi.lambda_p import compile as compiler
from calculi.lambda_p import eval as fast
from calculi.lambda_p import program, semantics
from calculi.lambda_p.compile import value_of
from calculi.lambda_p.instructions import Call, Ret, let_expr
from calculi.lambda_p.semantics import Frame, Machine, loop_bound, plug_all
from calculi.lambda_p.subst import substitute
from calculi.lambda_p.syntax import TRAVERSE, App, Arr, For, Global, Globals, Handle, Lam, Lit, Term, Var


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


_BY_NAME: dict[str, Any] = {}


def global_value_by_name(g: Global, span: Span | None) -> Any:
    """A global's value cached under its name, whichever definition of that name is meant."""
    if g.name not in _BY_NAME:
        term = g.definition()
        assert term is not None
        _BY_NAME[g.name] = value_of(term)
    return _BY_NAME[g.name]


@contextmanager
def globals_cached_by_name() -> Iterator[None]:
    """The fast evaluator's globals cached by name (compiled values dropped on the way in and out)."""
    for table in list(Globals._REGISTRY.values()):
        table.values.clear()
    _BY_NAME.clear()
    try:
        with patch(compiler, "global_value", global_value_by_name):
            yield
    finally:
        for table in list(Globals._REGISTRY.values()):
            table.values.clear()


def global_value_dynamic(g: Global, span: Span | None) -> Any:
    """A global's value looked up by its name in the newest table that binds it: the user's
    definition of a name also serves the prelude's references to it (dynamic scoping)."""
    tables = [t for t in list(Globals._REGISTRY.values()) if g.name in t.names]
    newest = max(tables, key=lambda t: t.ident).names[g.name] if tables else g
    return _GLOBAL_VALUE(newest if newest.definition() is not None else g, span)


_GLOBAL_VALUE = compiler.global_value


@contextmanager
def globals_by_newest_name() -> Iterator[None]:
    """The fast evaluator's globals resolved dynamically (compiled values dropped on the way in
    and out, so that no code compiled outside the mutant serves it, nor its code the others)."""
    for table in list(Globals._REGISTRY.values()):
        table.values.clear()
    try:
        with patch(compiler, "global_value", global_value_dynamic):
            yield
    finally:
        for table in list(Globals._REGISTRY.values()):
            table.values.clear()


def nested_resume(k: Any, s: Any, x: Any, fs: Any, meta: Any) -> tuple[Any, Any, Any]:
    """k s x run to its value on a machine of its own (a Python call per resumption), then handed
    to the caller: direct style, not on the machine's continuation."""
    k_fs, chain, h = k
    inner: Any = (h, s, None, None)
    for frame in reversed(chain):
        inner = (frame[0], frame[1], frame[2], inner)
    machine = fast.Machine(Fuel(10**9))
    machine.c, machine.fs, machine.meta = Ret(lambda env: x), k_fs, inner
    return fs, meta, machine.run()


def unordered_call(fn: Any, args: Any, span: Span | None) -> Any:
    """f a1 a2: every argument evaluated before f a1 is applied."""
    return Call(fn, args, span)


def untrimmed_let(rhs: Any, body: Any, keep: bool, trim: Any) -> Any:
    """x ← e1; e2 (both expressions) in the whole environment, though e2 was compiled for the
    trimmed one."""
    return let_expr(rhs, body, keep, None)


def everything_a_value(term: Term) -> bool:
    """Every definition counts as a value: defined as its body, never evaluated in its turn."""
    return True


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
    Mutant(
        "lambda_p.globals_cached_by_name",
        "lambda_p",
        "the fast evaluator caches a global's value by its name",
        globals_cached_by_name,
    ),
    Mutant(
        "lambda_p.prelude_sees_user_definitions",
        "lambda_p",
        "on the fast path a global is its name's newest definition: a user def named like a prelude one "
        "changes what the prelude's own functions call",
        globals_by_newest_name,
    ),
    Mutant(
        "lambda_p.resumption_not_trampolined",
        "lambda_p",
        "the fast evaluator runs a resumption k s x on a nested machine (a Python call)",
        lambda: patch(fast, "resume", nested_resume),
    ),
    Mutant(
        "lambda_p.call_arguments_early",
        "lambda_p",
        "the fast evaluator evaluates f a1 a2's a2 before applying f to a1",
        lambda: patch(compiler, "ordered_call", unordered_call),
    ),
    Mutant(
        "lambda_p.let_untrimmed",
        "lambda_p",
        "the fast evaluator's expression lets keep the whole environment, not the trimmed one",
        lambda: patch(compiler, "let_expr", untrimmed_let),
    ),
    Mutant(
        "lambda_p.definitions_unevaluated",
        "lambda_p",
        "a definition whose body is not a value is defined as that body, not as its value",
        lambda: patch(program, "is_value", everything_a_value),
    ),
]
