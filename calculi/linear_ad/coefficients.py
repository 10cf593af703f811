"""Saving pullback coefficients: the unzip policy ``save-coefficients``.

J keeps each rule's scale coefficient inline, ``cos v ⊙ v̇``, and unzip leaves that expression in
the linear half, so every run of the pullback computes ``cos v`` again from the tape's ``v``.
Under ``save-coefficients`` J binds each coefficient first (``let c = cos v in c ⊙ v̇``, the
backend's ``bind_scales``), and unzip saves every binding: the coefficients are computed once, in
the non-linear half, and go on the tape.

The trade, for each function g (W_own: the work of g's own code, calls excluded):

    W_own(g.lin)   under save-all = W_own(g.lin)   under save-coefficients + W(coefficients of g)
    W_own(g.nonlin) under save-all = W_own(g.nonlin) under save-coefficients − W(coefficients of g)
    |tape(g)| under save-coefficients ≤ |tape(g)| under save-all + B(g)

where B(g) is the size of g's coefficients plus B(h) for every call of h in g (a call's tape is
part of g's): the linear half's work falls by exactly the coefficients' work, which moves to the
non-linear half, and the tape grows by at most the coefficients (it can also shrink: a value the
linear half only needed to compute a coefficient leaves the tape).
"""

from __future__ import annotations

from calculi.linear_ad.check import Typing
from calculi.linear_ad.eval import static_work
from calculi.linear_ad.syntax import Call, Expr, LetB, Lit, Prim, Var, subexpressions


class SaveCoefficients:
    """The policy ``save-coefficients``: save every binding, on a JVP whose coefficients are bound."""

    bind_scales = True
    """Read by ``ad.linearize``: J binds the rules' scale expressions before unzipping."""

    def __call__(self, b: LetB) -> bool:
        return True

    def __repr__(self) -> str:
        return "save_coefficients"


save_coefficients = SaveCoefficients()


def coefficients(e: Expr) -> list[Expr]:
    """The scale coefficients in ``e``: non-atomic constant arguments of linear primitives (what
    ``save-coefficients`` binds and saves; an atom is already a variable or a literal)."""
    return [a for node in subexpressions(e) if isinstance(node, Prim) and node.prim.linear
            for a in node.args if not isinstance(a, Var | Lit)]


def coefficient_work(typing: Typing, name: str) -> int:
    """W of the coefficients of ``name``'s own code (a checked JVP'd program, coefficients inline)."""
    return sum(static_work(typing, c, calls=False) for c in coefficients(typing.signatures[name].body))


def coefficient_bound(typing: Typing, name: str, memo: dict[str, int] | None = None) -> int:
    """B(name): the size of its coefficients, plus B(h) for each call of h in its body."""
    memo = {} if memo is None else memo
    if name in memo:
        return memo[name]
    body = typing.signatures[name].body
    total = sum(typing.type_of(c).nonlin[0].size() for c in coefficients(body))
    total += sum(coefficient_bound(typing, node.func, memo) for node in subexpressions(body)
                 if isinstance(node, Call))
    memo[name] = total
    return total
