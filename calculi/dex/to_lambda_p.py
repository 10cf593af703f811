"""The effects mean what λp's handlers mean: a checked Dex program translated into λp.

``translate(e, checked)`` gives the text of a λp expression, read over λp's prelude and
``to_lambda_p.lp``; ``run_in_lambda_p`` runs it with λp's evaluator and reads the value back as a
Dex value, so that both calculi's answers can be compared exactly. The rules, one per construct:

* ``with_reader v \\r. e`` ↦ ``runReader v (\\_. (\\r. e) (dexRoot ()))``; ``run_state v \\r. e`` ↦
  ``runState v (…)``; ``run_accum τ \\r. e`` ↦ ``runAccum ⊕τ 0τ (…)``, with ``⊕`` and ``0`` of the
  monoid of τ (reals under +, tables of them entrywise). Both calculi give ``(result, final)``.
* A reference is a lens into its handler's parameter (``dexRoot``, and ``dexEntry`` for ``r!i``);
  ``get r``, ``r := v``, ``ask r`` and ``r += v`` become the handler's operations ``get``, ``set``,
  ``ask`` and ``accum`` through it (``r!i += v`` accumulates the table that is ``v`` at ``i`` and 0
  elsewhere).
* A parallel ``for`` that accumulates, under ``run_accum`` and ``with_reader`` only (no
  ``run_state`` around it, and not in a function body), becomes λp's ``for``, traversed by
  ``runAccum``; every other ``for`` (sequential ones, with ``State``, in particular) becomes
  ``generate``, which visits the indices in order.
* Tables are λp arrays (a table over ``(n, m)`` in row-major order); an index is its ordinal (a pair
  index a pair); reals are exact fractions ``(num, den)``; the rest maps one to one.

Refused, with the position and the reason: ``exp``, ``log`` and ``sqrt`` (λp has no inexact
numbers), and an operation on a reference under another handler of the same kind (λp finds a
handler by the operation's name, so the inner handler would take it).
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from functools import cache
from importlib import resources

from calculi.core.errors import CalculusError
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.dex.check import check
from calculi.dex.syntax import (
    PRIMITIVES,
    Accum,
    App,
    At,
    BinOp,
    BoolLit,
    BoolT,
    Case,
    Enum,
    Expr,
    Fin,
    For,
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
    Seq,
    TableT,
    Type,
    UnitLit,
    UnitT,
    Var,
)
from calculi.dex.typing_base import HANDLER_KIND, Checked, is_monoid, size
from calculi.dex.values import Label, Table, Value
from calculi.lambda_p.program import Program
from calculi.lambda_p.run import run_term
from calculi.lambda_p.syntax import Arr, Con, Globals, Lit, Term


class Untranslatable(CalculusError):
    """A Dex construct that has no translation into λp."""

    kind = "translation error"


Out = list[str]

_REAL_OPS = {"+": "dexAdd", "-": "dexSub", "*": "dexMul", "/": "dexDiv", "<": "dexLt",
             "<=": "dexLe", "==": "dexEq"}
_PRIMS = {"fst": "fst", "snd": "snd", "sum": "dexSum", "floor": "dexFloor", "get": "dexGet",
          "ask": "dexAsk"}
_HANDLERS = {"with_reader": "runReader", "run_state": "runState", "run_accum": "runAccum"}
_LAMBDA = ("lambda", 0)


def translate(expr: Expr, checked: Checked | None = None) -> str:
    """The λp expression (text) of a closed, checked Dex program."""
    translator = _Translator(checked if checked is not None else check(expr))
    out: Out = []
    try:
        translator.expr(expr, out)
    except RecursionError:
        raise Untranslatable("program nested too deeply to translate", expr.span) from None
    return "".join(out)


def _name(x: str) -> str:
    """A Dex name in λp: prefixed, so that it never meets a prelude name or a helper's."""
    return "v_" + x


def zero_text(ty: Type) -> str:
    """The unit of the monoid ``ty`` (``()`` where ``ty`` is not one: nothing accumulates there)."""
    if isinstance(ty, TableT) and is_monoid(ty):
        return f"(replicate {size(ty.index)} {zero_text(ty.elem)})"
    return "(0, 1)" if isinstance(ty, RealT) else "()"


def plus_text(ty: Type) -> str:
    """``⊕`` of the monoid ``ty``."""
    return f"(dexLift {plus_text(ty.elem)})" if isinstance(ty, TableT) else "dexAdd"


def ordinal_text(ty: Type, index: str) -> str:
    """The position of an index of ``ty`` among all of them (row-major for pairs)."""
    if isinstance(ty, PairT):
        inner = f"{ordinal_text(ty.fst, 'p')} * {size(ty.snd)} + {ordinal_text(ty.snd, 'q')}"
        return f"((\\(p, q). {inner}) ({index}))"
    return index


def index_text(ty: Type, position: str) -> str:
    """The index of ``ty`` at ``position``: the inverse of ``ordinal_text``."""
    if isinstance(ty, PairT):
        n = size(ty.snd)
        inner = f"({index_text(ty.fst, f'(k / {n})')}, {index_text(ty.snd, f'(k % {n})')})"
        return f"((\\k. {inner}) ({position}))"
    return position


class _Translator:
    def __init__(self, checked: Checked) -> None:
        self.checked = checked
        self.parallel = checked.parallel
        self.rows = {id(loop): row for loop, row in checked.loops}
        self.bound: dict[str, int] = {}
        self.handlers: list[tuple[str, int]] = []
        """The handlers around the construct being translated, innermost last (``_LAMBDA`` marks a
        function body: who handles its operations is known only where it is applied)."""

    def binding(self, name: str, out: Out, body: Callable[[], None]) -> None:
        self.bound[name] = self.bound.get(name, 0) + 1
        out.append(f"(\\{_name(name)}. ")
        body()
        out.append(")")
        self.bound[name] -= 1

    def expr(self, e: Expr, out: Out) -> None:
        rule = _RULES.get(type(e))
        if rule is None:
            raise Untranslatable(f"no translation of {type(e).__name__}", e.span)
        rule(self, e, out)

    def paren(self, e: Expr, out: Out) -> None:
        out.append("(")
        self.expr(e, out)
        out.append(")")

    def var(self, e: Var, out: Out) -> None:
        out.append(_name(e.name))

    def literal(self, e: Expr, out: Out) -> None:
        match e:
            case IntLit(value=v):
                out.append(str(v) if v >= 0 else f"(0 - {-v})")
            case RealLit(value=v):
                out.append(f"({v.numerator}, {v.denominator})" if v >= 0 else
                           f"(0 - {-v.numerator}, {v.denominator})")
            case BoolLit(value=v):
                out.append("True" if v else "False")
            case UnitLit():
                out.append("()")

    def pair(self, e: Pair, out: Out) -> None:
        out.append("(")
        self.expr(e.fst, out)
        out.append(", ")
        self.expr(e.snd, out)
        out.append(")")

    def lam(self, e: Lam, out: Out) -> None:
        self.handlers.append(_LAMBDA)
        self.binding(e.param, out, lambda: self.expr(e.body, out))
        self.handlers.pop()

    def app(self, e: App, out: Out) -> None:
        if isinstance(e.fun, Var) and e.fun.name in PRIMITIVES and not self.bound.get(e.fun.name):
            self.primitive(e.fun.name, e, out)
            return
        out.append("(")
        self.paren(e.fun, out)
        out.append(" ")
        self.paren(e.arg, out)
        out.append(")")

    def primitive(self, p: str, e: App, out: Out) -> None:
        if p in ("exp", "log", "sqrt"):
            raise Untranslatable(f"{p} has no exact value, and λp has only exact numbers", e.span)
        if p == "ordinal":
            self.expr(e.arg, out)
        elif p == "to_real":
            out.append("(")
            self.paren(e.arg, out)
            out.append(", 1)")
        else:
            out.append(f"({_PRIMS[p]} ")
            self.paren(e.arg, out)
            out.append(")")

    def let(self, e: Let, out: Out) -> None:
        out.append("(")
        self.binding(e.name, out, lambda: self.expr(e.body, out))
        out.append(" ")
        self.paren(e.bound, out)
        out.append(")")

    def seq(self, e: Seq, out: Out) -> None:
        out.append("(")
        self.paren(e.first, out)
        out.append("; ")
        self.expr(e.then, out)
        out.append(")")

    def if_(self, e: If, out: Out) -> None:
        for word, part in (("(if ", e.cond), (" then ", e.then), (" else ", e.orelse)):
            out.append(word)
            self.expr(part, out)
        out.append(")")

    def case(self, e: Case, out: Out) -> None:
        labels = self.checked.operands[id(e)]
        assert isinstance(labels, Enum)
        alts = dict(e.alts)
        out.append("(dexCase ")
        self.paren(e.scrutinee, out)
        out.append(" <")
        for k, label in enumerate(labels.labels):
            out.append(", \\_. " if k else "\\_. ")
            self.paren(alts[label], out)
        out.append(">)")

    def binop(self, e: BinOp, out: Out) -> None:
        if isinstance(self.checked.operands[id(e)], RealT):
            out.append(f"({_REAL_OPS[e.op]} ")
            self.paren(e.left, out)
            out.append(" ")
            self.paren(e.right, out)
            out.append(")")
            return
        out.append("(")
        self.paren(e.left, out)
        out.append(f" {e.op} ")  # spaced: λp reads '<' as a comparison before a space
        self.paren(e.right, out)
        out.append(")")

    def neg(self, e: Neg, out: Out) -> None:
        out.append("(dexNeg " if isinstance(self.checked.operands[id(e)], RealT) else "(0 - ")
        self.paren(e.arg, out)
        out.append(")")

    def for_(self, e: For, out: Out) -> None:
        """A ``for`` as λp's ``for`` where ``runAccum`` traverses it, else as ``generate``."""
        n, traversed = e.type, self.traversed(e)
        out.append(f"(for k:{size(n)}. (" if traversed else "(generate (\\k. (")
        self.binding(e.index, out, lambda: self.expr(e.body, out))
        out.append(f" {index_text(n, 'k')}))" + ("" if traversed else f" {size(n)})"))

    def traversed(self, e: For) -> bool:
        """Whether ``e`` is a parallel ``for`` that accumulates, under accumulators and readers
        only. (``runAccum`` runs the iterations in a ``for`` of its own, which every enclosing
        handler traverses too; ``runState``, whose traversal keeps its parameter per iteration,
        would hand back pairs there.)"""
        row = self.rows[id(e)]
        wanted = {x.label for x in row if x.kind == "Accum"}
        if id(e) not in self.parallel or not wanted:
            return False
        if any(kind in ("lambda", "run_state") for kind, _ in self.handlers):
            return False
        return wanted <= {label for _, label in self.handlers}

    def index(self, e: Index, out: Out) -> None:
        out.append("(")
        self.paren(e.table, out)
        out.append(".")
        self.ordinal(e, e.index, out)
        out.append(")")

    def ordinal(self, e: Index | RefIndex, index: Expr, out: Out) -> None:
        n = self.checked.operands[id(e)]
        inner: Out = []
        self.paren(index, inner)
        out.append(f"({ordinal_text(n, ''.join(inner))})")

    def at(self, e: At, out: Out) -> None:
        if isinstance(e.index, Enum):
            assert isinstance(e.value, Var)
            out.append(str(e.index.labels.index(e.value.name)))
            return
        assert isinstance(e.index, Fin)
        out.append(f"(dexAt {e.index.size} ")
        self.paren(e.value, out)
        out.append(")")

    def handle(self, e: Handle, out: Out) -> None:
        kind = HANDLER_KIND[e.handler]
        label, row = self.checked.handlers[id(e)]
        for effect in row:
            if effect.kind == kind and effect.label != label:
                raise Untranslatable(
                    f"{effect.name} is used under {e.handler} \\{e.ref}, a handler of the same "
                    f"kind ({kind}): in λp the inner handler would take its operations", e.span)
        out.append(f"({_HANDLERS[e.handler]} ")
        if e.init is not None:
            self.paren(e.init, out)
        else:
            assert e.monoid is not None
            out.append(f"{plus_text(e.monoid)} {zero_text(e.monoid)}")
        out.append(" (\\_. (")
        self.handlers.append((e.handler, label))
        self.binding(e.ref, out, lambda: self.expr(e.body, out))
        self.handlers.pop()
        out.append(" (dexRoot ()))))")

    def effect(self, e: Accum | Put, out: Out) -> None:
        out.append("(dexAccum " if isinstance(e, Accum) else "(dexPut ")
        self.paren(e.ref, out)
        out.append(" ")
        self.paren(e.value, out)
        out.append(")")

    def ref_index(self, e: RefIndex, out: Out) -> None:
        ref = self.checked.refs[id(e)]
        assert isinstance(ref.elem, TableT)
        out.append(f"(dexEntry {size(ref.elem.index)} {zero_text(ref.elem.elem)} ")
        self.paren(e.ref, out)
        out.append(" ")
        self.ordinal(e, e.index, out)
        out.append(")")


_RULES: dict[type, Callable[..., None]] = {
    Var: _Translator.var, IntLit: _Translator.literal, RealLit: _Translator.literal,
    BoolLit: _Translator.literal, UnitLit: _Translator.literal, Pair: _Translator.pair,
    Lam: _Translator.lam, App: _Translator.app, Let: _Translator.let, Seq: _Translator.seq,
    If: _Translator.if_, Case: _Translator.case, BinOp: _Translator.binop, Neg: _Translator.neg,
    For: _Translator.for_, Index: _Translator.index, At: _Translator.at,
    Handle: _Translator.handle, Accum: _Translator.effect, Put: _Translator.effect,
    RefIndex: _Translator.ref_index,
}
"""The translation rules, one per constructor."""


@cache
def helpers() -> Globals:
    """λp's prelude with the translation's helpers (``to_lambda_p.lp``) over it, loaded once."""
    program = Program.with_prelude()
    text = resources.files(__package__ or "calculi.dex").joinpath("to_lambda_p.lp")
    program.load(Source(text.read_text(encoding="utf-8"), "to_lambda_p.lp"))
    return program.table


def run_in_lambda_p(expr: Expr, checked: Checked | None = None, fuel: Fuel | None = None,
                    machine: str = "fast") -> Value:
    """The value of a closed Dex program of data type, computed by λp, as a Dex value."""
    checked = checked if checked is not None else check(expr)
    program = Program("icfp24", Globals(helpers()))
    [term] = program.expressions(Source(translate(expr, checked), "translation.lp"))
    return read_back(run_term(term, fuel or Fuel(), machine=machine), checked.type)


def read_back(term: Term, ty: Type) -> Value:
    """A λp value as the Dex value of type ``ty`` it stands for."""
    match ty, term:
        case RealT(), Con(tag="Tuple", args=(Lit(value=int(num)), Lit(value=int(den)))):
            return Fraction(num, den)
        case IntT() | Fin(), Lit(value=int(v)):
            return v
        case BoolT(), Con(tag=tag):
            return tag == "True"
        case UnitT(), Con(tag="Tuple", args=()):
            return ()
        case Enum(labels=labels), Lit(value=int(k)):
            return Label(k, labels)
        case PairT(fst=a, snd=b), Con(tag="Tuple", args=(x, y)):
            return (read_back(x, a), read_back(y, b))
        case TableT(index=n, elem=a), Arr(items=items):
            return Table(n, tuple(read_back(x, a) for x in items))
    raise Untranslatable(f"λp gave a value that is not of the Dex type: {term!r}", None)


__all__ = ["Untranslatable", "helpers", "read_back", "run_in_lambda_p", "translate"]
