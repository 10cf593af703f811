"""The evaluator's fast path, taken when no cost is counted: a block's bindings in one loop.

A binding whose right-hand side is a primitive on variables, a call, a tuple or a ``dup`` of a
variable is evaluated in the loop itself (no frame for the rule, no ``(x̄ ; ẏ̄)`` pair built and
taken apart); the steps of fuel it spends, one a node as ``Evaluator.eval`` spends them, are added
at once when they fit (else the binding goes through the rules, which stop at the exact node).
Any other binding goes through the rules of ``eval.py``, as does every block when a cost is counted.

A primitive's implementation is read with the domain bound (``direct``): for the paper's and the
language's scalar primitives, the function their rule calls (``x * y`` is ``operator.mul``,
``sin`` the domain's ``sin``), as long as the rule in ``impl_rules`` is the one that function was
read from; otherwise the rule itself, the domain as its first argument.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from calculi.core.errors import CalculusError, StuckError
from calculi.linear_ad import primitives as P
from calculi.linear_ad.primitives import Value, impl_rules, vadd, vscale
from calculi.linear_ad.syntax import (
    Block,
    Call,
    Dup,
    LetB,
    LVar,
    Prim,
    Primitive,
    Ret,
    Tup,
    UnpackB,
    UnpackLB,
    Var,
)

if TYPE_CHECKING:
    from calculi.linear_ad.eval import Evaluator, MixedValue

Impl = Callable[..., Value]


def _method(name: str) -> Callable[[Any], Impl]:
    return lambda domain: getattr(domain, name)


_READS: list[tuple[Primitive, Callable[[Any], Impl]]] = [
        (P.ADD, lambda d: operator.add), (P.MUL, lambda d: operator.mul), (P.SUB, lambda d: operator.sub),
        (P.NEG, lambda d: operator.neg), (P.LADD, lambda d: vadd), (P.SCALE, lambda d: vscale),
        (P.LNEG, lambda d: partial(vscale, -1)),
        *((p, _method(p.name)) for p in (P.SIN, P.COS, P.EXP, P.DIV, P.POW, P.LOG, P.TANH, P.SQRT,
                                         P.LOGISTIC, P.ABS, P.MAX, P.MIN, P.HEAVISIDE))]
_DIRECT = {p: (impl_rules[p], read) for p, read in _READS}
"""Each scalar primitive's rule as read at start-up, and the function it applies on a domain."""


def direct(domain: Any, p: Primitive) -> Impl:
    """``p``'s implementation on ``domain``, applied to the argument values alone."""
    entry = _DIRECT.get(p)
    rule = impl_rules[p]
    if entry is not None and entry[0] is rule:
        return entry[1](domain)
    return partial(rule, domain)


def block(ev: Evaluator, e: Block, env: dict[int, Value]) -> MixedValue:
    """⟦let b̄ in r⟧ with no cost counted: the same values, and the same steps of fuel, as the rules."""
    fuel = ev.fuel
    impls = ev.direct
    bindings: tuple[Any, ...] = e.bindings  # (each read by the type tested, unchecked)
    for b in bindings:
        tb = type(b)
        if tb is LetB:
            rhs = b.rhs
            tr = type(rhs)
            if tr is Prim and not rhs.params:
                xs, ys = rhs.args, rhs.largs
                nx = len(xs)
                both = xs + ys if ys else xs
                n = len(both)  # the operands, each a variable of its position's kind (else nested)
                vals: tuple[Value, ...] | None
                if n == 2:
                    a, c = both
                    vals = (env[a.name], env[c.name]) if type(a) is (Var if nx else LVar) and type(
                        c) is (Var if nx == 2 else LVar) else None
                elif n == 1:
                    a = both[0]
                    vals = (env[a.name],) if type(a) is (Var if nx else LVar) else None
                else:
                    vals = operands(xs, ys, env)
                used = fuel.used + 1 + n  # the primitive and each variable read
                p = rhs.prim
                if vals is not None and used <= fuel.limit:
                    fuel.used = used
                    impl = impls.get(id(p))
                    if impl is None:
                        impl = impls[id(p)] = direct(ev.domain, p)
                    try:
                        value = impl(*vals)
                    except CalculusError as err:
                        raise type(err)(err.reason, rhs.span, rule=p.name) from None
                    except (ArithmeticError, ValueError, TypeError) as err:
                        raise StuckError(f"{p.name} failed: {err}", rhs.span, rule=p.name) from None
                else:
                    fuel.used += 1
                    if fuel.used > fuel.limit:
                        fuel.used -= 1
                        fuel.tick(rhs.span)
                    value = apply(ev, rhs, env)
                if p.linear:
                    env[b.lbinders[0].name] = value
                else:
                    env[b.binders[0].name] = value
                continue
            elif tr is Call:
                fuel.used += 1
                if fuel.used > fuel.limit:
                    fuel.used -= 1
                    fuel.tick(rhs.span)
                xs, ys = rhs.args, rhs.largs
                args = [env[xs[0].name]] if len(xs) == 1 else [env[v.name] for v in xs]
                largs = [env[ys[0].name]] if len(ys) == 1 else [env[v.name] for v in ys] if ys else []
                nl, ln = ev._call(rhs.func, args, largs)
                binders, lbinders = b.binders, b.lbinders  # bind(b, nl, ln, env), inline
                if len(binders) == 1:
                    env[binders[0].name] = nl[0]
                elif len(binders) == 2:  # (a result and a tape)
                    x, y = binders
                    env[x.name], env[y.name] = nl
                elif binders:
                    for x, v in zip(binders, nl, strict=True):
                        env[x.name] = v
                if len(lbinders) == 1:
                    env[lbinders[0].name] = ln[0]
                elif lbinders:
                    for x, v in zip(lbinders, ln, strict=True):
                        env[x.name] = v
                continue
            elif tr is Tup:
                fuel.used += 1
                if fuel.used > fuel.limit:
                    fuel.used -= 1
                    fuel.tick(rhs.span)
                xs = rhs.vars
                if len(xs) == 2:
                    env[b.binders[0].name] = (env[xs[0].name], env[xs[1].name])
                    continue
                items: list[Value] = []
                for v in xs:
                    items.append(env[v.name])
                env[b.binders[0].name] = tuple(items)
                continue
            elif tr is Dup:
                a = rhs.arg
                used = fuel.used + 2  # the dup and the variable
                if type(a) is LVar and used <= fuel.limit:
                    fuel.used = used
                    value = env[a.name]
                    one, two = b.lbinders
                    env[one.name] = value
                    env[two.name] = value
                    continue
            nl, ln = ev.eval(rhs, env)  # any other right-hand side, by its rule
            bind(b, nl, ln, env)
        elif tb is UnpackB or tb is UnpackLB:
            for x, v in zip(b.binders if tb is UnpackB else b.lbinders, env[b.var.name], strict=True):
                env[x.name] = v
    r: Any = e.result
    if type(r) is not Ret:
        return ev.eval(r, env)
    fuel.used += 1
    if fuel.used > fuel.limit:
        fuel.used -= 1
        fuel.tick(r.span)
    xs, ys = r.vars, r.lvars
    if len(xs) == 2 and not ys:  # (a tape's pair of results, and a cotangent: the common results)
        return (env[xs[0].name], env[xs[1].name]), ()
    if len(ys) == 1 and not xs:
        return (), (env[ys[0].name],)
    out: list[Value] = []
    for v in xs:
        out.append(env[v.name])
    lout: list[Value] = []
    for w in ys:
        lout.append(env[w.name])
    return tuple(out), tuple(lout)


def apply(ev: Evaluator, e: Prim, env: dict[int, Value]) -> Value:
    """The value of ``e`` (no parameters; its own step spent): ``ev.prim`` with no cost counted,
    a primitive operand of its position's kind applied here in turn, one step a node."""
    fuel = ev.fuel
    vals: list[Value] = []
    linear = False
    kinds: tuple[tuple[Any, ...], ...] = (e.args, e.largs)
    for operands in kinds:
        for a in operands:
            ta = type(a)
            if ta is (LVar if linear else Var):
                fuel.used += 1
                if fuel.used > fuel.limit:
                    fuel.used -= 1
                    fuel.tick(a.span)
                vals.append(env[a.name])
            elif ta is Prim and not a.params and a.prim.linear is linear:
                fuel.used += 1
                if fuel.used > fuel.limit:
                    fuel.used -= 1
                    fuel.tick(a.span)
                vals.append(apply(ev, a, env))
            else:
                vals.append(ev.eval(a, env)[linear][0])
        linear = True
    p = e.prim
    impl = ev.direct.get(id(p))
    if impl is None:
        impl = ev.direct[id(p)] = direct(ev.domain, p)
    try:
        return impl(*vals)
    except CalculusError as err:
        raise type(err)(err.reason, e.span, rule=p.name) from None
    except (ArithmeticError, ValueError, TypeError) as err:
        raise StuckError(f"{p.name} failed: {err}", e.span, rule=p.name) from None


def operands(xs: tuple[Any, ...], ys: tuple[Any, ...], env: dict[int, Value]) -> tuple[Value, ...] | None:
    """The values of a primitive's operands when each is a variable of its position's kind."""
    vals: list[Value] = []
    for a in xs:
        if type(a) is not Var:
            return None
        vals.append(env[a.name])
    for a in ys:
        if type(a) is not LVar:
            return None
        vals.append(env[a.name])
    return tuple(vals)


def bind(b: LetB, nl: tuple[Value, ...], ln: tuple[Value, ...], env: dict[int, Value]) -> None:
    binders, lbinders = b.binders, b.lbinders
    if len(binders) == 1:  # the common patterns: one name of either kind
        env[binders[0].name] = nl[0]
    elif binders:
        for x, v in zip(binders, nl, strict=True):
            env[x.name] = v
    if len(lbinders) == 1:
        env[lbinders[0].name] = ln[0]
    elif lbinders:
        for y, v in zip(lbinders, ln, strict=True):
            env[y.name] = v

