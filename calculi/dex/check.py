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
from dataclasses import dataclass, field

from calculi.core import coverage
from calculi.core.errors import TypeCheckError, UnboundError
from calculi.core.syntax import Span
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
    IntLit,
    IntT,
    Lam,
    Let,
    Neg,
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
    UnitT,
    Var,
)

TYPING_RULES = coverage.declare("dex.typing", [
    "T-Var", "T-Lit", "T-Pair", "T-Lam", "T-App", "T-Let", "T-Seq", "T-If", "T-Case", "T-Arith",
    "T-Compare", "T-Neg", "T-For", "T-Index", "T-At", "T-Prim", "T-RunState", "T-RunAccum",
    "T-WithReader", "T-Get", "T-Put", "T-Ask", "T-Accum", "T-RefIndex",
])

Row = frozenset[Effect]
PURE: Row = frozenset()

HANDLER_KIND = {"run_state": "State", "run_accum": "Accum", "with_reader": "Read"}


def is_index_set(ty: Type) -> bool:
    if isinstance(ty, PairT):
        return is_index_set(ty.fst) and is_index_set(ty.snd)
    return isinstance(ty, Fin | Enum)


def size(ty: Type) -> int:
    """``|n|``: how many indices an index set has."""
    if isinstance(ty, Fin):
        return ty.size
    if isinstance(ty, Enum):
        return len(ty.labels)
    assert isinstance(ty, PairT)
    return size(ty.fst) * size(ty.snd)


def is_monoid(ty: Type) -> bool:
    """What ``run_accum`` sums into: reals, and tables of them."""
    return isinstance(ty, RealT) or (isinstance(ty, TableT) and is_monoid(ty.elem))


def in_range(k: int, n: int) -> bool:
    """A literal ``k@Fin n`` is an index: ``0 ≤ k < n``."""
    return 0 <= k < n


def sorted_row(row: Row) -> tuple[Effect, ...]:
    return tuple(sorted(row, key=lambda e: (e.label, e.name, e.kind)))


def mentions(ty: Type, label: int) -> bool:
    """Whether a reference of ``label`` (or an effect on it) occurs in ``ty``."""
    match ty:
        case RefT(label=lab):
            return lab == label
        case FunT(arg=a, row=row, res=b):
            return any(e.label == label for e in row) or mentions(a, label) or mentions(b, label)
        case TableT(index=_, elem=a):
            return mentions(a, label)
        case PairT(fst=a, snd=b):
            return mentions(a, label) or mentions(b, label)
    return False


@dataclass(slots=True)
class Checked:
    """A checked program: its type, its effect row, and each ``for`` with whether it is parallel."""

    type: Type
    row: tuple[Effect, ...]
    loops: list[tuple[For, tuple[Effect, ...]]] = field(default_factory=list)
    """Each ``for`` with the effect row of its body."""
    bodies: dict[int, Type] = field(default_factory=dict)
    """The type of each ``for``'s body, by the ``id`` of the ``for``."""

    @property
    def parallel(self) -> set[int]:
        """The ``id`` of each parallel ``for``: its body has no ``State``."""
        return {id(loop) for loop, row in self.loops if not any(e.kind == "State" for e in row)}

    @property
    def sequential(self) -> list[For]:
        return [loop for loop, row in self.loops if any(e.kind == "State" for e in row)]


def check(expr: Expr, env: dict[str, Type] | None = None) -> Checked:
    """``⊢ e : τ ! ρ``, or a ``TypeCheckError`` naming the rule that fails, at the culprit."""
    checker = _Checker(dict(env or {}))
    try:
        ty, row = checker.infer(expr)
    except RecursionError:
        raise TypeCheckError("program nested too deeply (bind the inner parts with let)",
                             expr.span) from None
    return Checked(ty, sorted_row(row), checker.loops, checker.bodies)


def _error(reason: str, span: Span | None, rule: str) -> TypeCheckError:
    return TypeCheckError(reason, span, rule=rule)


def _expect(ty: Type, want: Type, what: str, span: Span | None, rule: str) -> None:
    if ty != want:
        raise _error(f"{what} has type {show_type(ty)}, expected {show_type(want)}", span, rule)


class _Checker:
    def __init__(self, env: dict[str, Type]) -> None:
        self.env = env
        self.labels = 0
        self.loops: list[tuple[For, tuple[Effect, ...]]] = []
        self.bodies: dict[int, Type] = {}

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
                raise _error("an index set has a size of at least 0", where, "T-Lam")
            case TableT(index=n, elem=a):
                if not is_index_set(n):
                    raise _error(f"a table is indexed by an index set (Fin n, an enumeration, or a "
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
            raise _error(f"{effect.name} in an effect row is not a reference in scope",
                         effect.span or span, "T-Lam")
        if ref.kind != effect.kind:
            raise _error(f"{effect.name} is a {ref.kind} reference, not a {effect.kind} one",
                         effect.span or span, "T-Lam")
        return Effect(effect.kind, effect.name, ref.label, span=effect.span)

    def infer(self, e: Expr) -> tuple[Type, Row]:
        rule = _rule(e)
        coverage.fired("dex.typing", rule)
        match e:
            case Var(name=x):
                if x in self.env:
                    return self.env[x], PURE
                if x in PRIMITIVES:
                    raise _error(f"{x} is a primitive; apply it, as in '{x} x'", e.span, "T-Prim")
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
                    raise _error(f"applying a {show_type(tf)}, which is not a function", f.span, rule)
                _expect(ta, tf.arg, "the argument", arg.span, rule)
                return tf.res, rf | ra | frozenset(tf.row)
            case Let(name=x, bound=bound, body=body):
                tb, rb = self.infer(bound)
                with self.bind(x, tb):
                    t, r = self.infer(body)
                return t, rb | r
            case Seq(first=a, then=b):
                ta, ra = self.infer(a)
                if not _unit_like(ta):
                    raise _error(f"the statement before ';' has type {show_type(ta)}; a statement "
                                 "returns () or a table of () (bind a value with let)", a.span, rule)
                tb, rb = self.infer(b)
                return tb, ra | rb
            case If(cond=c, then=a, orelse=b):
                tc, rc = self.infer(c)
                _expect(tc, BOOL, "the condition", c.span, rule)
                (ta, ra), (tb, rb) = self.infer(a), self.infer(b)
                _expect(tb, ta, "the else branch", b.span, rule)
                return ta, rc | ra | rb
            case Case(scrutinee=s, alts=alts):
                return self.case(s, alts, e)
            case BinOp(op=op, left=a, right=b):
                (ta, ra), (tb, rb) = self.infer(a), self.infer(b)
                _expect(tb, ta, f"the right operand of {op}", b.span, rule)
                if op in ("<", "<="):
                    if not isinstance(ta, IntT | RealT):
                        raise _error(f"{op} compares Int or Real, not {show_type(ta)}", e.span, rule)
                    return BOOL, ra | rb
                if op == "==":
                    if not isinstance(ta, IntT | RealT | BoolT) and not is_index_set(ta):
                        raise _error(f"== compares scalars and indices, not {show_type(ta)}", e.span,
                                     rule)
                    return BOOL, ra | rb
                if op == "%" and not isinstance(ta, IntT):
                    raise _error(f"% takes the remainder of Ints, not {show_type(ta)}", e.span, rule)
                if op == "/" and not isinstance(ta, RealT):
                    raise _error(f"/ divides reals, not {show_type(ta)} (use to_real)", e.span, rule)
                if not isinstance(ta, IntT | RealT):
                    raise _error(f"{op} works on Int or Real, not {show_type(ta)}", e.span, rule)
                return ta, ra | rb
            case Neg(arg=a):
                ta, ra = self.infer(a)
                if not isinstance(ta, IntT | RealT):
                    raise _error(f"negation works on Int or Real, not {show_type(ta)}", e.span, rule)
                return ta, ra
            case For(index=i, type=n, body=body):
                n = self.resolve(n, e.span)
                if not is_index_set(n):
                    raise _error(f"for ranges over an index set (Fin n, an enumeration, or a pair "
                                 f"of them), not {show_type(n)}", n.span or e.span, rule)
                with self.bind(i, n):
                    tb, rb = self.infer(body)
                self.loops.append((e, sorted_row(rb)))
                self.bodies[id(e)] = tb
                return TableT(n, tb), rb
            case Index(table=x, index=i):
                (tx, rx), (ti, ri) = self.infer(x), self.infer(i)
                if not isinstance(tx, TableT):
                    raise _error(f"indexing a {show_type(tx)}, which is not a table", x.span, rule)
                _expect(ti, tx.index, "the index", i.span, rule)
                return tx.elem, rx | ri
            case At(value=v, index=n):
                return self.at(v, self.resolve(n, e.span), e)
            case Handle():
                return self.handle(e)
            case Accum(ref=r, value=v) | Put(ref=r, value=v):
                kind = "Accum" if isinstance(e, Accum) else "State"
                tr, rr = self.infer(r)
                ref = self.reference(tr, kind, r.span, "+=" if kind == "Accum" else ":=", rule)
                tv, rv = self.infer(v)
                _expect(tv, ref.elem, "the value", v.span, rule)
                return UNIT, rr | rv | {Effect(kind, ref.name, ref.label)}
            case RefIndex(ref=r, index=i):
                (tr, rr), (ti, ri) = self.infer(r), self.infer(i)
                if not isinstance(tr, RefT) or not isinstance(tr.elem, TableT):
                    raise _error(f"r!i needs a reference to a table, not a {show_type(tr)}", r.span,
                                 rule)
                _expect(ti, tr.elem.index, "the index", i.span, rule)
                return RefT(tr.kind, tr.elem.elem, tr.name, tr.label), rr | ri
        raise _error(f"unknown construct {type(e).__name__}", e.span, rule)

    def reference(self, ty: Type, kind: str, span: Span | None, op: str, rule: str) -> RefT:
        if not isinstance(ty, RefT):
            raise _error(f"{op} needs a reference, not a {show_type(ty)}", span, rule)
        if ty.kind != kind:
            raise _error(f"{op} needs a {kind} reference; {ty.name} is a {ty.kind} reference",
                         span, rule)
        return ty

    def primitive(self, p: str, arg: Expr, e: Expr) -> tuple[Type, Row]:
        ta, ra = self.infer(arg)
        if p in ("get", "ask"):
            rule = "T-Get" if p == "get" else "T-Ask"
            coverage.fired("dex.typing", rule)
            kind = "State" if p == "get" else "Read"
            ref = self.reference(ta, kind, arg.span, p, rule)
            return ref.elem, ra | {Effect(kind, ref.name, ref.label)}
        wrong = _error(f"{p} takes {_PRIM_ARG[p]}, not a {show_type(ta)}", arg.span, "T-Prim")
        match p:
            case "fst" | "snd":
                if not isinstance(ta, PairT):
                    raise wrong
                return (ta.fst if p == "fst" else ta.snd), ra
            case "sum":
                if not isinstance(ta, TableT) or not isinstance(ta.elem, RealT):
                    raise wrong
                return ta.elem, ra
            case "exp" | "log" | "sqrt":
                _expect(ta, REAL, f"the argument of {p}", arg.span, "T-Prim")
                return REAL, ra
            case "to_real":
                _expect(ta, INT, "the argument of to_real", arg.span, "T-Prim")
                return REAL, ra
            case "floor":
                _expect(ta, REAL, "the argument of floor", arg.span, "T-Prim")
                return INT, ra
            case "ordinal":
                if not isinstance(ta, Fin | Enum):
                    raise wrong
                return INT, ra
        raise wrong

    def at(self, v: Expr, n: Type, e: Expr) -> tuple[Type, Row]:
        if isinstance(n, Enum):
            if not isinstance(v, Var) or v.name not in n.labels:
                raise _error(f"{show_type(n)} has the labels {', '.join(n.labels)}", v.span, "T-At")
            return n, PURE
        if not isinstance(n, Fin):
            raise _error(f"e@n makes an index of Fin n or an enumeration, not of {show_type(n)}",
                         n.span or e.span, "T-At")
        tv, rv = self.infer(v)
        _expect(tv, INT, "the ordinal", v.span, "T-At")
        literal = v.value if isinstance(v, IntLit) else (
            -v.arg.value if isinstance(v, Neg) and isinstance(v.arg, IntLit) else None)
        if literal is not None and not in_range(literal, n.size):
            raise _error(f"index {literal} is out of range for Fin {n.size} (0 to {n.size - 1})",
                         v.span, "T-At")
        return n, rv

    def case(self, s: Expr, alts: tuple[tuple[str, Expr], ...], e: Expr) -> tuple[Type, Row]:
        ts, row = self.infer(s)
        if not isinstance(ts, Enum):
            raise _error(f"case takes an enumeration, not a {show_type(ts)}", s.span, "T-Case")
        seen = [label for label, _ in alts]
        if sorted(seen) != sorted(ts.labels):
            missing = [x for x in ts.labels if x not in seen]
            extra = [x for x in seen if x not in ts.labels or seen.count(x) > 1]
            what = (f"misses {', '.join(missing)}" if missing else f"has {', '.join(extra)} too")
            raise _error(f"case on {show_type(ts)} {what}", e.span, "T-Case")
        result: Type | None = None
        for _, body in alts:
            tb, rb = self.infer(body)
            if result is not None:
                _expect(tb, result, "this alternative", body.span, "T-Case")
            result, row = tb, row | rb
        assert result is not None
        return result, row

    def handle(self, e: Handle) -> tuple[Type, Row]:
        rule = _rule(e)
        row: Row = PURE
        if e.init is not None:
            elem, row = self.infer(e.init)
            if isinstance(elem, FunT | RefT):
                raise _error(f"{e.handler} holds data, not a {show_type(elem)}", e.init.span, rule)
        else:
            assert e.monoid is not None
            elem = self.resolve(e.monoid, e.span)
            if not is_monoid(elem):
                raise _error(f"run_accum sums into Real or a table of reals, not {show_type(elem)}",
                             e.monoid.span or e.span, rule)
        self.labels += 1
        label = self.labels
        with self.bind(e.ref, RefT(HANDLER_KIND[e.handler], elem, e.ref, label)):
            tb, rb = self.infer(e.body)
        if mentions(tb, label):
            raise _error(f"the reference {e.ref} escapes {e.handler} in the result's type "
                         f"{show_type(tb)}", e.body.span, rule)
        result = tb if e.handler == "with_reader" else PairT(tb, elem)
        return result, row | frozenset(x for x in rb if x.label != label)


_RULE: dict[type, str] = {
    Var: "T-Var", Pair: "T-Pair", Lam: "T-Lam", App: "T-App", Let: "T-Let", Seq: "T-Seq",
    If: "T-If", Case: "T-Case", BinOp: "T-Arith", Neg: "T-Neg", For: "T-For", Index: "T-Index",
    At: "T-At", Accum: "T-Accum", Put: "T-Put", RefIndex: "T-RefIndex",
}

def _unit_like(ty: Type) -> bool:
    return isinstance(ty, UnitT) or (isinstance(ty, TableT) and _unit_like(ty.elem))


def _rule(e: Expr) -> str:
    if isinstance(e, BinOp) and e.op in ("<", "<=", "=="):
        return "T-Compare"
    if isinstance(e, Handle):
        return {"run_state": "T-RunState", "run_accum": "T-RunAccum"}.get(e.handler, "T-WithReader")
    if isinstance(e, App) and isinstance(e.fun, Var) and e.fun.name in PRIMITIVES:
        return "T-Prim"
    return _RULE.get(type(e), "T-Lit")


_PRIM_ARG = {"fst": "a pair", "snd": "a pair", "sum": "a table of Real",
             "ordinal": "an index of Fin n or of an enumeration (of a pair index: fst, snd)",
             "exp": "a Real", "log": "a Real", "sqrt": "a Real", "to_real": "an Int",
             "floor": "a Real"}
