"""The continuation of the fast evaluator (``eval``): its frames, its handler frames, and the
functions it hands to handlers (resumptions and body continuations).

The continuation is two linked lists of immutable tuples, shared between the continuations that
capture them: ``fs``, the frames of the current computation up to its innermost handler, and
``meta``, the handlers around it, innermost first.
"""

from __future__ import annotations

from typing import Any

from calculi.core.syntax import Span
from calculi.lambda_p.instructions import Install, Loop
from calculi.lambda_p.pretty import show
from calculi.lambda_p.stuck import unhandled
from calculi.lambda_p.subst import substitute
from calculi.lambda_p.syntax import RETURN, TRAVERSE, Term
from calculi.lambda_p.values import NotTransferable, to_term

# Frames of ``fs``, innermost first, as tuples (they are made at every non-tail call):
#   (body, env, next, bind)            LetF: bind the value (if ``bind``) in ``env`` and run ``body``
#   (ARGS, args, next, span)           ArgsF: apply the value to ``args``
#   (LATER, exprs, next, span, env)    apply the value to the value of exprs[0] in env, and so on
# Handler frames of ``meta``: (h, s, fs, meta) for handle h s □, whose continuation is (fs, meta);
# a ``ParF`` object for the iterations of a (parallel) loop.
ARGS, LATER = object(), object()


class HandlerV:
    """A handler's clauses, evaluated."""

    __slots__ = ("clauses", "node", "ops", "ret", "span", "trav")

    def __init__(self, code: Install, env: tuple[Any, ...]) -> None:
        self.clauses = {name: f(env) for name, f in code.clauses}
        self.ops = code.ops
        self.ret = self.clauses.get(RETURN)
        self.trav = self.clauses.get(TRAVERSE)
        self.span, self.node = code.span, code.handler


class LoopV:
    """for x:n. body in ``env``; iteration i runs inside ``wraps`` (handlers of PEPM'22's ℓ, each
    with the array its parameter is taken from, outermost first)."""

    __slots__ = ("body", "code", "env", "n", "simple", "span", "wraps")

    def __init__(self, n: int, code: Loop, env: tuple[Any, ...],
                 wraps: tuple[tuple[HandlerV, Any], ...]) -> None:
        self.n, self.code, self.env, self.wraps = n, code, env, wraps
        self.body, self.simple, self.span = code.body, code.simple, code.span

    def wrapped(self, h: HandlerV, ss: Any) -> LoopV:
        """The loop whose iteration i runs inside handle h (ss.i)."""
        return LoopV(self.n, self.code, self.env, ((h, ss), *self.wraps))

    def closed_body(self) -> Term:
        """The body as a term closed by the environment's values (its binder left free), for a
        worker process; ``NotTransferable`` when a value is a continuation."""
        values = {x: to_term(self.env[slot]) for x, slot in self.code.free}
        return substitute(self.code.term.body, values)


class ParF:
    """(parallel): the iterations of ``loop`` run one after another; ``fs``/``meta`` are the
    continuation of the loop. Never part of a captured continuation (operations stop at it)."""

    __slots__ = ("fs", "loop", "meta", "results")

    def __init__(self, loop: LoopV, fs: Any, meta: Any) -> None:
        self.loop, self.fs, self.meta = loop, fs, meta
        self.results: list[Any] = []


class Resume(tuple[Any, ...]):
    """k = λs. λx. handle h s E[x], as (fs, chain, h): the frames of E inside its innermost
    handler, the handler frames of E (innermost first), the handler that took the operation."""

    __slots__ = ()


class Resume1(tuple[Any, ...]):
    """k s, as (k, s), waiting for the value to resume with."""

    __slots__ = ()


class BodyK(tuple[Any, ...]):
    """ℓᵢ = λs. handle h s e[x:=i] (ICFP'24), as (h, loop, i)."""

    __slots__ = ()


class PepmL(tuple[Any, ...]):
    """ℓ = λss. for x:n. handle h (ss.x) e (PEPM'22), as (h, loop)."""

    __slots__ = ()


def perform(op: str, v: Any, fs: Any, meta: Any, span: Span | None) -> tuple[Any, ...]:
    """(perform) op v in the continuation (fs, meta): the innermost handler of op (so op ∉ bop(E)
    for the frames E passed), and what to apply next: its clause, to (s, v, k), in the
    continuation outside the handler. ``k`` holds E as it is (frames and handler frames)."""
    m, chain = meta, []
    while type(m) is tuple and op not in m[0].ops:
        chain.append(m)
        m = m[3]
    if type(m) is not tuple:
        raise unhandled(op, _shown(v), [o for frame in chain for o in frame[0].ops], span)
    h, s, outer_fs, outer_meta = m
    return h.clauses[op], (s, v, tuple.__new__(Resume, (fs, chain, h))), h.span, outer_fs, outer_meta


def _shown(v: Any) -> str:
    try:
        return show(to_term(v))
    except NotTransferable:
        return "<continuation>"


def resume(k: Resume, s: Any, x: Any, fs: Any, meta: Any) -> tuple[Any, Any, Any]:
    """k s x = handle h s E[x] in the continuation (fs, meta): the continuation of E put back on
    top of it (one handler frame per handler of E, the frames themselves shared), and x to give it.
    The machine then goes on from there, so a resumption never deepens the Python stack."""
    k_fs, chain, h = k
    meta = (h, s, fs, meta)
    for frame in reversed(chain):
        meta = (frame[0], frame[1], frame[2], meta)
    return k_fs, meta, x
