"""Linear A's small-step semantics: one named rule per step, by substitution (the oracle for traces).

A run starts from a call ``f(v̄ ; v̇̄)`` of values and rewrites a *closed* term until it is a value
``(v̄ ; v̇̄)``. Each step fires one rule, named after the construct it eliminates (the reference's
names in brackets):

    call      f(v̄ ; v̇̄)                      →  e[x̄ ↦ v̄, ẏ̄ ↦ v̇̄]     (def f(x̄ ; ẏ̄) = e)       [App]
    let       let (x̄ ; ẏ̄) = (v̄ ; v̇̄) in e    →  e[x̄ ↦ v̄, ẏ̄ ↦ v̇̄]                              [LetMixed]
    unpack    let (x̄) = unpack (v̄) in e       →  e[x̄ ↦ v̄]                                      [LetUnpack]
    unpackL   let (ẋ̄) = unpackL ⟨v̄⟩ in e      →  e[ẋ̄ ↦ ⟨v̄⟩]                                    [LetUnpackLin]
    tup       tup(v̄)   →  (v̄)                  tupL   tupL(v̇̄)  →  ⟨v̇̄⟩
    0         0        →  ⟨0⟩                  dup    dup(⟨v⟩)  →  (; ⟨v⟩, ⟨v⟩)
    drop      drop(e)  →  (;)                  (e is not evaluated, as in the authors' prototype)
    prim:p    p(v̄)     →  ⟦p⟧(v̄)               ⊕ / ⊙  ⟨u⟩ ⊕ ⟨v⟩ → ⟨u + v⟩,  s ⊙ ⟨v⟩ → ⟨s·v⟩

Evaluation contexts are the right-hand side of a block's first binding and the operands of a
primitive or ``dup``, left to right; a step inside a context is named by the rule that fired there.
Literals ``r`` are values; a linear value prints in angle brackets, ``⟨1.5⟩``.

A term is an expression with the substitution still to be applied to it (``closed.Closed``: the
foil's ``add_subst`` records ``e[x ↦ v]``, applied where the next rule needs it; the trace prints
the substituted term). Each step touches only the first binding of a block, so a chain of 10^4
lets runs in 10^4 steps without recursion; nesting (calls, nested operands) recurses only as deep
as the program text nests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from calculi.core.errors import CalculusError, StuckError, UnboundError, UsageError
from calculi.core.syntax import Span
from calculi.core.trace import Fuel, Step
from calculi.foil.core import add_subst, identity_subst, lookup_subst, unsafe_binder, unsafe_name
from calculi.linear_ad.check import Typing
from calculi.linear_ad.closed import (
    Atom,
    Closed,
    LVal,
    MixedValue,
    NVal,
    State,
    Subst,
    close,
    lval,
    nval,
    show_mixed,
    show_state,
    show_term,
    show_value,
    substitute,
)
from calculi.linear_ad.eval import conforms
from calculi.linear_ad.primitives import (
    ADD,
    FLOAT,
    LADD,
    MUL,
    PRIMITIVES,
    SCALE,
    Value,
    impl_rules,
    params_dict,
)
from calculi.linear_ad.rules import fire
from calculi.linear_ad.syntax import (
    EMPTY,
    Binder,
    Binding,
    Block,
    Call,
    Drop,
    Dup,
    Expr,
    LetB,
    Lit,
    LVar,
    Prim,
    Primitive,
    Ret,
    Tup,
    TupL,
    UnpackB,
    UnpackLB,
    Var,
    Zero,
)

# -- rule names --------------------------------------------------------------------------------

PRIM_RULES: dict[Primitive, str] = {ADD: "prim:+", MUL: "prim:×", LADD: "⊕", SCALE: "⊙"}
"""The rule of a primitive application, by primitive; any other primitive ``p`` is ``prim:p``."""


def prim_rule(p: Primitive) -> str:
    return PRIM_RULES.get(p, f"prim:{p.name}")


STRUCTURAL_RULES = ("call", "let", "unpack", "unpackL", "tup", "tupL", "0", "dup", "drop")


def is_rule(name: str) -> bool:
    """Is ``name`` a rule of this semantics (a structural rule, or that of a registered primitive)?"""
    return name in STRUCTURAL_RULES or name in {prim_rule(p) for p in PRIMITIVES.values()}


# -- the rules -----------------------------------------------------------------------------------

Reduct = tuple[str, Expr, Subst]
Rule = Callable[["_Machine", Any, Subst], Reduct]


class _Machine:
    """One program and scalar domain: values, contexts, and the rule table's helpers."""

    __slots__ = ("domain", "typing")

    def __init__(self, typing: Typing, domain: Any) -> None:
        self.typing = typing
        self.domain = domain

    def lookup(self, v: Var | LVar, subst: Subst) -> Atom:
        def unbound(name: Any) -> Atom:
            raise StuckError(f"free variable {v.hint} in a closed term", v.span)

        if isinstance(v, NVal | LVal):
            return v
        atom: Atom = lookup_subst(subst, unsafe_name(v.name), unbound)
        return atom

    def value(self, e: Expr, subst: Subst) -> MixedValue | None:
        """The value of ``e[σ]`` when it is a value: a literal, a (substituted) atom, a return of them."""
        if isinstance(e, Var | LVar):
            atom = self.lookup(e, subst)
            if isinstance(atom, NVal):
                return (atom.value,), ()
            if isinstance(atom, LVal):
                return (), (atom.value,)
            raise StuckError(f"variable {e.hint} is bound to a name, not a value", e.span)
        if isinstance(e, Lit):
            return (self.domain.literal(e.text),), ()
        if isinstance(e, Ret):
            return (tuple(self.scalar(v, subst) for v in e.vars),
                    tuple(self.scalar(v, subst) for v in e.lvars))
        if isinstance(e, Closed):
            return self.value(e.expr, e.subst)
        return None

    def scalar(self, v: Var | LVar, subst: Subst) -> Value:
        atom = self.lookup(v, subst)
        if not isinstance(atom, NVal | LVal):
            raise StuckError(f"variable {v.hint} is bound to a name, not a value", v.span)
        return atom.value

    def one(self, e: Expr, subst: Subst, linear: bool) -> Value | None:
        """The single (non-linear or linear) value of an operand, or ``None`` if it must step first."""
        v = self.value(e, subst)
        if v is None:
            return None
        values = v[1] if linear else v[0]
        if len(values) != 1 or len(v[0 if linear else 1]) != 0:
            raise StuckError(f"an operand returned {len(v[0])} ; {len(v[1])} values, not one", e.span)
        return values[0]

    def reduce(self, e: Expr, subst: Subst) -> Reduct | None:
        """One step of ``e[σ]``: (rule, e', σ'), or ``None`` when ``e[σ]`` is a value."""
        if isinstance(e, Closed):
            return self.reduce(e.expr, e.subst)
        if self.value(e, subst) is not None:
            return None
        rule = RULES.get(type(e))
        if rule is None:
            raise StuckError(f"no rule reduces {type(e).__name__}", e.span)
        return rule(self, e, subst)

    def inner(self, e: Expr, subst: Subst) -> tuple[str, Expr]:
        """A step inside an evaluation context; the stepped sub-term is closed."""
        reduct = self.reduce(e, subst)
        assert reduct is not None, "inner is called on non-values only"
        rule, e2, s2 = reduct
        return rule, close(e2, s2)


def rule_block(m: _Machine, e: Block, subst: Subst) -> Reduct:
    """The first binding of a block: step its right-hand side, or bind its values (let, unpack, unpackL)."""
    b, rest = e.bindings[0], e.bindings[1:]
    body = Block(rest, e.result, span=e.span) if rest else e.result
    if isinstance(b, LetB):
        v = m.value(b.rhs, subst)
        if v is None:
            rule, rhs = m.inner(b.rhs, subst)
            # let b1 in (let b2 … in e): the same term, split once so that later steps inside b1 and
            # its let rule do not copy the rest of a long chain.
            return rule, Block((LetB(b.binders, b.lbinders, rhs, span=b.span),), body, span=e.span), subst
        nl, ln = v
        if len(nl) != len(b.binders) or len(ln) != len(b.lbinders):
            raise StuckError(f"let binds {len(b.binders)} ; {len(b.lbinders)} names to "
                             f"{len(nl)} ; {len(ln)} values", b.span, rule="let")
        return "let", body, bind(bind(subst, b.binders, nl, nval), b.lbinders, ln, lval)
    if isinstance(b, UnpackB):
        t = m.scalar(b.var, subst)
        _arity(t, b.binders, b, "unpack")
        return "unpack", body, bind(subst, b.binders, t, nval)
    assert isinstance(b, UnpackLB)
    t = m.scalar(b.var, subst)
    _arity(t, b.lbinders, b, "unpackL")
    return "unpackL", body, bind(subst, b.lbinders, t, lval)


def _arity(t: Value, binders: tuple[Binder, ...], b: Binding, rule: str) -> None:
    if not isinstance(t, tuple) or len(t) != len(binders):
        raise StuckError(f"{rule} of a value that is not a {len(binders)}-tuple", b.span, rule=rule)


def bind(subst: Subst, binders: Sequence[Binder], values: Sequence[Value],
         atom: Callable[[Value], Atom]) -> Subst:
    """σ[x1 ↦ v1, …, xn ↦ vn] (the foil's ``add_subst``, once per binder)."""
    for b, v in zip(binders, values, strict=True):
        subst = add_subst(subst, unsafe_binder(b.name), atom(v))
    return subst


def rule_prim(m: _Machine, e: Prim, subst: Subst) -> Reduct:
    """Operands left to right (non-linear, then linear); then p(v̄ ; v̇̄) → ⟦p⟧(v̄ ; v̇̄)."""
    args: list[Value] = []
    for i, a in enumerate((*e.args, *e.largs)):
        linear = i >= len(e.args)
        v = m.one(a, subst, linear)
        if v is None:
            rule, a2 = m.inner(a, subst)
            operands = [*e.args, *e.largs]
            operands[i] = a2
            k = len(e.args)
            return rule, Prim(e.prim, tuple(operands[:k]), tuple(operands[k:]), e.params, span=e.span), subst
        args.append(v)
    name = prim_rule(e.prim)
    try:
        value = impl_rules[e.prim](m.domain, *args, **params_dict(e.params))
    except CalculusError as err:
        raise type(err)(err.reason, e.span, rule=name) from None
    except (ArithmeticError, ValueError, TypeError) as err:
        raise StuckError(f"{e.prim.name} failed: {err}", e.span, rule=name) from None
    return name, (lval(value) if e.prim.linear else nval(value)), identity_subst()


def rule_dup(m: _Machine, e: Dup, subst: Subst) -> Reduct:
    """dup(⟨v⟩) → (; ⟨v⟩, ⟨v⟩)."""
    v = m.one(e.arg, subst, True)
    if v is None:
        rule, a2 = m.inner(e.arg, subst)
        return rule, Dup(a2, span=e.span), subst
    return "dup", Ret((), (lval(v), lval(v)), span=e.span), identity_subst()


def rule_drop(m: _Machine, e: Drop, subst: Subst) -> Reduct:
    """drop(e) → (;), without evaluating e (as the authors' prototype; eval.py agrees)."""
    return "drop", EMPTY, identity_subst()


def rule_zero(m: _Machine, e: Zero, subst: Subst) -> Reduct:
    """0 : τ → ⟨0_τ⟩."""
    return "0", lval(e.type.zero(m.domain)), identity_subst()


def rule_tup(m: _Machine, e: Tup, subst: Subst) -> Reduct:
    """tup(v̄) → (v̄)."""
    return "tup", nval(tuple(m.scalar(v, subst) for v in e.vars)), identity_subst()


def rule_tupl(m: _Machine, e: TupL, subst: Subst) -> Reduct:
    """tupL(⟨v⟩̄) → ⟨v̄⟩."""
    return "tupL", lval(tuple(m.scalar(v, subst) for v in e.lvars)), identity_subst()


def rule_call(m: _Machine, e: Call, subst: Subst) -> Reduct:
    """f(v̄ ; v̇̄) → e_f[x̄ ↦ v̄, ẏ̄ ↦ v̇̄], where def f(x̄ ; ẏ̄) = e_f."""
    d = m.typing.signatures.get(e.func)
    if d is None:
        raise UnboundError(f"no function named {e.func}", e.span, rule="call")
    args = [m.scalar(v, subst) for v in e.args]
    largs = [m.scalar(v, subst) for v in e.largs]
    callee = bind(bind(identity_subst(), d.params, args, nval), d.lparams, largs, lval)
    return "call", d.body, callee


RULES: dict[type, Rule] = {
    Block: rule_block,
    Prim: rule_prim,
    Dup: rule_dup,
    Drop: rule_drop,
    Zero: rule_zero,
    Tup: rule_tup,
    TupL: rule_tupl,
    Call: rule_call,
}


# -- runs ----------------------------------------------------------------------------------------


def start(typing: Typing, name: str, args: Sequence[Value], largs: Sequence[Value] = (),
          domain: Any = FLOAT, span: Span | None = None) -> State:
    """The closed term ``f(v̄ ; v̇̄)``, after checking that the values fit f's parameters."""
    d = typing.signatures.get(name)
    if d is None:
        raise UnboundError(f"no function named {name}", span)
    if len(args) != len(d.params) or len(largs) != len(d.lparams):
        raise UsageError(f"{name} takes {len(d.params)} non-linear and {len(d.lparams)} linear "
                         f"arguments, got {len(args)} ; {len(largs)}", span)
    for i, (v, ty) in enumerate(zip([*args, *largs], [*d.param_types, *d.lparam_types], strict=True)):
        if not conforms(v, ty):
            raise UsageError(f"argument {i + 1} of {name} should be a value of type {ty}, got {v!r}", span)
    call = Call(name, tuple(nval(v) for v in args), tuple(lval(v) for v in largs), span=span)
    return State(typing, call, d.result, domain)


def step(state: State) -> Step[State] | None:
    """One step with the name of its rule, or ``None`` when the term is a value."""
    reduct = _Machine(state.typing, state.domain).reduce(state.term, identity_subst())
    if reduct is None:
        return None
    rule, e, subst = reduct
    return Step(rule, State(state.typing, close(e, subst), state.result, state.domain))


def value(state: State) -> MixedValue | None:
    """The value of a final term (``None`` if it can still step)."""
    return _Machine(state.typing, state.domain).value(state.term, identity_subst())


def steps(state: State, fuel: Fuel) -> Iterator[Step[State]]:
    """Every step to the value, each spending one unit of fuel."""
    machine = _Machine(state.typing, state.domain)
    term = state.term
    while (reduct := machine.reduce(term, identity_subst())) is not None:
        fuel.tick(term.span)
        rule, e, subst = reduct
        fire(f"→ {rule}")
        term = close(e, subst)
        yield Step(rule, State(state.typing, term, state.result, state.domain))


def run(state: State, fuel: Fuel | None = None) -> tuple[MixedValue, int]:
    """The value reached from ``state``, and the number of steps taken."""
    fuel = fuel if fuel is not None else Fuel()
    count = 0
    last = state
    for s in steps(state, fuel):
        count += 1
        last = s.term
    result = value(last)
    assert result is not None
    return result, count


def evaluate(typing: Typing, name: str, args: Sequence[Value], largs: Sequence[Value] = (),
             domain: Any = FLOAT, fuel: Fuel | None = None) -> MixedValue:
    """⟦f⟧(v̄ ; v̇̄) by the small-step semantics (``eval.evaluate`` is the fast evaluator)."""
    return run(start(typing, name, args, largs, domain), fuel)[0]


__all__ = ["PRIM_RULES", "RULES", "Atom", "Closed", "LVal", "MixedValue", "NVal", "State", "Subst", "bind",
           "close", "evaluate", "is_rule", "lval", "nval", "run", "show_mixed", "show_state", "show_term",
           "show_value", "start", "step", "steps", "substitute", "value"]
