"""Normalisation by evaluation on the foil: evaluate into semantic values, read back with names
drawn from the foil's scopes.

    eval   : Expr[I] × Env[I → O]  →  Value[O]
    reify  : Scope[O] × Value[O]    →  Expr[O]         (nf(e) = reify(Θ, eval(e, id)))

Values are weak-head normal forms: a ``Closure`` (a λ's compiled body and the values of its free
names: a flat closure) or a neutral term, a name of ``O`` applied to a spine of arguments
(``NVar``, ``NApp``). Arguments are passed unevaluated, as ``Thunk``s that are evaluated at most
once (call by need), so a term that normal order normalises is normalised here too, and an
argument used n times is evaluated once: the substitution normaliser evaluates it n times.

The term is compiled once, before it runs, into nested Python functions (one per constructor),
each taking the environment of its closest λ: a tuple holding the values of that λ's free names,
then its argument, so that a name is found by one index and a closure captures only its free
names (environments are extended by tuple concatenation, ``env + (a,)``: one C call, where
``(*env, a)`` builds a list first).

That compiled code, and the values it handles, are untyped (as the substitution machine's state
is): what is typed is the boundary, and the read-back, which goes under a closure the foil's
way: the binder is the closure's own name, refreshed when it clashes with Θ
(``with_refreshed_unspelled``; a refreshed binder keeps its hint, so ``y`` prints as ``y1``), the
closure is applied to that name (sunk into the extended scope ``L``) and the body is read back in
``L``. A read-back that reused the binder's name without refreshing it would capture (the mutant
``foil.nbe_no_refresh``).

Fuel counts β-steps: one per closure applied to an argument during evaluation (going under a
closure to read it back is not a β-step). With sharing this is usually far fewer than what the
substitution normaliser spends, and never more on generated terms (theorem
foil.nbe.agrees_with_nf). A divergent term ends with ``FuelExhausted`` located at the
application whose β-step ran out of fuel. Evaluation, compilation and read-back recurse on the
term and on the values, under ``deep``'s room (10⁵ levels); a β-step in tail position nests one
level too, so a divergent term given more fuel than that room ends with ``TooDeep``, located and
saying how many β-steps it took. Evaluation pauses Python's cycle
collector (``_no_cycle_collection``).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from calculi.core.trace import DEFAULT_FUEL, Fuel
from calculi.foil.core import (
    DExt,
    NameBinder,
    Scope,
    extend_scope,
    name_of,
    raw,
    unsafe_name,
    with_refreshed_unspelled,
)
from calculi.foil.deep import LIMIT, TooDeep
from calculi.foil.normalize import located
from calculi.foil.rules import operation
from calculi.foil.syntax import App, Expr, Lam, Var, names_of_scope, scope_of

N = TypeVar("N")
L = TypeVar("L")
O = TypeVar("O")  # noqa: E741

Code = Callable[[tuple[Any, ...]], "Value[Any]"]
"""Compiled code: the environment of the closest λ (free names' values, then the argument) to a
value."""


class Value(Generic[N]):
    """A weak-head normal form whose free names are in ``N``."""

    __slots__ = ()


class Closure(Value[N]):
    """``λx. e`` in an environment: ``code`` runs ``e`` on ``env + (argument,)``."""

    __slots__ = ("binder", "code", "env", "hint")

    def __init__(self, code: Code, env: tuple[Any, ...], binder: int, hint: int) -> None:
        self.code = code
        self.env = env
        self.binder = binder
        self.hint = hint


class NVar(Value[N]):
    """A name of ``N`` (a neutral term)."""

    __slots__ = ("name",)

    def __init__(self, name: int) -> None:
        self.name = name


class NApp(Value[N]):
    """A neutral term applied to an argument (a value or a ``Thunk``)."""

    __slots__ = ("arg", "fun")

    def __init__(self, fun: Value[N], arg: Any) -> None:
        self.fun = fun
        self.arg = arg


class Thunk:
    """An argument not yet evaluated; ``force`` evaluates it once and keeps the value."""

    __slots__ = ("code", "env", "value")

    def __init__(self, code: Code, env: tuple[Any, ...]) -> None:
        self.code: Code | None = code
        self.env: tuple[Any, ...] | None = env
        self.value: Value[Any] | None = None

    def force(self) -> Value[Any]:
        value = self.value
        if value is None:
            value = self.code(self.env)  # type: ignore[misc, arg-type]
            self.value, self.code, self.env = value, None, None
        return value


def force(value: Any) -> Value[Any]:
    return value.force() if value.__class__ is Thunk else value


class Compiler:
    """Compiles a term into ``Code``; ``tick`` is the fuel's, called once per β-step."""

    def __init__(self, term: Expr[Any], fuel: Fuel) -> None:
        self.tick = fuel.tick
        self.free = _free_of_lambdas(term)

    def compile(self, term: Expr[Any], slots: dict[int, int]) -> Code:
        if isinstance(term, Var):
            return _var(slots[term.name])  # type: ignore[index]
        if isinstance(term, Lam):
            return self.lam(term, slots)
        if isinstance(term, App):
            return self.app(term, slots)
        raise TypeError(f"not a term: {term!r}")

    def lam(self, term: Lam[Any, Any], slots: dict[int, int]) -> Code:
        free = self.free[id(term)]
        captured = tuple(slots[x] for x in free)
        inner = {x: i for i, x in enumerate(free)}
        inner[term.binder] = len(free)  # type: ignore[index]
        body = self.compile(term.body, inner)
        binder: int = term.binder  # type: ignore[assignment]
        hint = binder if term.hint is None else term.hint
        if not captured:
            return lambda env: Closure(body, (), binder, hint)
        if len(captured) == 1:
            (only,) = captured
            return lambda env: Closure(body, (env[only],), binder, hint)
        return lambda env: Closure(body, tuple([env[i] for i in captured]), binder, hint)

    def app(self, term: App[Any], slots: dict[int, int]) -> Code:
        fun = self.compile(term.fun, slots)
        arg = self.argument(term.arg, slots)
        tick, span = self.tick, term.span

        def run(env: tuple[Any, ...]) -> Value[Any]:
            f = fun(env)
            if f.__class__ is Closure:
                tick(span)
                return f.code(f.env + (arg(env),))  # noqa: RUF005
            return NApp(f, arg(env))

        return run

    def argument(self, term: Expr[Any], slots: dict[int, int]) -> Callable[[tuple[Any, ...]], Any]:
        """An argument's code: a name passes its value (or thunk) on, a λ is already a value, and
        anything else is delayed in a thunk."""
        if isinstance(term, Var):
            index = slots[term.name]  # type: ignore[index]
            return lambda env: env[index]
        code = self.compile(term, slots)
        if isinstance(term, Lam):
            return code
        return lambda env: Thunk(code, env)


def _var(index: int) -> Code:
    def run(env: tuple[Any, ...]) -> Value[Any]:
        value = env[index]
        return value.force() if value.__class__ is Thunk else value

    return run


def _free_of_lambdas(term: Expr[Any]) -> dict[int, tuple[int, ...]]:
    """For every λ of the term (by ``id``), its free names in a fixed order (iterative)."""
    out: dict[int, tuple[int, ...]] = {}
    results: list[frozenset[int]] = []
    stack: list[tuple[Expr[Any], bool]] = [(term, False)]
    while stack:
        t, done = stack.pop()
        if isinstance(t, Var):
            results.append(frozenset((t.name,)))  # type: ignore[arg-type]
        elif not done:
            stack.append((t, True))
            if isinstance(t, App):
                stack.append((t.arg, False))
                stack.append((t.fun, False))
            elif isinstance(t, Lam):
                stack.append((t.body, False))
        elif isinstance(t, App):
            arg = results.pop()
            results.append(results.pop() | arg)
        elif isinstance(t, Lam):
            free = results.pop() - {t.binder}
            out[id(t)] = tuple(sorted(free))
            results.append(free)
    return out


def evaluate(scope: Scope[N], term: Expr[N], fuel: Fuel) -> Value[N]:
    """eval(e) in the environment that maps each name of Θ to itself (a neutral name)."""
    names = names_of_scope(scope)
    code = Compiler(term, fuel).compile(term, {x: i for i, x in enumerate(names)})
    return code(tuple(NVar(x) for x in names))


def instantiate(closure: Closure[N], binder: NameBinder[N, L], evidence: DExt[N, L]) -> Value[L]:
    """The closure's body, in the extended scope ``L``, applied to the bound name itself (the
    closure's environment, of scope ``N``, is sunk into ``L``: the identity)."""
    return closure.code(closure.env + (NVar(raw(name_of(binder))),))  # noqa: RUF005


def reify(scope: Scope[N], value: Value[N]) -> Expr[N]:
    """Read a value back as a term in Θ (normal form)."""
    if isinstance(value, Closure):
        return reify_closure(scope, value)
    args: list[Any] = []
    while isinstance(value, NApp):
        args.append(value.arg)
        value = value.fun
    assert isinstance(value, NVar)
    out: Expr[N] = Var(unsafe_name(value.name))
    while args:
        out = App(out, reify(scope, force(args.pop())))
    return out


def reify_closure(scope: Scope[N], closure: Closure[N]) -> Expr[N]:
    """λx'. reify(Θ ∪ {x'}, body[x ↦ x']) with x' the closure's binder, refreshed on a clash."""

    def under(binder: NameBinder[N, L], evidence: DExt[N, L]) -> Expr[N]:
        inner = extend_scope(binder, scope)
        return Lam(binder, reify(inner, instantiate(closure, binder, evidence)), closure.hint)

    return with_refreshed_unspelled(scope, unsafe_name(closure.binder), under)


@operation
def normalize_by_evaluation(term: Expr[N], fuel: Fuel | int | None = None) -> Expr[N]:
    """The β-normal form of ``term`` by evaluation and read-back, or ``FuelExhausted`` after
    ``fuel`` β-steps (see the module docstring for what counts)."""
    spent = fuel if isinstance(fuel, Fuel) else Fuel(DEFAULT_FUEL if fuel is None else fuel)
    scope = scope_of(term)
    with located(term, spent), _no_cycle_collection():
        try:
            return reify(scope, evaluate(scope, term, spent))
        except RecursionError:
            raise TooDeep(f"evaluation nested deeper than the room of {LIMIT:,} frames after "
                          f"{spent.used:,} β-steps: the term may diverge (a lower fuel limit stops "
                          "it sooner), or its normal form is that deep", term.span) from None


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Evaluation allocates millions of small objects and no reference cycles (environments are
    built before the thunks and closures that hold them; compiled code is a tree), so reference
    counting frees everything; the cycle collector would only rescan the growing heap (40% of the
    time on a 20,000-binding ``let``, and more than linear)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


__all__ = ["Closure", "NApp", "NVar", "Thunk", "Value", "evaluate", "normalize_by_evaluation", "reify"]
