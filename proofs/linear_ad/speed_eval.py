"""Linear A's fast paths in the eval stage: theorems against their oracles, and their mutants.

With no cost counted, a block runs in one loop (``eval_fast.block``): a primitive on variables, a call,
a tuple, a ``dup`` and the result are evaluated in place, the steps of fuel added at once, and a
primitive is applied through ``eval_fast.direct`` (its rule's function, the domain bound). The oracles:
the rules one node at a time, as they run when a cost is counted (the same values bit for bit, the
same steps, the same node where fuel runs out), the rule table ``impl_rules``, and the definition of
``conforms``. (The small-step semantics checks the fast path too: ``linear_ad.semantics.agrees_with_eval``.)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from fractions import Fraction
from functools import partial
from typing import Any

from hypothesis import strategies as st

from calculi.core.errors import CalculusError
from calculi.core.mutants import Mutant, patch
from calculi.core.trace import Fuel
from calculi.linear_ad import eval as eval_module
from calculi.linear_ad import eval_fast
from calculi.linear_ad.ad import stages
from calculi.linear_ad.check import Typing
from calculi.linear_ad.eval import Cost, Evaluator
from calculi.linear_ad.primitives import FLOAT, FRACTION, SCALAR, Value, impl_rules
from calculi.linear_ad.strategies import linear_programs, nonlinear_programs, show
from calculi.linear_ad.syntax import Primitive, Program
from calculi.linear_ad.types import REAL, TupleType, Type
from proofs.linear_ad.fixtures import YOLO, linear_fixture, main_of
from proofs.registry import register_mutants, theorem


def value_of(ty: Type, leaves: Iterator[Any]) -> Value:
    """A value of type ``ty`` whose scalars are the next of ``leaves``."""
    return tuple(value_of(t, leaves) for t in ty.items) if isinstance(ty, TupleType) else next(leaves)


def outcome(ev: Evaluator, name: str, args: list[Value], largs: list[Value]) -> tuple[Any, ...]:
    """What a call gives, compared bit for bit (``repr``): its value, or its error where it stopped."""
    try:
        return "value", repr(ev.call(name, args, largs))
    except CalculusError as err:
        return "error", type(err).__name__, str(err), err.span


def agree(typing: Typing, domain: Any, points: list[Iterator[Any]]) -> None:
    """Every function of ``typing`` at each point: one fast evaluator for every call (a cache must
    not keep an argument value or one definition's code for another), a counting one for each."""
    fast = Evaluator(typing, domain)
    for leaves in points:
        for d in typing.program.defs:
            args = [value_of(t, leaves) for t in d.param_types]
            largs = [value_of(t, leaves) for t in d.lparam_types]
            reference = Evaluator(typing, domain, cost=Cost())
            before = fast.fuel.used
            got, expected = outcome(fast, d.name, args, largs), outcome(reference, d.name, args, largs)
            assert got == expected, f"{d.name}{args}{largs}: fast {got} ≠ rules {expected}"
            steps = fast.fuel.used - before
            assert steps == reference.fuel.used, f"{d.name}: {steps} steps ≠ the rules' {reference.fuel.used}"
            for limit in {steps // 2, steps - 1} - {-1}:  # fuel runs out at the same node
                short = outcome(Evaluator(typing, domain, Fuel(limit)), d.name, args, largs)
                counted = outcome(Evaluator(typing, domain, Fuel(limit), Cost()), d.name, args, largs)
                assert short == counted, f"{d.name} with {limit} steps: fast {short} ≠ rules {counted}"


def applied(impl: Callable[..., Value], values: list[Any]) -> tuple[str, ...]:
    """An implementation's value on ``values`` (``repr``), or its error."""
    try:
        return "value", repr(impl(*values))
    except (CalculusError, ArithmeticError, ValueError, TypeError) as err:
        return "error", type(err).__name__, str(err)


SAMPLES = [Fraction(3, 8), Fraction(-5, 4), Fraction(1, 2), Fraction(7, 3)]


@theorem("linear_ad.eval.fast_path_agrees", paper=YOLO, section="§1.2 (semantics)", label="derived",
         statement="with no cost counted, eval gives what its rules give one node at a time (as when a "
                   "cost is counted): the same value bit for bit, or the same error, in the same number "
                   "of steps, and with less fuel it stops at the same node; for every function of J, U "
                   "and T (floats) and of a linear program and its transpose (Fractions), at two points "
                   "on one evaluator; and each scalar primitive's direct implementation is its rule",
         given={"nonlinear": nonlinear_programs(), "linear": linear_programs()}, show=show)
def _(nonlinear: Program, linear: Program) -> None:
    for p in SCALAR:
        xs = SAMPLES[: (p.arity or 0) + p.larity]
        for domain, values in ((FLOAT, [float(x) for x in xs]), (FRACTION, xs)):
            fast = applied(eval_fast.direct(domain, p), values)
            rule = applied(partial(impl_rules[p], domain), values)
            assert fast == rule, f"{p.name} on {domain.name}: direct {fast} ≠ rule {rule}"
    typing, name = main_of(nonlinear)
    st_ = stages(typing, name)
    for t in (st_.source, st_.jvp, st_.unzipped, st_.transposed):
        agree(t, FLOAT, [(0.375 + k / 16 for k in itertools.count()),
                         (-0.625 + k / 32 for k in itertools.count())])
    typing, _, t, _ = linear_fixture(linear)
    for t_ in (typing, t):
        agree(t_, FRACTION, [(Fraction(5 + 2 * k, 7) for k in itertools.count()),
                             (Fraction(-3 - k, 5) for k in itertools.count())])


def conforms_by_definition(value: Any, ty: Type) -> bool:
    """Tuples by shape, ℝ any scalar, other types trusted: the definition, recursively."""
    if isinstance(ty, TupleType):
        return isinstance(value, tuple) and len(value) == len(ty.items) and all(
            conforms_by_definition(v, t) for v, t in zip(value, ty.items, strict=True))
    if ty == REAL:
        return not isinstance(value, tuple)
    return True


TYPES = st.recursive(st.just(REAL), lambda inner: st.lists(inner, max_size=3).map(
    lambda items: TupleType(tuple(items))), max_leaves=8)
VALUES = st.recursive(st.floats(allow_nan=False) | st.integers(),
                      lambda inner: st.lists(inner, max_size=3).map(tuple), max_leaves=8)


@theorem("linear_ad.eval.conforms_is_its_definition", paper=YOLO, section="§1.2 (semantics)",
         label="derived", statement="conforms (a loop over a stack, scalar items checked in place) answers "
                                    "as its recursive definition, on values of every shape and on values "
                                    "built for the type",
         given={"value": VALUES, "ty": TYPES})
def _(value: Any, ty: Type) -> None:
    assert eval_module.conforms(value, ty) == conforms_by_definition(value, ty)
    built = value_of(ty, itertools.count())
    assert eval_module.conforms(built, ty) and conforms_by_definition(built, ty)
    bad = spoiled(ty)
    assert bad is None or not eval_module.conforms(bad, ty), f"{bad} conforms to {ty}"


def spoiled(ty: Type) -> Value | None:
    """A value of ``ty`` but for its first ℝ inside a tuple, which is a tuple (None if there is none)."""
    if not isinstance(ty, TupleType):
        return None
    for i, t in enumerate(ty.items):
        inner = ((0.5,) if t == REAL else spoiled(t))
        if inner is not None:
            return tuple(inner if j == i else value_of(u, itertools.count()) for j, u in enumerate(ty.items))
    return None


# -- mutants: each a slip in one shortcut ---------------------------------------------------------------

_correct_block = eval_fast.block
_correct_direct = eval_fast.direct
_correct_call = Evaluator._call
_correct_conforms = eval_module.conforms


def _block_step_short(ev: Evaluator, e: Any, env: dict[int, Value]) -> Any:
    """The fast block adds one step fewer than its nodes took."""
    out = _correct_block(ev, e, env)
    ev.fuel.used -= 1
    return out


def _block_pair_swapped(ev: Evaluator, e: Any, env: dict[int, Value]) -> Any:
    """The fast block's result of two variables comes back in reverse order."""
    nl, ln = _correct_block(ev, e, env)
    return (nl[::-1] if len(nl) == 2 else nl), ln


def _leaky_direct() -> Any:
    """A primitive's direct implementation cached by its shape: one primitive's code for another's."""
    seen: dict[tuple[int | None, int, bool], Any] = {}

    def direct(domain: Any, p: Primitive) -> Any:
        return seen.setdefault((p.arity, p.larity, p.linear), _correct_direct(domain, p))

    return direct


def _call_first_argument_kept(self: Evaluator, name: str, args: Any, largs: Any = ()) -> Any:
    """A one-parameter function's environment kept from its first call: the argument frozen."""
    kept = vars(self).setdefault("kept", {})
    if len(args) == 1:
        args = [kept.setdefault(name, args[0])]
    return _correct_call(self, name, args, largs)


def _conforms_scalars_trusted(value: Any, ty: Type) -> bool:
    """conforms with a tuple's ℝ items taken on trust."""
    if isinstance(ty, TupleType):
        return isinstance(value, tuple) and len(value) == len(ty.items) and all(
            t == REAL or _conforms_scalars_trusted(v, t) for v, t in zip(value, ty.items, strict=True))
    return not (ty == REAL and isinstance(value, tuple))


register_mutants([
    Mutant("linear_ad.eval_fast_block_step_short", "linear_ad",
           "the fast block spends one step of fuel fewer than its nodes take",
           lambda: patch(eval_module, "fast_block", _block_step_short), theorems="linear_ad.eval."),
    Mutant("linear_ad.eval_fast_block_pair_swapped", "linear_ad",
           "the fast block's result of two variables is returned in reverse order",
           lambda: patch(eval_module, "fast_block", _block_pair_swapped), theorems="linear_ad.eval."),
    Mutant("linear_ad.eval_fast_direct_by_shape", "linear_ad",
           "the fast block's implementation of a primitive is cached by arity, not by primitive",
           lambda: patch(eval_fast, "direct", _leaky_direct()), theorems="linear_ad.eval."),
    Mutant("linear_ad.eval_fast_argument_frozen", "linear_ad",
           "a one-parameter function keeps the argument value of its first call",
           lambda: patch(Evaluator, "_call", _call_first_argument_kept), theorems="linear_ad.eval."),
    Mutant("linear_ad.eval_conforms_scalars_trusted", "linear_ad",
           "conforms takes a tuple's ℝ items on trust (a tuple where ℝ is expected passes)",
           lambda: patch(eval_module, "conforms", _conforms_scalars_trusted), theorems="linear_ad.eval."),
])
