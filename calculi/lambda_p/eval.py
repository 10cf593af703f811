"""The fast evaluator: compiled code (``compile``) run by a machine with an explicit continuation.

The continuation is two linked lists (``continuations``), so that the Python stack stays flat
whatever the program does (deep recursion, long runs of handled operations, resumptions of
resumptions):

* ``fs``, the frames of the current computation up to the innermost handler (``LetF``: bind the
  value and run the rest; ``ArgsF``: apply the value to further arguments). This is the pure
  context F of the paper.
* ``meta``, the handlers around it, innermost first: an ``HFrame`` is ``handle h s □`` with the
  frames and handlers outside it; a ``ParF`` runs the iterations of a (parallel) loop.

Effects keep their free-monad reading: an operation is handed to its handler together with its
continuation, the frames and handlers between the ``perform`` and the handler. Both lists are
immutable and shared, so taking that continuation costs one step per handler passed (not per
frame), and a resumption may be called any number of times:

    (perform)   E[perform op v] under handle h s  →  f_p s v k,  k = Resume(E, h): k s' x runs
                handle h s' E[x] in the caller's continuation
    (traverse)  F[for x:n. e] under handle h s    →  f_t n s ℓ k,  ℓ = ⟨BodyK(h, i)⟩ᵢ (ICFP'24) or
                PepmL(h) (PEPM'22),  k = Resume(F, h)
    (return)    v under handle h s                →  f_r s v
    (parallel)  F[for x:n. e] under no handler    →  the iterations one after another under a
                ``ParF`` (or in worker processes with ``jobs > 1``), then F[⟨v0, …⟩]

Fuel counts applications (one per argument) and loop iterations; the interrupt flag of ``deep``
is polled every ``POLL`` applications.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from calculi.core.syntax import Span
from calculi.core.trace import Fuel
from calculi.lambda_p import parallel
from calculi.lambda_p.compile import compile_term, value_of
from calculi.lambda_p.continuations import (
    ARGS,
    LATER,
    BodyK,
    HandlerV,
    LoopV,
    ParF,
    PepmL,
    Resume,
    Resume1,
    perform,
    resume,
)
from calculi.lambda_p.deep import CANCEL
from calculi.lambda_p.desugar import warn_traverse
from calculi.lambda_p.instructions import (
    Call,
    Cases,
    Code,
    If,
    Install,
    Let,
    LetS,
    Loop,
    Ret,
    const,
    project,
    select,
)
from calculi.lambda_p.stuck import bad_loop_bound, missing_clause, not_a_function
from calculi.lambda_p.syntax import RETURN, TRAVERSE, Lam, Term
from calculi.lambda_p.values import FALSE_V, TRUE_V, NotTransferable, VArr, VPerform, describe, to_term

POLL = 4096
NEXT = object()  # "the machine's registers hold the next code to run", as opposed to a value
RUN, APPLY, DELIVER = 0, 1, 2
_new = tuple.__new__


class Machine:
    """One evaluation: fuel, the variant of (traverse), how (parallel) runs, and the registers."""

    def __init__(
        self, fuel: Fuel, variant: str = "icfp24", jobs: int = 1, warn: Callable[[str], None] | None = None
    ) -> None:
        self.fuel, self.variant, self.jobs, self.warn = fuel, variant, jobs, warn
        self.warned: set[int] = set()
        self.c: Code = Ret(lambda env: None)
        self.env: tuple[Any, ...] = ()
        self.fs: Any = None
        self.meta: Any = None
        self.used = fuel.used
        self.check = min(fuel.limit, self.used + POLL)

    # -- the loop -------------------------------------------------------------------------------

    def run(self) -> Any:
        """Run from the registers to a value of the whole computation.

        One loop in three modes: RUN the code ``c`` in ``env``; APPLY ``f`` to ``args``; DELIVER
        the value ``v`` to the continuation. The common rules are written inline; the others are
        methods on the registers (``apply``, ``loop_event``, ``finish``), synchronised around them.
        """
        c: Any = self.c  # the loop dispatches on type(c) once; the registers are typed loosely
        f: Any = None
        env, fs, meta, v = self.env, self.fs, self.meta, None
        used, check = self.used, self.check
        mode, span = RUN, None
        args: tuple[Any, ...] = ()
        try:
            while True:
                if mode == RUN:
                    t = type(c)
                    if t is Call:
                        f = c.head
                        if f is None:
                            f = c.fn(env)
                        if type(f) is tuple:  # a closure
                            lam = f[0]
                            if c.n == lam.n:
                                used += c.n
                                if used > check:
                                    self.used = used
                                    check = self.checkpoint(c.span)
                                env = f[1] + c.argv(env)
                                c = lam.full if c.n > 1 else lam.body
                                continue
                        if c.later and not (type(f) is tuple and f[0].n > c.n):
                            args, span, mode = c.first(env), c.span, APPLY
                            fs = (LATER, c.later, fs, span, env)
                        else:
                            args, span, mode = c.argv(env), c.span, APPLY
                    elif t is If:
                        v = c.condition(env)
                        if v is TRUE_V:
                            c = c.then
                        elif v is FALSE_V:
                            c = c.otherwise
                        else:
                            c, bound = select(c.cases, v)
                        continue
                    elif t is Let:
                        fs = (c.body, env if c.trim is None else c.trim(env), fs, c.bind)
                        c = c.rhs
                        continue
                    elif t is LetS:
                        if c.bind:
                            v = c.rhs(env)
                            env = (env if c.trim is None else c.trim(env)) + (v,)
                        else:
                            c.rhs(env)
                            if c.trim is not None:
                                env = c.trim(env)
                        c = c.body
                        continue
                    elif t is Ret:
                        v, mode = c.expr(env), DELIVER
                    elif t is Cases:
                        v = c.scrutinee(env)
                        c, bound = select(c, v)
                        env = env + ((v,) if bound is None else bound)
                        continue
                    elif t is Install:
                        meta = (HandlerV(c, env), c.param(env), fs, meta)
                        fs = None
                        c = c.body
                        continue
                    else:
                        assert t is Loop
                        n = c.bound(env)
                        if type(n) is not int or n < 0:
                            raise bad_loop_bound(describe(n), c.span)
                        self.fs, self.meta, self.used = fs, meta, used
                        if c.trim is not None:
                            env = c.trim(env)
                        v = self.loop_event(LoopV(n, c, env, ()))
                        fs, meta, used, check = self.fs, self.meta, self.used, self.check
                        if v is NEXT:
                            c, env = self.c, self.env
                            continue
                        mode = DELIVER
                if mode == APPLY:
                    tf = type(f)
                    if tf is tuple:  # a closure
                        lam = f[0]
                        if len(args) == lam.n:
                            used += lam.n
                            if used > check:
                                self.used = used
                                check = self.checkpoint(span)
                            env = f[1] + args
                            c = lam.full if lam.n > 1 else lam.body
                            mode = RUN
                            continue
                    elif tf is VPerform and len(args) == 1:  # (perform)
                        f, args, span, fs, meta = perform(f.op, args[0], fs, meta, span)
                        continue
                    elif tf is Resume and len(args) == 2:  # k s x: handle h s E[x] here
                        used += 1
                        fs, meta, v = resume(f, args[0], args[1], fs, meta)
                        mode = DELIVER
                    elif tf is BodyK and len(args) == 1 and not f[1].wraps:  # ℓᵢ s: handle h s e[x:=i]
                        used += 1
                        h, loop, i = f
                        meta = (h, args[0], fs, meta)
                        fs, c, env, mode = None, loop.body, loop.env + (i,), RUN
                        continue
                    if mode == APPLY:
                        self.fs, self.meta, self.used = fs, meta, used
                        v = self.apply(f, args, span)
                        fs, meta, used, check = self.fs, self.meta, self.used, self.check
                        if v is NEXT:
                            c, env, mode = self.c, self.env, RUN
                            continue
                        mode = DELIVER
                # DELIVER v to the continuation
                if fs is not None:
                    kind = fs[0]
                    if kind is not ARGS and kind is not LATER:
                        c, env, fs, bind = fs
                        if bind:
                            env = env + (v,)
                        mode = RUN
                        continue
                    if kind is ARGS:
                        _, args, fs, span = fs
                    else:
                        _, later, fs, span, frame_env = fs
                        args = (later[0](frame_env),)
                        if len(later) > 1:
                            fs = (LATER, later[1:], fs, span, frame_env)
                    f, mode = v, APPLY
                    continue
                if meta is None:
                    return v
                if type(meta) is tuple:  # (return)
                    h = meta[0]
                    if h.ret is None:
                        raise missing_clause(RETURN, h.node.span)
                    f, args, span, mode = h.ret, (meta[1], v), h.span, APPLY
                    fs, meta = meta[2], meta[3]
                    continue
                self.fs, self.meta, self.used = fs, meta, used
                v = self.finish(v)
                fs, meta, used, check = self.fs, self.meta, self.used, self.check
                if v is NEXT:
                    c, env, mode = self.c, self.env, RUN
        finally:
            self.fuel.used = max(used, self.used)

    def checkpoint(self, span: Span | None) -> int:
        """Out of fuel, or interrupted; else the count at which to look again."""
        if self.used > self.fuel.limit:
            self.fuel.used = self.fuel.limit
            self.fuel.tick(span)
        if CANCEL.is_set():
            raise KeyboardInterrupt
        self.check = min(self.fuel.limit, self.used + POLL)
        return self.check

    def tick(self, amount: int, span: Span | None) -> None:
        self.used += amount
        if self.used > self.check:
            self.checkpoint(span)

    def goto(self, c: Code, env: tuple[Any, ...]) -> object:
        self.c, self.env = c, env
        return NEXT

    # -- the rules (on the registers; each returns a value or NEXT) ------------------------------

    def apply(self, f: Any, args: tuple[Any, ...], span: Span | None) -> Any:
        """(app) of a closure, (perform), or a function the machine made, to ``args``."""
        tf = type(f)
        if tf is tuple:  # a closure, given fewer or more arguments than it takes at once
            lam, captured = f
            take = lam.n if lam.n > 1 and len(args) >= lam.n else 1
            self.tick(take, span)
            if len(args) > take:
                self.fs = (ARGS, args[take:], self.fs, span)
            if take > 1:
                return self.goto(lam.full, captured + args[:take])
            return self.goto(lam.body, captured + (args[0],))
        if tf is Resume and len(args) >= 2:
            f, args = _new(Resume1, (f, args[0])), args[1:]
            tf = Resume1
        if len(args) > 1:
            self.fs = (ARGS, args[1:], self.fs, span)
        a = args[0]
        if tf is VPerform:
            f, args, span, self.fs, self.meta = perform(f.op, a, self.fs, self.meta, span)
            return self.apply(f, args, span)
        if tf is Resume1:
            self.tick(1, span)
            self.fs, self.meta, v = resume(f[0], f[1], a, self.fs, self.meta)
            return v
        if tf is Resume:
            return _new(Resume1, (f, a))
        if tf is BodyK:
            self.tick(1, span)
            h, loop, i = f
            self.meta = (h, a, self.fs, self.meta)
            self.fs = None
            return self.start(loop, i)
        if tf is PepmL:
            self.tick(1, span)
            return self.loop_event(f[1].wrapped(f[0], a))
        raise not_a_function(describe(f), span)

    def loop_event(self, loop: LoopV) -> Any:
        """A for reached through a pure context: (traverse) by the innermost handler, else (parallel)."""
        self.tick(loop.n, loop.span)
        m = self.meta
        if type(m) is tuple:
            h, s, outer_fs, outer = m
            if h.trav is None:
                raise missing_clause(TRAVERSE, h.node.span)
            warn_traverse(h.node, loop.span, self.warned, self.warn)
            if self.variant == "pepm22":
                ell: Any = _new(PepmL, (h, loop))
            else:
                ell = VArr(tuple([_new(BodyK, (h, loop, i)) for i in range(loop.n)]))
            k = _new(Resume, (self.fs, (), h))
            self.fs, self.meta = outer_fs, outer
            return self.apply(h.trav, (loop.n, s, ell, k), h.span)
        if loop.simple is not None and not loop.wraps:
            return VArr(tuple(self.pure_loop(loop)))
        if loop.n == 0:
            return VArr(())
        if parallel.worth_forking(loop.n, self.jobs) and not loop.wraps:
            try:
                body = loop.closed_body()
            except NotTransferable:
                body = None
            if body is not None:
                run = partial(iteration, self.variant, loop.code.term.binder, body)
                values = parallel.in_workers(range(loop.n), run, self.fuel, self.jobs, to_term, value_of)
                if values is not None:
                    return VArr(tuple(values))
        self.meta = ParF(loop, self.fs, self.meta)
        self.fs = None
        return self.start(loop, 0)

    def pure_loop(self, loop: LoopV) -> list[Any]:
        body, env, out = loop.simple, loop.env, []
        assert body is not None
        for start in range(0, loop.n, POLL):
            if CANCEL.is_set():
                raise KeyboardInterrupt
            out += [body(env + (i,)) for i in range(start, min(loop.n, start + POLL))]
        return out

    def start(self, loop: LoopV, i: int) -> object:
        """Run iteration i of ``loop`` in the current continuation."""
        for h, ss in loop.wraps:
            self.meta = (h, project(ss, i, loop.span), self.fs, self.meta)
            self.fs = None
        return self.goto(loop.body, loop.env + (i,))

    def finish(self, v: Any) -> Any:
        """A value ends an iteration of (parallel): run the next one, or deliver the array."""
        m = self.meta
        assert type(m) is ParF
        m.results.append(v)
        if len(m.results) < m.loop.n:
            self.fs = None
            if CANCEL.is_set():
                raise KeyboardInterrupt
            return self.start(m.loop, len(m.results))
        self.fs, self.meta = m.fs, m.meta
        return VArr(tuple(m.results))

_BODIES: dict[int, tuple[Term, Any]] = {}


def iteration(variant: str, binder: int, body: Term, i: int, fuel: Fuel) -> Any:
    """Iteration i of a (parallel) loop in a worker process: λx. body (closed, compiled once per
    chunk of iterations) applied to i."""
    hit = _BODIES.get(id(body))
    if hit is None or hit[0] is not body:
        if len(_BODIES) > 64:
            _BODIES.clear()
        hit = _BODIES[id(body)] = (body, value_of(Lam(binder, body)))
    machine = Machine(fuel, variant, 1)
    machine.c = Call(const(hit[1]), [const(i)], None)
    return machine.run()


def evaluate(
    term: Term,
    fuel: Fuel | None = None,
    variant: str = "icfp24",
    jobs: int = 1,
    warn: Callable[[str], None] | None = None,
) -> Any:
    """Run a closed term to its value (a run-time value; ``values.to_term`` reads it back)."""
    machine = Machine(fuel or Fuel(), variant, jobs, warn)
    machine.c = compile_term(term)
    return machine.run()

