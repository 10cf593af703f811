"""Desugaring helpers: the surface forms that are not in Fig. 1, written as core λp terms.

    x ← e1; e2      ≜ (λx. e2) e1            e1; e2 ≜ (λ_. e2) e1
    (a, b) ← e1; e2 ≜ case e1 of {(a, b) -> e2}
    if c then a else b ≜ case c of {True -> a | False -> b}
    for x:e. b      ≜ (λn. for x:n. b) e     (when the bound is not a value; Fig. 1 wants a value)
    ⟨e1, e2⟩, (e1, e2), Left e ≜ the components bound first, left to right (arrays hold values)
    handle h e       ≜ handle h' () e        (unparameterized: each clause ignores the parameter)
    handler h s e    ≜ handle h s (e ())     (the computation is a thunk)
    default traverse ≜ λn. λs. λℓ. λk. k s (for i:n. (ℓ.i) s)

Binders made here take any identifier: the parser renames the whole term to canonical de Bruijn
levels afterwards (``subst.canonical``), so they never capture.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from calculi.core.syntax import Span
from calculi.lambda_p.subst import canonical
from calculi.lambda_p.syntax import (
    RETURN,
    TRAVERSE,
    UNIT,
    App,
    Branch,
    For,
    Handler,
    Index,
    Lam,
    Term,
    Var,
    is_value,
)

# Identifiers for desugaring binders: far above any user binder, renamed away by canonical().
_BASE = 1 << 20


class Fresh:
    """A supply of binder identifiers for one desugaring run (renumbered canonically later)."""

    def __init__(self) -> None:
        self.next = _BASE

    def __call__(self) -> int:
        self.next += 1
        return self.next


def lam(fresh: Fresh, hint: str, body: Callable[[Var], Term], span: Span | None = None) -> Lam:
    x = fresh()
    return Lam(x, body(Var(x, hint, span=span)), hint, span=span)


def let(binder: int, hint: str, value: Term, body: Term, span: Span | None = None) -> Term:
    """let x = e1 in e2 ≜ (λx. e2) e1."""
    return App(Lam(binder, body, hint, span=span), value, span=span)


def seq(first: Term, rest: Term, fresh: Fresh, span: Span | None = None) -> Term:
    """e1; e2 ≜ (λ_. e2) e1."""
    return let(fresh(), "_", first, rest, span)


def values_first(
    parts: Sequence[Term], build: Callable[[tuple[Term, ...]], Term], fresh: Fresh, span: Span | None
) -> Term:
    """Bind the non-value parts (left to right) so that ``build`` receives values only."""
    bindings: list[tuple[int, Term]] = []
    args: list[Term] = []
    for part in parts:
        if is_value(part):
            args.append(part)
        else:
            x = fresh()
            bindings.append((x, part))
            args.append(Var(x, "v", span=part.span))
    out = build(tuple(args))
    for x, part in reversed(bindings):
        out = let(x, "v", part, out, span)
    return out


def for_loop(binder: int, hint: str, bound: Term, body: Term, fresh: Fresh, span: Span | None) -> Term:
    """for x:e. b, binding a non-value bound first."""
    if is_value(bound):
        return For(binder, bound, body, hint, span=span)
    n = fresh()
    return let(n, "n", bound, For(binder, Var(n, "n"), body, hint, span=span), span)


def default_traverse(fresh: Fresh, span: Span | None, variant: str = "icfp24") -> Term:
    """λn. λs. λℓ. λk. k s (for i:n. (ℓ.i) s)  (PEPM'22 §3.2, written for ICFP'24's array ℓ);
    for the PEPM'22 variant, where ℓ is one function of the parameters: λn s ℓ k. k s (ℓ (for i:n. s))."""
    i = fresh()
    if variant == "pepm22":
        return lam(
            fresh,
            "n",
            lambda n: lam(
                fresh,
                "s",
                lambda s: lam(
                    fresh,
                    "l",
                    lambda ell: lam(
                        fresh, "k", lambda k: App(App(k, s), App(ell, For(i, n, s, "i")), span=span), span
                    ),
                    span,
                ),
                span,
            ),
            span,
        )
    return lam(
        fresh,
        "n",
        lambda n: lam(
            fresh,
            "s",
            lambda s: lam(
                fresh,
                "l",
                lambda ell: lam(
                    fresh,
                    "k",
                    lambda k: App(App(k, s), For(i, n, App(Index(ell, Var(i, "i")), s), "i"), span=span),
                    span,
                ),
                span,
            ),
            span,
        ),
        span,
    )


def unparameterized(clauses: dict[str, Term], fresh: Fresh, span: Span | None) -> dict[str, Term]:
    """Clauses written without a parameter, made parameterized with parameter ``()``.

    return f    ≜ λ_. f                      op f ≜ λ_. λx. λk. f x (λy. k () y)
    traverse f  ≜ λn. λ_. λℓ. λk. f n ℓ (λxs. k () xs)   (ℓ.i applied to () runs iteration i)
    """

    def binder(hint: str) -> tuple[int, Var]:
        x = fresh()
        return x, Var(x, hint, span=span)

    def resume(k: Var) -> Term:
        y, y_var = binder("y")
        return Lam(y, App(App(k, UNIT), y_var), "y", span=span)

    out: dict[str, Term] = {}
    for name, f in clauses.items():
        s, _ = binder("_")
        k, k_var = binder("k")
        if name == RETURN:
            out[name] = Lam(s, f, "_", span=span)
        elif name == TRAVERSE:
            (n, n_var), (ell, ell_var) = binder("n"), binder("l")
            body = App(App(App(f, n_var), ell_var), resume(k_var))
            out[name] = Lam(n, Lam(s, Lam(ell, Lam(k, body, "k"), "l"), "_"), "n", span=span)
        else:
            x, x_var = binder("x")
            out[name] = Lam(s, Lam(x, Lam(k, App(App(f, x_var), resume(k_var)), "k"), "x"), "_", span=span)
    return out


IDENTITY_RETURN = Lam(0, Lam(1, Var(1)))


def is_identity_return(f: Term) -> bool:
    """Is the return clause λs. λx. x (so that ρ a = a and the default traverse is sound)?"""
    return canonical(f) == IDENTITY_RETURN


_DEFAULTS: list[Term] = []
_UNSOUND: dict[int, tuple[Handler, bool]] = {}


def unsound_traverse(h: Handler) -> bool:
    """Does ``h`` traverse loops with the default clause while its return clause is not the
    identity (so that (ℓ.i) s hands back handled answers, and changes to the parameter are lost)?
    Decided once per handler node, whether the default clause was added or written out."""
    hit = _UNSOUND.get(id(h))
    if hit is not None and hit[0] is h:
        return hit[1]
    if not _DEFAULTS:
        _DEFAULTS.extend(canonical(default_traverse(Fresh(), None, v)) for v in ("icfp24", "pepm22"))
    f_t, f_r = h.clause(TRAVERSE), h.clause(RETURN)
    out = f_t is not None and f_r is not None and canonical(f_t) in _DEFAULTS and not is_identity_return(f_r)
    if len(_UNSOUND) > 10_000:
        _UNSOUND.clear()
    _UNSOUND[id(h)] = (h, out)
    return out


def warn_traverse(
    h: Handler, loop_span: Span | None, warned: set[int], warn: Callable[[str], None] | None
) -> None:
    """When ``h`` traverses a loop: warn (once per handler of an evaluation, ``warned`` holding
    the ones seen) if ``unsound_traverse(h)``."""
    if warn is not None and id(h) not in warned:
        warned.add(id(h))
        if unsound_traverse(h):
            warn(_loop_warning(h.span, loop_span))


def _loop_warning(handler_span: Span | None, loop_span: Span | None) -> str:
    where = f"{loop_span}: " if loop_span is not None else ""
    return (
        f"{where}warning: this loop is traversed by the handler at {handler_span}, which has the default "
        "traverse clause and a return clause that is not the identity: the iterations hand back handled "
        "answers, and what they do to the handler's parameter is lost (runState is such a handler)"
    )


def handler(
    clauses: dict[str, Term],
    fresh: Fresh,
    span: Span | None,
    warn: Callable[[str], None],
    variant: str = "icfp24",
) -> Handler:
    """Complete a handler: add the default traverse clause, warning when it is unsound (§2.2)."""
    if TRAVERSE not in clauses:
        ret = clauses.get(RETURN)
        if ret is not None and not is_identity_return(ret):
            where = f"{span}: " if span is not None else ""
            warn(
                f"{where}warning: this handler uses the default traverse clause with a return clause that "
                "is not the identity; (ℓ.i) s then returns handled answers where k expects raw results"
            )
        clauses = {**clauses, TRAVERSE: default_traverse(fresh, span, variant)}
    return Handler(tuple(clauses.items()), span=span)


def branch(tag: str | None, binders: Sequence[tuple[int, str]], body: Term, span: Span | None) -> Branch:
    return Branch(tag, tuple(b for b, _ in binders), body, tuple(h for _, h in binders), span=span)
