"""Erasure ⟦·⟧ from Fp to λp (ICFP'24 App. D): types, coercions, Λ, type applications and effect
annotations go; ``⟦for x:Fin n. e⟧ = for x:n. ⟦e⟧`` keeps n. The result is a canonical λp
``Term``, run by λp's own interpreters; a top-level definition is replaced by its erasure.

    ⟦λ^ε x:τ. e⟧ = λx. ⟦e⟧     ⟦Λa:κ. v⟧ = ⟦v⟧     ⟦e τ⟧ = ⟦e⟧     ⟦e ⊳ τ⟧ = ⟦e⟧
    ⟦perform op^ε τ̄⟧ = perform op     ⟦handle[ρ, τ] h e1 e2⟧ = handle ⟦h⟧ ⟦e1⟧ ⟦e2⟧
"""

from __future__ import annotations

from collections.abc import Mapping

from calculi.lambda_p import desugar as ds
from calculi.lambda_p import fp_syntax as f
from calculi.lambda_p import syntax as lp
from calculi.lambda_p.subst import canonical


class Eraser:
    def __init__(self, defs: Mapping[str, f.Term], trusted: Mapping[str, lp.Term]) -> None:
        self.defs = defs
        self.trusted = trusted
        self.fresh = ds.Fresh()
        self.free: dict[str, int] = {}

    def go(self, t: f.Term, env: dict[str, int]) -> lp.Term:
        span = t.span
        match t:
            case f.Lit(value):
                return lp.Lit(value, span=span)
            case f.Var(name):
                if name not in env:  # a free variable erases to a variable (an open term)
                    env[name] = self.free.setdefault(name, self.fresh())
                return lp.Var(env[name], name, span=span)
            case f.Global(name):
                if name in self.trusted:
                    return self.trusted[name]
                return self.go(self.defs[name], {})
            case f.Lam(name, _, _, body):
                x = self.fresh()
                return lp.Lam(x, self.go(body, {**env, name: x}), name, span=span)
            case f.TAbs(_, _, body) | f.TyApp(body, _) | f.Coerce(body, _):
                return self.go(body, env)
            case f.Arr(items):
                return lp.Arr(tuple(self.go(i, env) for i in items), span=span)
            case f.Con(tag, args, _):
                return lp.Con(tag, tuple(self.go(a, env) for a in args), span=span)
            case f.Perform(op):
                return lp.Perform(op, span=span)
            case f.App(fn, arg):
                return lp.App(self.go(fn, env), self.go(arg, env), span=span)
            case f.For(name, bound, body):
                x = self.fresh()
                return lp.For(x, self.go(bound, env), self.go(body, {**env, name: x}), name, span=span)
            case f.Index(array, index):
                return lp.Index(self.go(array, env), self.go(index, env), span=span)
            case f.Handle(_, _, handler, param, body):
                clauses = tuple((n, self.go(c, env)) for n, c in handler.clauses)
                h = lp.Handler(clauses, span=handler.span)
                return lp.Handle(h, self.go(param, env), self.go(body, env), span=span)
            case f.Let(name, rhs, body):
                x = self.fresh()
                lam = lp.Lam(x, self.go(body, {**env, name: x}), name, span=span)
                return lp.App(lam, self.go(rhs, env), span=span)
            case f.If(c, a, b):
                branches = (ds.branch("True", [], self.go(a, env), span),
                            ds.branch("False", [], self.go(b, env), span))
                return lp.Case(self.go(c, env), branches, span=span)
            case f.Prim("fst" | "snd" as op, (pair,)):
                x, y = self.fresh(), self.fresh()
                pattern = ds.branch(lp.TUPLE, [(x, "a"), (y, "b")], lp.Var(x if op == "fst" else y), span)
                return lp.Case(self.go(pair, env), (pattern,), span=span)
            case f.Prim(op, args):
                return lp.Prim(op, tuple(self.go(a, env) for a in args), span=span)
        raise TypeError(f"not an Fp term: {t!r}")


def erase(t: f.Term, defs: Mapping[str, f.Term] | None = None,
          trusted: Mapping[str, lp.Term] | None = None) -> lp.Term:
    """⟦t⟧ for a closed Fp term (``defs``: the top-level definitions it may name; ``trusted``:
    the λp implementations of the constants)."""
    eraser = Eraser(defs or {}, trusted or {})
    term = eraser.go(t, {})
    return canonical(term) if not eraser.free else term
