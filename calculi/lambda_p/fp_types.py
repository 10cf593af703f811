"""Fp's type algebra: free names, substitution (of types for type variables, of values for the
variables in ``Fin n`` bounds), β-normal forms, and equality up to α and row equivalence.

Row equivalence (ICFP'24 §6): ``⟨l1 | ⟨l2 | ε⟩⟩ ≡ ⟨l2 | ⟨l1 | ε⟩⟩`` when ``l1 ≠ l2``; labels are
a multiset (``⟨l | ⟨l | ε⟩⟩`` is not ``⟨l | ε⟩``), and the tails must agree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from functools import lru_cache

from calculi.lambda_p import fp_syntax as f


def fresh_name(base: str, avoid: Collection[str]) -> str:
    """``base`` with primes added until it is not in ``avoid``."""
    name = base
    while name in avoid:
        name += "'"
    return name


def free_tvars(t: f.Type) -> set[str]:
    """Type (and row) variables free in ``t``."""
    match t:
        case f.Row(_, tail):
            return {tail} if tail is not None else set()
        case f.TVar(name):
            return {name}
        case f.TCon(_, args):
            return set().union(*(free_tvars(a) for a in args))
        case f.TArrow(_, dom, row, cod):
            return free_tvars(dom) | free_tvars(row) | free_tvars(cod)
        case f.TForall(name, _, body) | f.TLam(name, _, body):
            return free_tvars(body) - {name}
        case f.TApp(fn, arg):
            return free_tvars(fn) | free_tvars(arg)
        case f.TArray(_, elem):
            return free_tvars(elem)
    return set()


def free_values(t: f.Type) -> set[str]:
    """Value variables free in ``t`` (the ``n`` of ``Fin n``)."""
    match t:
        case f.TFin(f.Var(name)):
            return {name}
        case f.TArray(bound, elem):
            return (free_values(f.TFin(bound))) | free_values(elem)
        case f.TCon(_, args):
            return set().union(*(free_values(a) for a in args))
        case f.TArrow(binder, dom, _, cod):
            return free_values(dom) | (free_values(cod) - {binder} if binder else free_values(cod))
        case f.TForall(_, _, body) | f.TLam(_, _, body):
            return free_values(body)
        case f.TApp(fn, arg):
            return free_values(fn) | free_values(arg)
    return set()


def subst(t: f.Type, name: str, by: f.Type) -> f.Type:
    """τ[a := σ], renaming binders that would capture a name free in σ; a row σ put in a row's
    tail ``a`` joins its labels on."""
    avoid = free_tvars(by)

    def go(t: f.Type) -> f.Type:
        match t:
            case f.Row(labels, tail) if tail == name:
                if isinstance(by, f.Row):
                    return f.Row(labels + by.labels, by.tail, span=t.span)
                if isinstance(by, f.TVar):
                    return f.Row(labels, by.name, span=t.span)
                raise TypeError(f"a row variable replaced by a type that is not a row: {by!r}")
            case f.TVar(n):
                return by if n == name else t
            case f.TCon(c, args):
                return f.TCon(c, tuple(go(a) for a in args), span=t.span)
            case f.TArrow(binder, dom, row, cod):
                new_row = go(row)
                assert isinstance(new_row, f.Row)
                return f.TArrow(binder, go(dom), new_row, go(cod), span=t.span)
            case f.TForall(n, kind, body) | f.TLam(n, kind, body):
                make = f.TForall if isinstance(t, f.TForall) else f.TLam
                if n == name:
                    return t
                if n in avoid:
                    new = fresh_name(n, avoid | free_tvars(body) | {name})
                    body, n = subst(body, n, f.TVar(new)), new
                return make(n, kind, go(body), span=t.span)
            case f.TApp(fn, arg):
                return f.TApp(go(fn), go(arg), span=t.span)
            case f.TArray(bound, elem):
                return f.TArray(bound, go(elem), span=t.span)
        return t

    return go(t)


def subst_value(t: f.Type, name: str, value: f.Term) -> f.Type:
    """τ[x := v] for a value v of type Int (a literal or a variable): the bounds of ``Fin``."""

    def bound(b: f.Term) -> f.Term:
        if not (isinstance(b, f.Var) and b.name == name):
            return b
        return f.Var(value.name, span=b.span) if isinstance(value, f.Var) else value

    def go(t: f.Type) -> f.Type:
        match t:
            case f.TFin(b):
                return f.TFin(bound(b), span=t.span)
            case f.TArray(b, elem):
                return f.TArray(bound(b), go(elem), span=t.span)
            case f.TCon(c, args):
                return f.TCon(c, tuple(go(a) for a in args), span=t.span)
            case f.TArrow(binder, dom, row, cod):
                return f.TArrow(binder, go(dom), row, cod if binder == name else go(cod), span=t.span)
            case f.TForall(n, kind, body):
                return f.TForall(n, kind, go(body), span=t.span)
            case f.TLam(n, kind, body):
                return f.TLam(n, kind, go(body), span=t.span)
            case f.TApp(fn, arg):
                return f.TApp(go(fn), go(arg), span=t.span)
        return t

    return go(t)


def whnf(t: f.Type) -> f.Type:
    """``t`` with its head in normal form (what a rule matches on: →, ∀, ⇒, Fin, a constant)."""
    return normalize(t) if isinstance(t, f.TApp) else t


@lru_cache(maxsize=1 << 16)
def normalize(t: f.Type) -> f.Type:
    """The β-normal form (type-level λ applied)."""
    match t:
        case f.TApp(fn, arg):
            head, arg = normalize(fn), normalize(arg)
            if isinstance(head, f.TLam):
                return normalize(subst(head.body, head.name, arg))
            return f.TApp(head, arg, span=t.span)
        case f.TCon(c, args):
            return f.TCon(c, tuple(normalize(a) for a in args), span=t.span)
        case f.TArrow(binder, dom, row, cod):
            return f.TArrow(binder, normalize(dom), row, normalize(cod), span=t.span)
        case f.TForall(n, kind, body):
            return f.TForall(n, kind, normalize(body), span=t.span)
        case f.TLam(n, kind, body):
            return f.TLam(n, kind, normalize(body), span=t.span)
        case f.TArray(bound, elem):
            return f.TArray(bound, normalize(elem), span=t.span)
    return t


Names = tuple[dict[str, str], dict[str, str]]
"""A binder correspondence both ways: left name → right name, right name → left name."""


def row_equiv(r1: f.Row, r2: f.Row, names: Names | None = None) -> bool:
    """⟨l̄1 | a⟩ ≡ ⟨l̄2 | b⟩: the same labels as a multiset, and the same tail."""
    return _same(r1.tail, r2.tail, names) and Counter(r1.labels) == Counter(r2.labels)


def _same(a: str | None, b: str | None, names: Names | None) -> bool:
    if a is None or b is None or names is None:
        return a == b
    left, right = names
    return left.get(a, a) == b and right.get(b, b) == a


def _bind(names: Names, a: str | None, b: str | None) -> Names:
    """Enter binders a (left) and b (right); an unnamed one is a name that occurs nowhere."""
    a, b = a if a is not None else "\0", b if b is not None else "\0"
    return {**names[0], a: b}, {**names[1], b: a}


def missing_labels(row: f.Row, context: f.Row) -> list[str]:
    """The labels of ``row`` that ``context`` lacks (counted with their repeats)."""
    have = Counter(context.labels)
    out = []
    for label in row.labels:
        if have[label] > 0:
            have[label] -= 1
        else:
            out.append(label)
    return out


def equal(t1: f.Type, t2: f.Type) -> bool:
    """Type equality: β-normal forms equal up to α, with rows up to ``row_equiv``."""
    return _eq(normalize(t1), normalize(t2), ({}, {}), ({}, {}))


def _bound_eq(b1: f.Term, b2: f.Term, vn: Names) -> bool:
    if isinstance(b1, f.Var) and isinstance(b2, f.Var):
        return _same(b1.name, b2.name, vn)
    return isinstance(b1, f.Lit) and isinstance(b2, f.Lit) and b1.value == b2.value


def _eq(t1: f.Type, t2: f.Type, tn: Names, vn: Names) -> bool:
    match t1, t2:
        case f.Row(), f.Row():
            return row_equiv(t1, t2, tn)
        case f.TVar(a), f.TVar(b):
            return _same(a, b, tn)
        case f.TCon(c1, a1), f.TCon(c2, a2):
            return c1 == c2 and len(a1) == len(a2) and all(
                _eq(x, y, tn, vn) for x, y in zip(a1, a2, strict=True))
        case f.TArrow(x1, d1, r1, c1), f.TArrow(x2, d2, r2, c2):
            return _eq(d1, d2, tn, vn) and row_equiv(r1, r2, tn) and _eq(c1, c2, tn, _bind(vn, x1, x2))
        case (f.TForall(a, k1, b1), f.TForall(b, k2, b2)) | (f.TLam(a, k1, b1), f.TLam(b, k2, b2)):
            return k1 == k2 and _eq(b1, b2, _bind(tn, a, b), vn)
        case f.TApp(f1, a1), f.TApp(f2, a2):
            return _eq(f1, f2, tn, vn) and _eq(a1, a2, tn, vn)
        case f.TFin(b1), f.TFin(b2):
            return _bound_eq(b1, b2, vn)
        case f.TArray(b1, e1), f.TArray(b2, e2):
            return _bound_eq(b1, b2, vn) and _eq(e1, e2, tn, vn)
    return False
