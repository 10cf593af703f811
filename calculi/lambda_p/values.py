"""Run-time values of the fast evaluator, and the conversions to and from λp terms.

Integers and strings are Python ``int``/``str``; constructors, arrays and ``perform op`` are small
slotted classes; a λ is a ``Closure`` (binder, body, environment keyed by foil names); a
continuation built by a handler is a ``HostFn`` (a Python function), which has no term form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from calculi.core.syntax import Span
from calculi.lambda_p.parallel import NotTransferable
from calculi.lambda_p.subst import canonical, substitute
from calculi.lambda_p.syntax import Arr, Con, Lam, Lit, Perform, Term


class VCon:
    __slots__ = ("args", "tag")

    def __init__(self, tag: str, args: tuple[Any, ...] = ()) -> None:
        self.tag = tag
        self.args = args


class VArr:
    __slots__ = ("items",)

    def __init__(self, items: tuple[Any, ...]) -> None:
        self.items = items


class VPerform:
    __slots__ = ("op",)

    def __init__(self, op: str) -> None:
        self.op = op


class Closure:
    __slots__ = ("binder", "body", "env", "hint")

    def __init__(self, binder: int, body: Term, env: dict[int, Any], hint: str = "x") -> None:
        self.binder = binder
        self.body = body
        self.env = env
        self.hint = hint


class HostFn:
    """A continuation or body continuation made by a handler rule (k, ℓ_i)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn


TRUE_V, FALSE_V, UNIT_V = VCon("True"), VCon("False"), VCon("Tuple")


def vbool(b: bool) -> VCon:
    return TRUE_V if b else FALSE_V


def to_term(v: Any) -> Term:
    """Read a value back as a closed λp term (``NotTransferable`` for a host continuation)."""
    if isinstance(v, int | str) and not isinstance(v, bool):
        return Lit(v)
    if isinstance(v, VCon):
        return Con(v.tag, tuple(to_term(a) for a in v.args))
    if isinstance(v, VArr):
        return Arr(tuple(to_term(a) for a in v.items))
    if isinstance(v, VPerform):
        return Perform(v.op)
    if isinstance(v, Closure):
        env = {name: to_term(value) for name, value in v.env.items()}
        return canonical(substitute(Lam(v.binder, v.body, v.hint), env))
    raise NotTransferable("a continuation has no term form")


def from_term(t: Term) -> Any:
    """A closed value term as a run-time value."""
    if isinstance(t, Lit):
        return t.value
    if isinstance(t, Con):
        if not t.args:
            return {"True": TRUE_V, "False": FALSE_V, "Tuple": UNIT_V}.get(t.tag) or VCon(t.tag)
        return VCon(t.tag, tuple(from_term(a) for a in t.args))
    if isinstance(t, Arr):
        return VArr(tuple(from_term(a) for a in t.items))
    if isinstance(t, Perform):
        return VPerform(t.op)
    if isinstance(t, Lam):
        return Closure(t.binder, t.body, {}, t.hint)
    raise ValueError(f"not a closed value: {t!r}")


# -- δ-rules on run-time values (the same table as ``prims.PRIMS``, without converting to terms) ----


def describe(v: Any) -> str:
    if isinstance(v, bool):
        return "a value"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, VArr):
        return f"an array of length {len(v.items)}"
    if isinstance(v, VCon):
        return (
            "a boolean" if v.tag in ("True", "False") else ("a tuple" if v.tag == "Tuple" else f"{v.tag} …")
        )
    if isinstance(v, VPerform):
        return f"perform {v.op}"
    return "a function"


def _data_eq(a: Any, b: Any) -> bool | None:
    """Structural equality of data; None when a function is involved."""
    if isinstance(a, int | str) and isinstance(b, int | str):
        return type(a) is type(b) and a == b
    if isinstance(a, VCon) and isinstance(b, VCon):
        if a.tag != b.tag or len(a.args) != len(b.args):
            return False if all(_data_eq(x, x) is not None for x in (*a.args, *b.args)) else None
        result = True
        for x, y in zip(a.args, b.args, strict=True):
            r = _data_eq(x, y)
            if r is None:
                return None
            result = result and r
        return result
    if isinstance(a, VArr) and isinstance(b, VArr):
        return _data_eq(VCon("", a.items), VCon("", b.items))
    if isinstance(a, int | str | VCon | VArr) and isinstance(b, int | str | VCon | VArr):
        return False if _data_eq(a, a) is not None and _data_eq(b, b) is not None else None
    return None


def _stuck(reason: str, span: Span | None) -> Exception:
    from calculi.lambda_p.prims import Stuck

    return Stuck("bad primitive", reason, span)


def _ints(op: str, a: Any, b: Any, span: Span | None) -> tuple[int, int]:
    for v in (a, b):
        if type(v) is not int:
            raise _stuck(f"{op} expects integers, got {describe(v)}", span)
    return a, b


def _arith(op: str, f: Callable[[int, int], int]) -> Callable[[list[Any], Span | None], Any]:
    def rule(args: list[Any], span: Span | None) -> Any:
        a, b = _ints(op, args[0], args[1], span)
        if op in ("/", "%") and b == 0:
            raise _stuck("division by zero", span)
        return f(a, b)

    return rule


def _compare(op: str, f: Callable[[Any, Any], bool]) -> Callable[[list[Any], Span | None], Any]:
    def rule(args: list[Any], span: Span | None) -> Any:
        a, b = args
        if type(a) is type(b) and type(a) in (int, str):
            return vbool(f(a, b))
        raise _stuck(f"{op} compares two integers or two strings, got {describe(a)} and {describe(b)}", span)

    return rule


def _equal(negate: bool) -> Callable[[list[Any], Span | None], Any]:
    def rule(args: list[Any], span: Span | None) -> Any:
        r = _data_eq(args[0], args[1])
        if r is None:
            bad = args[0] if _data_eq(args[0], args[0]) is None else args[1]
            raise _stuck(
                f"== compares data (numbers, strings, arrays, constructors), not {describe(bad)}", span
            )
        return vbool(r != negate)

    return rule


def _bool(op: str, v: Any, span: Span | None) -> bool:
    if isinstance(v, VCon) and v.tag in ("True", "False") and not v.args:
        return v.tag == "True"
    raise _stuck(f"{op} expects booleans, got {describe(v)}", span)


def _concat(args: list[Any], span: Span | None) -> Any:
    a, b = args
    if type(a) is str and type(b) is str:
        return a + b
    if type(a) is VArr and type(b) is VArr:
        return VArr(a.items + b.items)
    raise _stuck(f"++ joins two strings or two arrays, got {describe(a)} and {describe(b)}", span)


def _length(args: list[Any], span: Span | None) -> Any:
    a = args[0]
    if type(a) is VArr:
        return len(a.items)
    if type(a) is str:
        return len(a)
    raise _stuck(f"length expects an array or a string, got {describe(a)}", span)


def _show(args: list[Any], span: Span | None) -> Any:
    a = args[0]
    if type(a) in (int, str):
        return str(a)
    if _data_eq(a, a) is None:
        raise _stuck(f"show expects data, got {describe(a)}", span)
    from calculi.lambda_p.pretty import show

    return show(to_term(a))


VALUE_PRIMS: dict[str, Callable[[list[Any], Span | None], Any]] = {
    "+": _arith("+", lambda a, b: a + b),
    "-": _arith("-", lambda a, b: a - b),
    "*": _arith("*", lambda a, b: a * b),
    "/": _arith("/", lambda a, b: a // b),
    "%": _arith("%", lambda a, b: a % b),
    "<": _compare("<", lambda a, b: a < b),
    "<=": _compare("<=", lambda a, b: a <= b),
    ">": _compare(">", lambda a, b: a > b),
    ">=": _compare(">=", lambda a, b: a >= b),
    "==": _equal(False),
    "!=": _equal(True),
    "&&": lambda args, span: vbool(_bool("&&", args[0], span) and _bool("&&", args[1], span)),
    "||": lambda args, span: vbool(_bool("||", args[0], span) or _bool("||", args[1], span)),
    "not": lambda args, span: vbool(not _bool("not", args[0], span)),
    "++": _concat,
    "length": _length,
    "show": _show,
}
