"""Big-step evaluation, parametric in the scalar domain, with a cost semantics.

    ⟦e⟧ : Val(Γ) × Val(Δ) → Val(τ̄) × Val(σ̄)

Values are domain scalars (float, Fraction, sympy expressions, complex, NumPy arrays) or tuples
of values; ``⊕`` and ``⊙`` act leaf-wise. ``drop e`` does not evaluate ``e`` (as in the authors'
prototype). The cost semantics charges each evaluated operation its weight (the table
``WEIGHTS`` and ``primitives.cost_rules``) under its operation class; a call costs its body.
With no cost counted, a block runs in ``eval_fast``'s loop instead (the same values and steps).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from calculi.core.errors import CalculusError, StuckError, UsageError
from calculi.core.syntax import Span
from calculi.core.trace import Fuel
from calculi.linear_ad.check import Typing
from calculi.linear_ad.eval_fast import bind, direct
from calculi.linear_ad.eval_fast import block as fast_block
from calculi.linear_ad.freevars import free_vars
from calculi.linear_ad.primitives import FLOAT, Value, cost_class, impl_rules, params_dict, work_of
from calculi.linear_ad.syntax import (
    Block,
    Call,
    Drop,
    Dup,
    Expr,
    LetB,
    Lit,
    LVar,
    Prim,
    Ret,
    Tup,
    TupL,
    UnpackB,
    UnpackLB,
    Var,
    Zero,
)
from calculi.linear_ad.types import REAL, TupleType, Type

# The cost model (reference §4 is a proposal; the weights live here so they can change).
# Literals cost 0 (as proposed); drop costs the size of every free variable of its argument, of
# both kinds (the proposal charges only the linear ones), so that J, unzip and transpose conserve
# it exactly; tuples and untuples of both kinds cost 0 (they swap under transpose).
WEIGHTS: dict[str, Callable[[Type], int]] = {
    "lit": lambda ty: 0,
    "0": lambda ty: ty.size(),
    "dup": lambda ty: ty.size(),
    "tup": lambda ty: 0,
    "tupL": lambda ty: 0,
    "unpack": lambda ty: 0,
    "unpackL": lambda ty: 0,
}

MixedValue = tuple[tuple[Value, ...], tuple[Value, ...]]


@dataclass(slots=True)
class Cost:
    """Work per operation class, and the number of occurrences of each operation."""

    work: Counter[str] = field(default_factory=Counter)
    ops: Counter[str] = field(default_factory=Counter)

    def charge(self, op: str, weight: int) -> None:
        self.work[op] += weight
        self.ops[op] += 1

    @property
    def total(self) -> int:
        return sum(self.work.values())


class Evaluator:
    """Evaluates the functions of a checked program."""

    def __init__(self, typing: Typing, domain: Any = FLOAT, fuel: Fuel | None = None,
                 cost: Cost | None = None) -> None:
        self.typing = typing
        self.domain = domain
        self.fuel = fuel if fuel is not None else Fuel()
        self.cost = cost
        self.direct: dict[int, Callable[..., Value]] = {}
        """Each primitive's implementation with the domain bound (``eval_fast.direct``), by identity."""

    def call(self, name: str, args: Sequence[Value], largs: Sequence[Value] = ()) -> MixedValue:
        """Run ``name`` on argument values, checking that they fit its parameter types."""
        self.check_arguments(name, args, largs)
        return self._call(name, args, largs)

    def check_arguments(self, name: str, args: Sequence[Value], largs: Sequence[Value] = (),
                        span: Span | None = None) -> None:
        """``name`` exists and takes values of these numbers and types (else an error at ``span``)."""
        d = self.typing.signatures.get(name)
        if d is None:
            raise UsageError(f"no function named {name}", span)
        if len(args) != len(d.params) or len(largs) != len(d.lparams):
            raise UsageError(f"{name} takes {len(d.params)} non-linear and {len(d.lparams)} linear "
                             f"arguments, got {len(args)} ; {len(largs)}", span)
        for i, (v, ty) in enumerate(zip([*args, *largs], [*d.param_types, *d.lparam_types], strict=True)):
            if not conforms(v, ty):
                raise UsageError(f"argument {i + 1} of {name} should be a value of type {ty}, got "
                                 f"{v!r}", span)

    def _call(self, name: str, args: Sequence[Value], largs: Sequence[Value] = ()) -> MixedValue:
        d = self.typing.signatures[name]
        ps, lps = d.params, d.lparams
        if len(ps) == 1 == len(args):  # (the common case: one parameter of each kind, or none)
            env = {ps[0].name: args[0]}
        else:
            env = {}
            for b, v in zip(ps, args, strict=True):
                env[b.name] = v
        if len(lps) == 1 == len(largs):
            env[lps[0].name] = largs[0]
        elif lps or largs:
            for b, v in zip(lps, largs, strict=True):
                env[b.name] = v
        body = d.body
        fuel = self.fuel  # self.eval(body, env), inline: one call less per call
        fuel.used += 1
        if fuel.used > fuel.limit:
            fuel.used -= 1
            fuel.tick(body.span)
        if type(body) is Block and self.cost is None:
            return fast_block(self, body, env)
        rule = EVAL.get(type(body))
        return rule(self, body, env) if rule is not None else self.eval_subclass(body, env)

    def _charge(self, op: str, weight: int) -> None:
        if self.cost is not None:
            self.cost.charge(op, weight)

    def eval(self, e: Expr, env: dict[int, Value]) -> MixedValue:
        fuel = self.fuel
        fuel.used += 1
        if fuel.used > fuel.limit:
            fuel.used -= 1
            fuel.tick(e.span)
        rule = EVAL.get(type(e))
        return rule(self, e, env) if rule is not None else self.eval_subclass(e, env)

    def eval_subclass(self, e: Expr, env: dict[int, Value]) -> MixedValue:
        """A subclass of a constructor is evaluated as that constructor."""
        rule = next((r for cls, r in EVAL.items() if isinstance(e, cls)), None)
        if rule is None:
            raise StuckError(f"cannot evaluate {type(e).__name__}", e.span)
        return rule(self, e, env)

    def var(self, e: Var, env: dict[int, Value]) -> MixedValue:
        return (env[e.name],), ()

    def lvar(self, e: LVar, env: dict[int, Value]) -> MixedValue:
        return (), (env[e.name],)

    def lit(self, e: Lit, env: dict[int, Value]) -> MixedValue:
        if self.cost is not None:
            self._charge("lit", WEIGHTS["lit"](self.typing.type_of(e).nonlin[0]))
        return (self.domain.literal(e.text),), ()

    def zero(self, e: Zero, env: dict[int, Value]) -> MixedValue:
        if self.cost is not None:
            self._charge("0", WEIGHTS["0"](e.type))
        return (), (e.type.zero(self.domain),)

    def ret(self, e: Ret, env: dict[int, Value]) -> MixedValue:
        return tuple([env[v.name] for v in e.vars]), tuple([env[v.name] for v in e.lvars])

    def tup(self, e: Tup, env: dict[int, Value]) -> MixedValue:
        if self.cost is not None:
            self._charge("tup", WEIGHTS["tup"](self.typing.type_of(e).nonlin[0]))
        return (tuple([env[v.name] for v in e.vars]),), ()

    def tupl(self, e: TupL, env: dict[int, Value]) -> MixedValue:
        if self.cost is not None:
            self._charge("tupL", WEIGHTS["tupL"](self.typing.type_of(e).lin[0]))
        return (), (tuple([env[v.name] for v in e.lvars]),)

    def dup(self, e: Dup, env: dict[int, Value]) -> MixedValue:
        _, (v,) = self.eval(e.arg, env)
        if self.cost is not None:
            self._charge("dup", WEIGHTS["dup"](self.typing.type_of(e).lin[0]))
        return (), (v, v)

    def drop(self, e: Drop, env: dict[int, Value]) -> MixedValue:
        if self.cost is not None:
            self._charge("drop", drop_weight(e, env_types(self.typing, e)))
        return (), ()

    def call_expr(self, e: Call, env: dict[int, Value]) -> MixedValue:
        return self._call(e.func, [env[v.name] for v in e.args], [env[v.name] for v in e.largs])

    def prim(self, e: Prim, env: dict[int, Value]) -> MixedValue:
        fuel = self.fuel
        args: list[Value] = []
        for a in e.args:  # a variable is read here, without a dispatch (it costs one step of fuel)
            if type(a) is Var:
                fuel.used += 1
                if fuel.used > fuel.limit:
                    fuel.used -= 1
                    fuel.tick(a.span)
                args.append(env[a.name])
            else:
                args.append(self.eval(a, env)[0][0])
        for a in e.largs:
            if type(a) is LVar:
                fuel.used += 1
                if fuel.used > fuel.limit:
                    fuel.used -= 1
                    fuel.tick(a.span)
                args.append(env[a.name])
            else:
                args.append(self.eval(a, env)[1][0])
        p = e.prim
        params = params_dict(e.params) if e.params else None
        if self.cost is not None:
            arg_types = [self.typing.type_of(a).nonlin[0] for a in e.args]
            larg_types = [self.typing.type_of(a).lin[0] for a in e.largs]
            t = self.typing.type_of(e)
            result = (t.lin or t.nonlin)[0]
            self._charge(cost_class.get(p, p.name),
                         work_of(p, arg_types, larg_types, result, params or {}))
        if params is None:
            impl = self.direct.get(id(p))
            if impl is None:
                impl = self.direct[id(p)] = direct(self.domain, p)
        else:
            impl = partial(impl_rules[p], self.domain, **params)
        try:
            value = impl(*args)
        except CalculusError as err:
            raise type(err)(err.reason, e.span, rule=p.name) from None
        except (ArithmeticError, ValueError, TypeError) as err:
            raise StuckError(f"{p.name} failed: {err}", e.span, rule=p.name) from None
        return ((), (value,)) if p.linear else ((value,), ())

    def block(self, e: Block, env: dict[int, Value]) -> MixedValue:
        if self.cost is None:
            return fast_block(self, e, env)
        fuel = self.fuel
        for b in e.bindings:
            if type(b) is LetB:
                rhs = b.rhs  # self.eval(rhs, env), inline: one call less per binding
                fuel.used += 1
                if fuel.used > fuel.limit:
                    fuel.used -= 1
                    fuel.tick(rhs.span)
                if type(rhs) is Call:  # (``call_expr``, inline: a call is one frame less)
                    assert isinstance(rhs, Call)
                    nl, ln = self._call(rhs.func, [env[v.name] for v in rhs.args],
                                        [env[v.name] for v in rhs.largs])
                else:
                    rule = EVAL.get(type(rhs))
                    nl, ln = rule(self, rhs, env) if rule is not None else self.eval_subclass(rhs, env)
                bind(b, nl, ln, env)
            elif type(b) is UnpackB:
                assert isinstance(b, UnpackB)
                if self.cost is not None:
                    self._charge("unpack", WEIGHTS["unpack"](TupleType(self.typing.unpack_types[id(b)][0])))
                for x, v in zip(b.binders, env[b.var.name], strict=True):
                    env[x.name] = v
            elif type(b) is UnpackLB:
                assert isinstance(b, UnpackLB)
                if self.cost is not None:
                    ltypes = self.typing.unpack_types[id(b)][1]
                    self._charge("unpackL", WEIGHTS["unpackL"](TupleType(ltypes)))
                for y, v in zip(b.lbinders, env[b.var.name], strict=True):
                    env[y.name] = v
        return self.eval(e.result, env)


EVAL: dict[type, Callable[[Evaluator, Any, dict[int, Value]], MixedValue]] = {
    Var: Evaluator.var, LVar: Evaluator.lvar, Lit: Evaluator.lit, Zero: Evaluator.zero, Ret: Evaluator.ret,
    Tup: Evaluator.tup, TupL: Evaluator.tupl, Prim: Evaluator.prim, Dup: Evaluator.dup, Drop: Evaluator.drop,
    Call: Evaluator.call_expr, Block: Evaluator.block,
}
"""The big-step rule of each constructor (a subclass of a constructor is evaluated as that constructor)."""


def env_types(typing: Typing, e: Drop) -> dict[int, Type]:
    return typing.drop_types.get(id(e), {})


def conforms(value: Value, ty: Type) -> bool:
    """Does a value fit a type? Tuples by shape, ℝ any scalar; other types (arrays) are trusted.
    (A loop over a stack: a tape nests as deep as the calls that wrote it.)"""
    stack = [(value, ty)]
    while stack:
        v, t = stack.pop()
        if isinstance(t, TupleType):
            items = t.items
            if not isinstance(v, tuple) or len(v) != len(items):
                return False
            for x, s in zip(v, items, strict=True):
                if s is REAL:  # (a scalar item, checked here rather than pushed)
                    if isinstance(x, tuple):
                        return False
                else:
                    stack.append((x, s))
        elif (t is REAL or t == REAL) and isinstance(v, tuple):
            return False
    return True


def drop_weight(e: Drop, types: dict[int, Type]) -> int:
    """W(drop e) = Σ |τ| over the free variables of e, both kinds."""
    nl, ln = free_vars(e.arg)
    return sum(types[n].size() for n in (*nl, *ln) if n in types)


def evaluate(typing: Typing, name: str, args: Sequence[Value], largs: Sequence[Value] = (),
             domain: Any = FLOAT, fuel: Fuel | None = None) -> MixedValue:
    return Evaluator(typing, domain, fuel).call(name, args, largs)


def cost_of(typing: Typing, name: str, args: Sequence[Value], largs: Sequence[Value] = (),
            domain: Any = FLOAT) -> Cost:
    """The cost of one call, by running it."""
    cost = Cost()
    Evaluator(typing, domain, cost=cost).call(name, args, largs)
    return cost


def static_work(typing: Typing, e: Expr, memo: dict[str, int] | None = None, calls: bool = True) -> int:
    """W(e) read off the program text: every node is evaluated exactly once (no conditionals;
    ``drop`` evaluates nothing), so this equals the cost semantics' total for any input.
    With ``calls=False``, a call costs nothing (the work of ``e``'s own code)."""
    memo = {} if memo is None else memo
    total = 0
    stack: list[Expr] = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, Lit):
            total += WEIGHTS["lit"](typing.type_of(node).nonlin[0])
        elif isinstance(node, Zero):
            total += WEIGHTS["0"](node.type)
        elif isinstance(node, Tup):
            total += WEIGHTS["tup"](typing.type_of(node).nonlin[0])
        elif isinstance(node, TupL):
            total += WEIGHTS["tupL"](typing.type_of(node).lin[0])
        elif isinstance(node, Dup):
            total += WEIGHTS["dup"](typing.type_of(node).lin[0])
            stack.append(node.arg)
        elif isinstance(node, Drop):
            total += drop_weight(node, env_types(typing, node))
        elif isinstance(node, Prim):
            t = typing.type_of(node)
            total += work_of(node.prim, [typing.type_of(a).nonlin[0] for a in node.args],
                             [typing.type_of(a).lin[0] for a in node.largs], (t.lin or t.nonlin)[0],
                             params_dict(node.params))
            stack.extend((*node.args, *node.largs))
        elif isinstance(node, Call) and calls:
            if node.func not in memo:
                memo[node.func] = static_work(typing, typing.signatures[node.func].body, memo)
            total += memo[node.func]
        elif isinstance(node, Block):
            for b in node.bindings:
                if isinstance(b, LetB):
                    stack.append(b.rhs)
                elif isinstance(b, UnpackB):
                    total += WEIGHTS["unpack"](TupleType(typing.unpack_types[id(b)][0]))
                elif isinstance(b, UnpackLB):
                    total += WEIGHTS["unpackL"](TupleType(typing.unpack_types[id(b)][1]))
            stack.append(node.result)
    return total


def function_work(typing: Typing, name: str, calls: bool = True) -> int:
    return static_work(typing, typing.signatures[name].body, calls=calls)
