"""Fp, the typed λp of ICFP'24 (Fig. 2): kinds, effect rows, types and expressions.

    κ ::= ★ | κ1 → κ2 | eff
    ε ::= a | ⟨⟩ | ⟨l | ε⟩
    τ ::= a | c | (x:τ1) →^ε τ2 | ∀a:κ. τ | τ1 τ2 | Fin n | Fin n ⇒ τ
    e ::= v | e1 e2 | e τ | e ⊳ τ | for x:Fin n. e | e1.e2 | handle h e1 e2
    v ::= i | x | λ^ε x:τ. e | Λa:κ. v | ⟨v0, …⟩ | perform op^ε τ̄ | i ⊳ Fin n

Toolkit extensions, each erased to the λp form of the same name: saturated type constants
``c τ̄`` (``Int``, ``String``, ``Bool``, ``()``, tuples, ``Either a b``, ``List a``), type-level
``λa:κ. τ`` (so that a handler's answer type constructor ρ can be written, as ``λa. (a, Int)``),
strings, constructors, primitive operations, ``if``, ``x ← e1; e2`` and top-level definitions
(``Global``). A handle names its answer type constructor and its parameter's type:
``handle[ρ, τ] h e1 e2``.

Names are strings: Fp reduces closed terms only, so a substituted value never has a free name
that a binder could capture; type substitution in the checker renames binders when it must
(``fp_types.subst``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from calculi.core.syntax import Node

# -- kinds -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KStar(Node):
    pass


@dataclass(frozen=True, slots=True)
class KEff(Node):
    pass


@dataclass(frozen=True, slots=True)
class KArrow(Node):
    dom: Kind
    cod: Kind


Kind: TypeAlias = KStar | KEff | KArrow
STAR, EFF = KStar(), KEff()

# -- rows and types ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row(Node):
    """⟨l1 | ⟨l2 | … | ε⟩⟩ flattened: the labels in order, and a row variable or ⟨⟩ (None)."""

    labels: tuple[str, ...] = ()
    tail: str | None = None


PURE = Row()


@dataclass(frozen=True, slots=True)
class TVar(Node):
    name: str


@dataclass(frozen=True, slots=True)
class TCon(Node):
    """A saturated type constant: ``Int``, ``Tuple a b``, ``Either a b``, ``List a``, …"""

    name: str
    args: tuple[Type, ...] = ()


@dataclass(frozen=True, slots=True)
class TArrow(Node):
    """(x:τ1) →^ε τ2; ``binder`` None when x is not named (τ1 →^ε τ2)."""

    binder: str | None
    dom: Type
    row: Row
    cod: Type


@dataclass(frozen=True, slots=True)
class TForall(Node):
    name: str
    kind: Kind
    body: Type


@dataclass(frozen=True, slots=True)
class TLam(Node):
    name: str
    kind: Kind
    body: Type


@dataclass(frozen=True, slots=True)
class TApp(Node):
    fn: Type
    arg: Type


@dataclass(frozen=True, slots=True)
class TFin(Node):
    """Fin n, n a value of type Int (a literal or a variable)."""

    bound: Term


@dataclass(frozen=True, slots=True)
class TArray(Node):
    """Fin n ⇒ τ."""

    bound: Term
    elem: Type


Type: TypeAlias = TVar | TCon | TArrow | TForall | TLam | TApp | TFin | TArray | Row
"""A type; a ``Row`` is a type of kind eff (the argument of ∀ε:eff. …'s application)."""

CONSTANTS: dict[str, int] = {"Int": 0, "String": 0, "Bool": 0, "Tuple": -1, "Either": 2, "List": 1}
"""Type constants and their arities (-1: a tuple, of any arity but 1)."""
INT, STRING, BOOL, UNIT = TCon("Int"), TCon("String"), TCon("Bool"), TCon("Tuple")

# -- expressions -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lit(Node):
    value: int | str


@dataclass(frozen=True, slots=True)
class Var(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Global(Node):
    """A top-level definition's name (its value is unfolded by the semantics, inlined by erasure)."""

    name: str


@dataclass(frozen=True, slots=True)
class Lam(Node):
    """λ^ε x:τ. e"""

    name: str
    ty: Type
    row: Row
    body: Term


@dataclass(frozen=True, slots=True)
class TAbs(Node):
    """Λa:κ. v (the body is a value: the value restriction of Lemma 6.1)."""

    name: str
    kind: Kind
    body: Term


@dataclass(frozen=True, slots=True)
class Arr(Node):
    items: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class Con(Node):
    """``()``, tuples, ``True``, ``False``, ``Left[τ] v`` and ``Right[τ] v`` (τ: the other side)."""

    tag: str
    args: tuple[Term, ...] = ()
    other: Type | None = None


@dataclass(frozen=True, slots=True)
class Perform(Node):
    """perform op^ε τ̄; ``row`` None when omitted (then it is the row of the context)."""

    op: str
    row: Row | None = None
    targs: tuple[Type, ...] = ()


@dataclass(frozen=True, slots=True)
class App(Node):
    fn: Term
    arg: Term


@dataclass(frozen=True, slots=True)
class TyApp(Node):
    fn: Term
    ty: Type


@dataclass(frozen=True, slots=True)
class Coerce(Node):
    """e ⊳ τ, between Fin n and Int; ``i ⊳ Fin n`` (a literal) is a value."""

    term: Term
    ty: Type


@dataclass(frozen=True, slots=True)
class For(Node):
    """for x:Fin n. e"""

    name: str
    bound: Term
    body: Term


@dataclass(frozen=True, slots=True)
class Index(Node):
    array: Term
    index: Term


@dataclass(frozen=True, slots=True)
class Handler(Node):
    clauses: tuple[tuple[str, Term], ...]

    def clause(self, name: str) -> Term | None:
        return next((f for key, f in self.clauses if key == name), None)

    def ops(self) -> list[str]:
        return [key for key, _ in self.clauses if key not in ("return", "traverse")]


@dataclass(frozen=True, slots=True)
class Handle(Node):
    """handle[ρ, τ] h e1 e2: ρ the answer type constructor, τ the parameter's type."""

    answer: Type
    param_ty: Type
    handler: Handler
    param: Term
    body: Term


@dataclass(frozen=True, slots=True)
class Let(Node):
    """x ← e1; e2 (``_`` for e1; e2)."""

    name: str
    rhs: Term
    body: Term


@dataclass(frozen=True, slots=True)
class If(Node):
    cond: Term
    then: Term
    orelse: Term


@dataclass(frozen=True, slots=True)
class Prim(Node):
    op: str
    args: tuple[Term, ...]


Term: TypeAlias = (
    Lit | Var | Global | Lam | TAbs | Arr | Con | Perform | App | TyApp | Coerce | For | Index | Handle | Let
    | If | Prim
)


def is_value(t: Term) -> bool:
    """Fp's values (Fig. 2), with constructors of values."""
    if isinstance(t, Lit | Var | Global | Lam | TAbs | Perform):
        return True
    if isinstance(t, Arr | Con):
        return all(is_value(a) for a in (t.items if isinstance(t, Arr) else t.args))
    if isinstance(t, Coerce):
        return isinstance(t.term, Lit) and isinstance(t.ty, TFin)
    return False


@dataclass(frozen=True, slots=True)
class Definition(Node):
    """def name = v"""

    name: str
    value: Term


@dataclass(frozen=True, slots=True)
class Effect(Node):
    """effect l : ∀ā:κ̄. σ1 → σ2 (one operation per label, named as its label)."""

    label: str
    params: tuple[tuple[str, Kind], ...]
    arg: Type
    result: Type


@dataclass(frozen=True, slots=True)
class Constant(Node):
    """const name : τ := λp-term — a library function whose type is trusted, implemented in λp
    (``text``, read against λp's prelude); erasure puts the λp term in its place."""

    name: str
    ty: Type
    text: str


Item: TypeAlias = Definition | Effect | Constant | Term
