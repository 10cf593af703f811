"""Substitution in Fp terms: ``e[x := v]`` (in the term and in the ``Fin x`` of its types) and
``e[a := τ]`` (in the types it carries), one rebuilding walk for both.

Reduction substitutes closed values and closed types, which no binder can capture; the checker
substitutes a fresh variable (a name that occurs nowhere in the term) to rename a binder.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from calculi.lambda_p import fp_syntax as f
from calculi.lambda_p import fp_types as ty


def term_names(t: f.Term) -> set[str]:
    """Every name a term mentions or binds (values and types), to choose fresh ones."""
    out: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, f.Var | f.Global | f.TVar):
            out.add(node.name)
        for attr in ("name", "tail", "binder"):
            value = getattr(node, attr, None)
            if isinstance(value, str):
                out.add(value)
        for slot in getattr(type(node), "__slots__", ()):
            child = getattr(node, slot, None)
            for c in child if isinstance(child, tuple) else (child,):
                if isinstance(c, tuple):
                    for cc in c:
                        visit(cc)
                elif hasattr(c, "__slots__") and not isinstance(c, str):
                    visit(c)

    visit(t)
    return out


@dataclass(frozen=True, slots=True)
class Sub:
    """e[x := v] and e[a := τ] at once; a binder of x (λ, for, ←) or of a (Λ) ends its part."""

    var: str | None = None
    value: f.Term | None = None
    tvar: str | None = None
    tvalue: f.Type | None = None

    def type(self, t: f.Type) -> f.Type:
        if self.var is not None and isinstance(self.value, f.Lit | f.Var):
            t = ty.subst_value(t, self.var, self.value)
        if self.tvar is not None and self.tvalue is not None:
            t = ty.subst(t, self.tvar, self.tvalue)
        return t

    def row(self, r: f.Row) -> f.Row:
        new = self.type(r)
        assert isinstance(new, f.Row)
        return new

    def under(self, name: str) -> Sub:
        return replace(self, var=None, value=None) if name == self.var else self


def walk(t: f.Term, sub: Sub) -> f.Term:
    """``t`` with ``sub`` applied."""

    def go(t: f.Term) -> f.Term:
        return walk(t, sub)

    span = t.span
    match t:
        case f.Var(name):
            if sub.value is None or name != sub.var:
                return t
            return f.Var(sub.value.name, span=span) if isinstance(sub.value, f.Var) else sub.value
        case f.Lit() | f.Global():
            return t
        case f.Lam(name, pty, row, body):
            return f.Lam(name, sub.type(pty), sub.row(row), walk(body, sub.under(name)), span=span)
        case f.TAbs(name, kind, body):
            inner = replace(sub, tvar=None, tvalue=None) if name == sub.tvar else sub
            return f.TAbs(name, kind, walk(body, inner), span=span)
        case f.Arr(items):
            return f.Arr(tuple(go(i) for i in items), span=span)
        case f.Con(tag, args, other):
            new_other = sub.type(other) if other is not None else None
            return f.Con(tag, tuple(go(a) for a in args), new_other, span=span)
        case f.Perform(op, row, targs):
            return f.Perform(op, sub.row(row) if row is not None else None, tuple(sub.type(a) for a in targs),
                             span=span)
        case f.App(fn, arg):
            return f.App(go(fn), go(arg), span=span)
        case f.TyApp(fn, targ):
            return f.TyApp(go(fn), sub.type(targ), span=span)
        case f.Coerce(term, cty):
            return f.Coerce(go(term), sub.type(cty), span=span)
        case f.For(name, bound, body):
            return f.For(name, go(bound), walk(body, sub.under(name)), span=span)
        case f.Index(array, index):
            return f.Index(go(array), go(index), span=span)
        case f.Handle(answer, param_ty, handler, param, body):
            clauses = tuple((n, go(c)) for n, c in handler.clauses)
            return f.Handle(sub.type(answer), sub.type(param_ty), f.Handler(clauses, span=handler.span),
                            go(param), go(body), span=span)
        case f.Let(name, rhs, body):
            return f.Let(name, go(rhs), walk(body, sub.under(name)), span=span)
        case f.If(c, a, b):
            return f.If(go(c), go(a), go(b), span=span)
        case f.Prim(op, args):
            return f.Prim(op, tuple(go(a) for a in args), span=span)
    raise TypeError(f"not an Fp term: {t!r}")


def subst_value(t: f.Term, name: str, value: f.Term) -> f.Term:
    """e[x := v], v closed (or a fresh variable); types see x as a ``Fin x`` bound."""
    return walk(t, Sub(name, value))


def rename_value(t: f.Term, old: str, new: str) -> f.Term:
    return subst_value(t, old, f.Var(new))


def subst_type_in_term(t: f.Term, name: str, by: f.Type) -> f.Term:
    """e[a := τ]: every type the term carries, below the Λs that bind another name."""
    return walk(t, Sub(tvar=name, tvalue=by))
