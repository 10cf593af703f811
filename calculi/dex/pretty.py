"""AST → text that re-parses to the same AST, and values → text.

Precedence levels, loosest first: 0 binders and ``;``, 1 ``+=``/``:=``, 2 comparisons,
3 ``+ -``, 4 ``* /``, 5 negation, 6 application, 7 ``x.i``/``r!i``/``e@n``, 8 atoms.
Parts are appended to one list, so printing is linear in the size of the term.
"""

from __future__ import annotations

from fractions import Fraction

from calculi.core.parsing import show_int
from calculi.dex.syntax import (
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
    UnitT,
    Var,
)

_BINOP_LEVEL = {"<": 2, "<=": 2, "==": 2, "+": 3, "-": 3, "*": 4, "/": 4, "%": 4}


def show_real(value: Fraction) -> str:
    """A decimal literal (``1.5``) for a rational whose denominator divides a power of ten."""
    den, k = value.denominator, 0
    while den % 10 == 0:
        den //= 10
        k += 1
    while den % 2 == 0 or den % 5 == 0:
        den //= 2 if den % 2 == 0 else 5
        k += 1
    if den != 1:
        raise ValueError(f"{value} has no decimal literal")
    k = max(k, 1)
    scaled = abs(value.numerator) * 10**k // value.denominator
    digits = show_int(scaled).rjust(k + 1, "0")
    return ("-" if value < 0 else "") + digits[:-k] + "." + digits[-k:]


def show_effect(effect: Effect) -> str:
    return f"{effect.kind} {effect.name}"


def show_row(row: tuple[Effect, ...]) -> str:
    return "{" + ", ".join(show_effect(e) for e in row) + "}"


def show_type(ty: Type) -> str:
    out: list[str] = []
    _type(ty, 0, out)
    return "".join(out)


def _type(ty: Type, level: int, out: list[str]) -> None:
    match ty:
        case RealT():
            out.append("Real")
        case IntT():
            out.append("Int")
        case BoolT():
            out.append("Bool")
        case UnitT():
            out.append("()")
        case Fin(size=n):
            out.append(f"Fin {show_int(n)}")
        case Enum(labels=labels):
            out.append("{" + "|".join(labels) + "}")
        case PairT(fst=a, snd=b):
            out.append("(")
            _type(a, 0, out)
            out.append(", ")
            _type(b, 0, out)
            out.append(")")
        case RefT(kind=kind, elem=elem, name=name):
            out.append(f"Ref {kind} {name} ")
            _type(elem, 2, out)
        case TableT(index=n, elem=a):
            _open(level > 1, out)
            _type(n, 2, out)
            out.append("=>")
            _type(a, 1, out)
            _close(level > 1, out)
        case FunT(arg=a, row=row, res=b):
            _open(level > 0, out)
            _type(a, 1, out)
            out.append(" ->" + (show_row(row) + " " if row else " "))
            _type(b, 0, out)
            _close(level > 0, out)
        case IndexVar(index=i):
            out.append(f"(the index set of {i})")
        case _:
            raise TypeError(ty)


def _open(paren: bool, out: list[str]) -> None:
    if paren:
        out.append("(")


def _close(paren: bool, out: list[str]) -> None:
    if paren:
        out.append(")")


def show(expr: Expr) -> str:
    """The program as text; ``parse_program(show(e)) == e``."""
    out: list[str] = []
    _expr(expr, 0, out)
    return "".join(out)


def _binder(head: str, body: Expr, level: int, out: list[str]) -> None:
    _open(level > 0, out)
    out.append(head)
    _expr(body, 0, out)
    _close(level > 0, out)


def _expr(e: Expr, level: int, out: list[str]) -> None:
    match e:
        case Var(name=name):
            out.append(name)
        case IntLit(value=v):
            out.append(show_int(v))
        case RealLit(value=v):
            out.append(show_real(v))
        case BoolLit(value=v):
            out.append("True" if v else "False")
        case UnitLit():
            out.append("()")
        case Pair(fst=a, snd=b):
            out.append("(")
            _expr(a, 0, out)
            out.append(", ")
            _expr(b, 0, out)
            out.append(")")
        case Lam(param=x, type=t, body=body):
            _binder(f"\\{x}:{show_type(t)}. ", body, level, out)
        case For(index=i, type=t, body=body):
            head = f"for {i}. " if isinstance(t, Omitted) else f"for {i}:{show_type(t)}. "
            _binder(head, body, level, out)
        case Let():
            _open(level > 0, out)
            link: Expr = e
            while isinstance(link, Let):  # along the spine: thousands of lets print
                out.append(f"let {link.name} = ")
                _expr(link.bound, 0, out)
                out.append(" in ")
                link = link.body
            _expr(link, 0, out)
            _close(level > 0, out)
        case If(cond=c, then=a, orelse=b):
            _open(level > 0, out)
            out.append("if ")
            _expr(c, 0, out)
            out.append(" then ")
            _expr(a, 0, out)
            out.append(" else ")
            _expr(b, 0, out)
            _close(level > 0, out)
        case Case(scrutinee=s, alts=alts):
            _open(level > 0, out)
            out.append("case ")
            _expr(s, 0, out)
            out.append(" of ")
            for k, (label, body) in enumerate(alts):
                out.append((" | " if k else "") + label + " -> ")
                _expr(body, 1, out)
            _close(level > 0, out)
        case Handle(handler=h, init=init, monoid=monoid, ref=r, body=body):
            _open(level > 0, out)
            out.append(h + " ")
            if init is not None:
                _expr(init, 7, out)
            elif monoid is not None:
                _type(monoid, 2, out)
            out.append(f" \\{r}. ")
            _expr(body, 0, out)
            _close(level > 0, out)
        case Seq(first=a, then=b):
            _open(level > 0, out)
            _expr(a, 1, out)
            out.append("; ")
            _expr(b, 0, out)
            _close(level > 0, out)
        case Accum(ref=r, value=v) | Put(ref=r, value=v):
            _open(level > 1, out)
            _expr(r, 2, out)
            out.append(" += " if isinstance(e, Accum) else " := ")
            _expr(v, 2, out)
            _close(level > 1, out)
        case BinOp(op=op, left=a, right=b):
            mine = _BINOP_LEVEL[op]
            _open(level > mine, out)
            _expr(a, mine + (mine == 2), out)
            out.append(f" {op} ")
            _expr(b, mine + 1, out)
            _close(level > mine, out)
        case Neg(arg=a):
            _open(level > 5, out)
            mark = len(out)
            _expr(a, 5, out)
            out.insert(mark, "- " if out[mark].startswith("-") else "-")
            _close(level > 5, out)
        case App(fun=f, arg=a):
            _open(level > 6, out)
            _expr(f, 6, out)
            out.append(" ")
            _expr(a, 7, out)
            _close(level > 6, out)
        case Index(table=x, index=i) | RefIndex(ref=x, index=i):
            _open(level > 7, out)
            _expr(x, 7, out)
            out.append("." if isinstance(e, Index) else "!")
            _expr(i, 8, out)
            _close(level > 7, out)
        case At(value=v, index=t):
            _open(level > 7, out)
            _expr(v, 7, out)
            out.append("@")
            _type(t, 2, out)
            _close(level > 7, out)
        case _:
            raise TypeError(e)
