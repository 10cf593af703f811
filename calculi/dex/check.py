"""The type-and-effect system: ``Γ ⊢ e : τ ! ρ``, a type and an effect row.

Index sets are ``Fin n``, enumerations and pairs of index sets; ``x.i`` needs ``i`` of exactly
the table's index set, so an index is never out of range, and a literal ``k@Fin n`` with ``k ≥ n``
is rejected here. Each handler binds a reference with a fresh label: its effect (``Read``,
``State`` or ``Accum`` of that label) may appear in the body's row and is removed from the
handler's. A ``for`` whose body's row has no ``State`` is parallel; one with ``State`` is
sequential, and ``Checked.loops`` records which.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from calculi.core import coverage
from calculi.core.errors import TypeCheckError, UnboundError
from calculi.core.syntax import Span
from calculi.dex.index_inference import IndexInference
from calculi.dex.pretty import show_type
from calculi.dex.syntax import (
    BOOL,
    INT,
    PRIMITIVES,
    REAL,
    UNIT,
    Accum,
    App,
    At,
    BinOp,
    BoolLit,
    BoolT,
    Case,
    Effect,
    Enum,
    Expr,
    Fin,
    For,
    FunT,
    Handle,
    If,
    Index,
    IndexVar,
    IntLit,
    IntT,
    Lam,
    Let,
    Neg,
    Omitted,
    Pair,
    PairT,
    Put,
    RealLit,
    RealT,
    RefIndex,
    RefT,
    Seq,
    TableT,
    Type,
    UnitLit,
    Var,
)
from calculi.dex.typing_base import (
    HANDLER_KIND,
    PRIM_ARG,
    PURE,
    TYPING_RULES,
    Checked,
    Row,
    error,
    is_index_set,
    is_monoid,
    mentions,
    rule_of,
    size,
    sorted_row,
    unit_like,
)

__all__ = ["TYPING_RULES", "Checked", "check", "in_range", "is_index_set", "is_monoid", "size"]

def in_range(k: int, n: int) -> bool:
    """A literal ``k@Fin n`` is an index: ``0 ≤ k < n``."""
    return 0 <= k < n


def check(expr: Expr, env: dict[str, Type] | None = None) -> Checked:
    """``⊢ e : τ ! ρ``, or a ``TypeCheckError`` naming the rule that fails, at the culprit. An
    omitted index set (``for i. e``) is inferred and written into its ``for``."""
    checker = _Checker(dict(env or {}))
    try:
        ty, row = checker.infer(expr)
    except RecursionError:
        raise TypeCheckError("program nested too deeply (bind the inner parts with let)",
                             expr.span) from None
    zonk = checker.zonk  # an inner for's body may mention the index set of an outer one
    return Checked(zonk(ty), sorted_row(row), checker.loops,
                   {k: zonk(t) for k, t in checker.bodies.items()}, checker.refs, checker.handlers,
                   {k: zonk(t) for k, t in checker.operands.items()})


class _Checker(IndexInference):
    def __init__(self, env: dict[str, Type]) -> None:
        super().__init__()
        self.env = env
        self.labels = 0
        self.loops: list[tuple[For, tuple[Effect, ...]]] = []
        self.bodies: dict[int, Type] = {}
        self.refs: dict[int, RefT] = {}
        self.handlers: dict[int, tuple[int, tuple[Effect, ...]]] = {}
        self.operands: dict[int, Type] = {}

    @contextmanager
    def bind(self, name: str, ty: Type) -> Iterator[None]:
        missing = object()
        old = self.env.get(name, missing)
        self.env[name] = ty
        try:
            yield
        finally:
            if old is missing:
                del self.env[name]
            else:
                self.env[name] = old  # type: ignore[assignment]

    def resolve(self, ty: Type, span: Span | None) -> Type:
        """A written type with each effect row's names bound to the references in scope."""
        where = ty.span or span
        match ty:
            case Fin(size=n) if n < 0:
                raise error("an index set has a size of at least 0", where, "T-Lam")
            case TableT(index=n, elem=a):
                if not is_index_set(n):
                    raise error(f"a table is indexed by an index set (Fin n, an enumeration, or a "
                                 f"pair of them), not by {show_type(n)}", n.span or where, "T-For")
                return TableT(self.resolve(n, span), self.resolve(a, span), span=ty.span)
            case PairT(fst=a, snd=b):
                return PairT(self.resolve(a, span), self.resolve(b, span), span=ty.span)
            case FunT(arg=a, row=row, res=b):
                effects = frozenset(self.effect(e, span) for e in row)
                return FunT(self.resolve(a, span), sorted_row(effects), self.resolve(b, span),
                            span=ty.span)
        return ty

    def effect(self, effect: Effect, span: Span | None) -> Effect:
        ref = self.env.get(effect.name)
        if not isinstance(ref, RefT):
            raise error(f"{effect.name} in an effect row is not a reference in scope",
                         effect.span or span, "T-Lam")
        if ref.kind != effect.kind:
            raise error(f"{effect.name} is a {ref.kind} reference, not a {effect.kind} one",
                         effect.span or span, "T-Lam")
        return Effect(effect.kind, effect.name, ref.label, span=effect.span)

    def infer(self, e: Expr) -> tuple[Type, Row]:
        rule = rule_of(e)
        coverage.fired("dex.typing", rule)
        match e:
            case Var(name=x):
                if x in self.env:
                    ty = self.env[x]
                    return (ty if isinstance(ty, IndexVar) else self.zonk(ty)), PURE
                if x in PRIMITIVES:
                    raise error(f"{x} is a primitive; apply it, as in '{x} x'", e.span, "T-Prim")
                raise UnboundError(f"{x} is not in scope", e.span, rule="T-Var")
            case IntLit():
                return INT, PURE
            case RealLit():
                return REAL, PURE
            case BoolLit():
                return BOOL, PURE
            case UnitLit():
                return UNIT, PURE
            case Pair(fst=a, snd=b):
                (ta, ra), (tb, rb) = self.infer(a), self.infer(b)
                return PairT(ta, tb), ra | rb
            case Lam(param=x, type=t, body=body):
                t = self.resolve(t, e.span)
                with self.bind(x, t):
                    tb, rb = self.infer(body)
                return FunT(t, sorted_row(rb), tb), PURE
            case App(fun=Var(name=p), arg=arg) if p in PRIMITIVES and p not in self.env:
                return self.primitive(p, arg, e)
            case App(fun=f, arg=arg):
                (tf, rf), (ta, ra) = self.infer(f), self.infer(arg)
                if not isinstance(tf, FunT):
                    raise error(f"applying a {show_type(tf)}, which is not a function", f.span, rule)
                self.expect(ta, tf.arg, "the argument", arg.span, rule)
                return tf.res, rf | ra | frozenset(tf.row)
            case Let():
                return self.lets(e)
            case Seq(first=a, then=b):
                ta, ra = self.infer(a)
                if not unit_like(ta):
                    raise error(f"the statement before ';' has type {show_type(ta)}; a statement "
                                 "returns () or a table of () (bind a value with let)", a.span, rule)
                tb, rb = self.infer(b)
                return tb, ra | rb
            case If(cond=c, then=a, orelse=b):
                tc, rc = self.infer(c)
                self.expect(tc, BOOL, "the condition", c.span, rule)
                (ta, ra), (tb, rb) = self.infer(a), self.infer(b)
                self.expect(tb, ta, "the else branch", b.span, rule)
                return ta, rc | ra | rb
            case Case(scrutinee=s, alts=alts):
                return self.case(s, alts, e)
            case BinOp(op=op, left=a, right=b):
                (ta, ra), (tb, rb) = self.infer(a), self.infer(b)
                self.expect(tb, ta, f"the right operand of {op}", b.span, rule)
                self.operands[id(e)] = ta = self.zonk(ta)
                if op in ("<", "<="):
                    if not isinstance(ta, IntT | RealT):
                        raise error(f"{op} compares Int or Real, not {show_type(ta)}", e.span, rule)
                    return BOOL, ra | rb
                if op == "==":
                    if not isinstance(ta, IntT | RealT | BoolT | IndexVar) and not is_index_set(ta):
                        raise error(f"== compares scalars and indices, not {show_type(ta)}", e.span,
                                     rule)
                    return BOOL, ra | rb
                if op == "%" and not isinstance(ta, IntT):
                    raise error(f"% takes the remainder of Ints, not {show_type(ta)}", e.span, rule)
                if op == "/" and not isinstance(ta, RealT):
                    raise error(f"/ divides reals, not {show_type(ta)} (use to_real)", e.span, rule)
                if not isinstance(ta, IntT | RealT):
                    raise error(f"{op} works on Int or Real, not {show_type(ta)}", e.span, rule)
                return ta, ra | rb
            case Neg(arg=a):
                ta, ra = self.infer(a)
                self.operands[id(e)] = ta
                if not isinstance(ta, IntT | RealT):
                    raise error(f"negation works on Int or Real, not {show_type(ta)}", e.span, rule)
                return ta, ra
            case For(index=i, type=n, body=body):
                if isinstance(n, Omitted) or e.inferred:
                    n = self.unknown(i)
                else:
                    n = self.resolve(n, e.span)
                    if not is_index_set(n):
                        raise error(f"for ranges over an index set (Fin n, an enumeration, or a "
                                    f"pair of them), not {show_type(n)}", n.span or e.span, rule)
                with self.bind(i, n):
                    tb, rb = self.infer(body)
                if isinstance(n, IndexVar):
                    n = self.settle(e, n)
                tb = self.zonk(tb)
                self.loops.append((e, sorted_row(rb)))
                self.bodies[id(e)] = tb
                return TableT(n, tb), rb
            case Index(table=x, index=i):
                (tx, rx), (ti, ri) = self.infer(x), self.infer(i)
                tx = self.zonk(tx)
                if not isinstance(tx, TableT):
                    raise error(f"indexing a {show_type(tx)}, which is not a table", x.span, rule)
                self.expect(ti, tx.index, "the index", i.span, rule)
                self.operands[id(e)] = tx.index
                return tx.elem, rx | ri
            case At(value=v, index=n):
                return self.at(v, self.resolve(n, e.span), e)
            case Handle():
                return self.handle(e)
            case Accum(ref=r, value=v) | Put(ref=r, value=v):
                kind = "Accum" if isinstance(e, Accum) else "State"
                tr, rr = self.infer(r)
                ref = self.reference(tr, kind, r.span, "+=" if kind == "Accum" else ":=", rule)
                self.refs[id(e)] = ref
                tv, rv = self.infer(v)
                self.expect(tv, ref.elem, "the value", v.span, rule)
                return UNIT, rr | rv | {Effect(kind, ref.name, ref.label)}
            case RefIndex(ref=r, index=i):
                (tr, rr), (ti, ri) = self.infer(r), self.infer(i)
                tr = self.zonk(tr)
                if not isinstance(tr, RefT) or not isinstance(tr.elem, TableT):
                    raise error(f"r!i needs a reference to a table, not a {show_type(tr)}", r.span,
                                 rule)
                self.expect(ti, tr.elem.index, "the index", i.span, rule)
                self.refs[id(e)] = tr
                self.operands[id(e)] = tr.elem.index
                return RefT(tr.kind, tr.elem.elem, tr.name, tr.label), rr | ri
        raise error(f"unknown construct {type(e).__name__}", e.span, rule)

    def lets(self, e: Let) -> tuple[Type, Row]:
        """T-Let along a chain of lets, iteratively: thousands of lets check in linear time."""
        saved: list[tuple[str, Type | None]] = []
        row: Row = PURE
        link: Expr = e
        try:
            while isinstance(link, Let):
                coverage.fired("dex.typing", "T-Let")
                tb, rb = self.infer(link.bound)
                saved.append((link.name, self.env.get(link.name)))
                self.env[link.name] = tb
                row |= rb
                link = link.body
            t, r = self.infer(link)
        finally:
            for name, old in reversed(saved):
                if old is None:
                    del self.env[name]
                else:
                    self.env[name] = old
        return t, row | r

    def reference(self, ty: Type, kind: str, span: Span | None, op: str, rule: str) -> RefT:
        if not isinstance(ty, RefT):
            raise error(f"{op} needs a reference, not a {show_type(ty)}", span, rule)
        if ty.kind != kind:
            raise error(f"{op} needs a {kind} reference; {ty.name} is a {ty.kind} reference",
                         span, rule)
        return ty

    def primitive(self, p: str, arg: Expr, e: Expr) -> tuple[Type, Row]:
        ta, ra = self.infer(arg)
        if p in ("get", "ask"):
            rule = "T-Get" if p == "get" else "T-Ask"
            coverage.fired("dex.typing", rule)
            kind = "State" if p == "get" else "Read"
            ref = self.reference(self.zonk(ta), kind, arg.span, p, rule)
            self.refs[id(e)] = ref
            return ref.elem, ra | {Effect(kind, ref.name, ref.label)}
        ta = self.zonk(ta)

        def wrong() -> TypeCheckError:  # built only when raised: show_type of a big type is slow
            return error(f"{p} takes {PRIM_ARG[p]}, not a {show_type(ta)}", arg.span, "T-Prim")

        match p:
            case "fst" | "snd":
                if not isinstance(ta, PairT):
                    raise wrong()
                return (ta.fst if p == "fst" else ta.snd), ra
            case "sum":
                if not isinstance(ta, TableT) or not isinstance(ta.elem, RealT):
                    raise wrong()
                return ta.elem, ra
            case "exp" | "log" | "sqrt":
                self.expect(ta, REAL, f"the argument of {p}", arg.span, "T-Prim")
                return REAL, ra
            case "to_real":
                self.expect(ta, INT, "the argument of to_real", arg.span, "T-Prim")
                return REAL, ra
            case "floor":
                self.expect(ta, REAL, "the argument of floor", arg.span, "T-Prim")
                return INT, ra
            case "ordinal":
                if isinstance(ta, IndexVar):
                    self.ordinal_of(ta, arg.span)
                    return INT, ra
                if not isinstance(ta, Fin | Enum):
                    raise wrong()
                return INT, ra
        raise wrong()

    def at(self, v: Expr, n: Type, e: Expr) -> tuple[Type, Row]:
        if isinstance(n, Enum):
            if not isinstance(v, Var) or v.name not in n.labels:
                raise error(f"{show_type(n)} has the labels {', '.join(n.labels)}", v.span, "T-At")
            return n, PURE
        if not isinstance(n, Fin):
            raise error(f"e@n makes an index of Fin n or an enumeration, not of {show_type(n)}",
                         n.span or e.span, "T-At")
        tv, rv = self.infer(v)
        self.expect(tv, INT, "the ordinal", v.span, "T-At")
        literal = v.value if isinstance(v, IntLit) else (
            -v.arg.value if isinstance(v, Neg) and isinstance(v.arg, IntLit) else None)
        if literal is not None and not in_range(literal, n.size):
            raise error(f"index {literal} is out of range for Fin {n.size} (0 to {n.size - 1})",
                         v.span, "T-At")
        return n, rv

    def case(self, s: Expr, alts: tuple[tuple[str, Expr], ...], e: Expr) -> tuple[Type, Row]:
        ts, row = self.infer(s)
        ts = self.operands[id(e)] = self.zonk(ts)
        if not isinstance(ts, Enum):
            raise error(f"case takes an enumeration, not a {show_type(ts)}", s.span, "T-Case")
        seen = [label for label, _ in alts]
        if sorted(seen) != sorted(ts.labels):
            missing = [x for x in ts.labels if x not in seen]
            extra = [x for x in seen if x not in ts.labels or seen.count(x) > 1]
            what = (f"misses {', '.join(missing)}" if missing else f"has {', '.join(extra)} too")
            raise error(f"case on {show_type(ts)} {what}", e.span, "T-Case")
        result: Type | None = None
        for _, body in alts:
            tb, rb = self.infer(body)
            if result is not None:
                self.expect(tb, result, "this alternative", body.span, "T-Case")
            result, row = tb, row | rb
        assert result is not None
        return result, row

    def handle(self, e: Handle) -> tuple[Type, Row]:
        rule = rule_of(e)
        row: Row = PURE
        if e.init is not None:
            elem, row = self.infer(e.init)
            elem = self.zonk(elem)
            if isinstance(elem, FunT | RefT):
                raise error(f"{e.handler} holds data, not a {show_type(elem)}", e.init.span, rule)
        else:
            assert e.monoid is not None
            elem = self.resolve(e.monoid, e.span)
            if not is_monoid(elem):
                raise error(f"run_accum sums into Real or a table of reals, not {show_type(elem)}",
                             e.monoid.span or e.span, rule)
        self.labels += 1
        label = self.labels
        with self.bind(e.ref, RefT(HANDLER_KIND[e.handler], elem, e.ref, label)):
            tb, rb = self.infer(e.body)
        tb = self.zonk(tb)
        self.handlers[id(e)] = (label, sorted_row(rb))
        if mentions(tb, label):
            raise error(f"the reference {e.ref} escapes {e.handler} in the result's type "
                         f"{show_type(tb)}", e.body.span, rule)
        result = tb if e.handler == "with_reader" else PairT(tb, elem)
        return result, row | frozenset(x for x in rb if x.label != label)
