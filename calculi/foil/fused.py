"""The trusted core's fused steps: where the foil's typed operations, composed, are written out
as the plain rapier writes them, so that the foil costs at run time what the rapier does.

Python charges for every call, and does not inline; so the steps a traversal takes at every node
are made here, once, from the operations of ``core.py`` they stand for, and the tests check each
against that composition:

* ``under_binder``: ``with_refreshed``; ``add_rename``; ``extend_scope``, then the continuation;
* ``lam_row`` / ``subst_row``: the λ row of a rule table, that step and the recursion into the
  body (the binder never leaves this module);
* ``machine``: the head loop of Krivine's machine with a foil ``Substitution`` as its environment
  (``extend_subst_owned``, ``lookup_subst_or`` and ``identity_subst`` on σ, at every β-step and
  every name).

Each takes and returns the foil's types at its boundary; inside, scopes, names and substitutions
are their erased selves (``phantom.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from calculi.core.trace import Fuel
from calculi.foil.names import SPELLINGS
from calculi.foil.phantom import NameBinder, Scope, Substitution, UnderK
from calculi.foil.scopes import WIDE, widen

N = TypeVar("N")
L = TypeVar("L")
I = TypeVar("I")  # noqa: E741  (the paper's name for an input scope)
I2 = TypeVar("I2")
O = TypeVar("O")  # noqa: E741  (the paper's name for an output scope)
V = TypeVar("V")
R = TypeVar("R")
A = TypeVar("A")
A_contra = TypeVar("A_contra", contravariant=True)


def under_binder(
    scope: Scope[O],
    subst: Substitution[V, I, O],
    binder: NameBinder[I, I2],
    inject: Callable[[Any], object],
    k: UnderK[O, I2, R],
) -> R:
    """The rapier's whole step at a binder, fused into one trusted call:

        x' = with_refreshed(Θ, x);  σ' = add_rename(σ, x, x');  Θ' = extend_scope(x', Θ);  k(x', Θ', σ')

    It means exactly that composition (the tests check it), and saves the interpreter the calls
    in between: Python charges for every function call, so this is how the foil gets close to the
    plain rapier's speed. ``inject`` builds the variable term of a name (``Var``)."""
    theta: Any = scope  # erased: Θ is an int bit set (or a scopes.Wide), σ a dict, names ints
    sigma: Any = subst
    x: Any = binder
    go: Any = k
    if theta >> x & 1:
        fresh = theta.bit_length()
        table = dict(sigma)
        table[x] = inject(fresh)
        return go(fresh, theta | 1 << fresh if fresh < WIDE else widen(theta, fresh), table)  # type: ignore[no-any-return]
    if x in sigma:
        sigma = dict(sigma)
        del sigma[x]
    return go(x, theta | 1 << x if x < WIDE else widen(theta, x), sigma)  # type: ignore[no-any-return]


class Into(Protocol[A_contra]):
    """The traversal a λ row goes on with under its binder: ``∀o i. Scope o -> Substitution v i o
    -> e i -> a -> e o``, generic in both scopes (``e`` is ``Any``: no higher-kinded types)."""

    def __call__(
        self, scope: Scope[O], subst: Substitution[Any, I, O], body: Any, payload: A_contra, /
    ) -> Any: ...


class IntoS(Protocol):
    """``Into`` without a payload: ``∀o i. Scope o -> Substitution v i o -> e i -> e o``."""

    def __call__(self, scope: Scope[O], subst: Substitution[Any, I, O], body: Any, /) -> Any: ...


class Build(Protocol):
    """The binder's constructor: ``∀n l. NameBinder n l -> e l -> hint -> e n`` (``Lam``)."""

    def __call__(self, binder: NameBinder[N, L], body: Any, hint: Any, /) -> Any: ...


def lam_row(build: Build, inject: Callable[[Any], object], into: Into[A]) -> Callable[..., Any]:
    """The λ row of a rule table over ``S(Θ, σ, ·)``, made here in the trusted core:

        row(Θ, σ, λx. e, _, a) = build(x', into(Θ ∪ {x'}, σ', e, a), hint)

    where ``x'``, ``σ'`` are ``under_binder``'s step with ``fresh_unspelled``'s fresh name, and the
    hint is the original binder's spelling (or its own hint). The binder ``x'`` and its scope never
    leave the core: ``into`` is generic in both scopes, so it cannot be fixed to one, and ``build``
    receives ``x'`` only to bind it. One Python call per binder (the row itself), as the plain
    rapier. The fourth argument (the machine's empty argument stack) is ignored."""
    go: Any = into
    make: Any = build

    def row(scope: Any, sigma: Any, term: Any, args: Any, payload: Any) -> Any:
        x = term.binder
        hint = term.hint
        if scope >> x & 1:
            fresh = scope.bit_length()
            ceiling = SPELLINGS.ceiling
            if fresh < ceiling:
                fresh = ceiling
            table = dict(sigma)
            table[x] = inject(fresh)
            inner = scope | 1 << fresh if fresh < WIDE else widen(scope, fresh)
            return make(fresh, go(inner, table, term.body, payload), x if hint is None else hint)
        if x in sigma:
            sigma = dict(sigma)
            del sigma[x]
        return make(x, go(scope | 1 << x if x < WIDE else widen(scope, x), sigma, term.body, payload),
                    x if hint is None else hint)

    return row


def subst_row(build: Build, inject: Callable[[Any], object], into: IntoS) -> Callable[..., Any]:
    """``lam_row`` for a table whose rules take ``(Θ, σ, e)`` only (substitution's):
    ``row(Θ, σ, λx. e) = build(x', into(Θ ∪ {x'}, σ', e), hint)``."""
    go: Any = into
    make: Any = build

    def row(scope: Any, sigma: Any, term: Any) -> Any:
        x = term.binder
        hint = term.hint
        if scope >> x & 1:
            fresh = scope.bit_length()
            ceiling = SPELLINGS.ceiling
            if fresh < ceiling:
                fresh = ceiling
            table = dict(sigma)
            table[x] = inject(fresh)
            inner = scope | 1 << fresh if fresh < WIDE else widen(scope, fresh)
            return make(fresh, go(inner, table, term.body), x if hint is None else hint)
        if x in sigma:
            sigma = dict(sigma)
            del sigma[x]
        return make(x, go(scope | 1 << x if x < WIDE else widen(scope, x), sigma, term.body),
                    x if hint is None else hint)

    return row


Head = tuple[Any, Any, list[Any]]
"""A machine stopped at ``(σ : I → O, e : Expr[I], arguments : list[Expr[O]])``, last argument
first; ``e`` is a λ (and there are no arguments) or a name σ leaves alone. The scope ``I`` is
existential (it changes with every β-step), which Python cannot state: hence ``Any``."""


class Machine(Protocol):
    """``∀o i. Scope o -> Substitution (e o) i o -> e i -> Fuel -> Head``."""

    def __call__(self, scope: Scope[O], subst: Substitution[Any, I, O], term: Any, fuel: Fuel, /) -> Head: ...


def machine(app: type, lam: type, substitute: IntoS) -> Machine:
    """Krivine's machine (call by name) over ``S(Θ, σ, e)``, run to a weak-head normal form:

        σ, e₁ e₂, ā    ↦  σ, e₁, S(Θ, σ, e₂) ā       (``substitute``: an argument substituted once)
        σ, λx. e, a ā  ↦  σ[x ↦ a], e, ā             (β: one unit of fuel, σ extended in place)
        σ, x, ā        ↦  id, σ(x), ā                (x ∈ dom σ)

    ``app`` and ``lam`` are the term's application and abstraction classes (fields ``fun``,
    ``arg``; ``binder``, ``body``, ``span``); any other term is a name (``name``). σ is extended in
    place (``extend_subst_owned``): the machine owns it, since every argument is substituted
    when it is pushed, so no other reference to σ sees it change."""
    go: Any = substitute
    application: Any = app
    abstraction: Any = lam

    def head_normal(scope: Any, subst: Any, term: Any, fuel: Fuel) -> Head:
        sigma = subst
        head = term
        args: list[Any] = []
        while True:
            if isinstance(head, application):
                args.append(go(scope, sigma, head.arg))
                head = head.fun
            elif isinstance(head, abstraction):
                if not args:
                    return sigma, head, args
                fuel.tick(head.span)
                sigma[head.binder] = args.pop()
                head = head.body
            else:
                value = sigma.get(head.name)
                if value is None:
                    return sigma, head, args
                sigma, head = {}, value

    return head_normal
