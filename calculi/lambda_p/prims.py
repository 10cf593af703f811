"""δ-rules of the toolkit's primitive operations, as a table keyed by operator (shared by both
interpreters): each takes the argument values and the span of the application."""

from __future__ import annotations

from collections.abc import Callable

from calculi.core.errors import StuckError
from calculi.core.syntax import Span
from calculi.lambda_p.syntax import TUPLE, Arr, Con, Global, Lam, Lit, Perform, Term, boolean

GROUPS = (
    "unhandled operation",
    "not a function",
    "bad index",
    "missing clause",
    "bad loop bound",
    "bad primitive",
    "no match",
)


class Stuck(StuckError):
    """A stuck state, grouped as in Lemma 6.4 (``group`` is one of ``GROUPS``)."""

    def __init__(self, group: str, reason: str, span: Span | None, rule: str | None = None) -> None:
        super().__init__(reason, span, rule=rule or group)
        self.group = group


def resolve(v: Term) -> Term:
    """A global's definition (followed through aliases); other values as they are."""
    seen = 0
    while isinstance(v, Global):
        v = v.definition()
        seen += 1
        if seen > 1000:
            raise Stuck("bad primitive", "a definition refers only to itself", None)
    return v


def describe(v: Term) -> str:
    v = resolve(v)
    if isinstance(v, Lit):
        return "an integer" if isinstance(v.value, int) else "a string"
    if isinstance(v, Arr):
        return f"an array of length {len(v.items)}"
    if isinstance(v, Con):
        return "a boolean" if v.tag in ("True", "False") else ("a tuple" if v.tag == TUPLE else f"{v.tag} …")
    if isinstance(v, Lam):
        return "a function"
    if isinstance(v, Perform):
        return f"perform {v.op}"
    return "a value"


def is_data(v: Term) -> bool:
    v = resolve(v)
    if isinstance(v, Lit):
        return True
    if isinstance(v, Arr):
        return all(is_data(i) for i in v.items)
    if isinstance(v, Con):
        return all(is_data(a) for a in v.args)
    return False


def _int(op: str, v: Term, span: Span | None) -> int:
    v = resolve(v)
    if isinstance(v, Lit) and isinstance(v.value, int):
        return v.value
    raise Stuck("bad primitive", f"{op} expects integers, got {describe(v)}", span)


def _bool(op: str, v: Term, span: Span | None) -> bool:
    v = resolve(v)
    if isinstance(v, Con) and v.tag in ("True", "False"):
        return v.tag == "True"
    raise Stuck("bad primitive", f"{op} expects booleans, got {describe(v)}", span)


def _arith(op: str, f: Callable[[int, int], int]) -> Callable[[tuple[Term, ...], Span | None], Term]:
    def rule(args: tuple[Term, ...], span: Span | None) -> Term:
        a, b = _int(op, args[0], span), _int(op, args[1], span)
        if op in ("/", "%") and b == 0:
            raise Stuck("bad primitive", "division by zero", span)
        return Lit(f(a, b))

    return rule


def _compare(op: str, f: Callable[[object, object], bool]) -> Callable[[tuple[Term, ...], Span | None], Term]:
    def rule(args: tuple[Term, ...], span: Span | None) -> Term:
        a, b = resolve(args[0]), resolve(args[1])
        if isinstance(a, Lit) and isinstance(b, Lit) and type(a.value) is type(b.value):
            return boolean(f(a.value, b.value))
        raise Stuck(
            "bad primitive",
            f"{op} compares two integers or two strings, got {describe(a)} and {describe(b)}",
            span,
        )

    return rule


def _equal(negate: bool) -> Callable[[tuple[Term, ...], Span | None], Term]:
    def rule(args: tuple[Term, ...], span: Span | None) -> Term:
        a, b = resolve(args[0]), resolve(args[1])
        if not (is_data(a) and is_data(b)):
            raise Stuck(
                "bad primitive",
                "== compares data (numbers, strings, arrays, constructors), "
                f"not {describe(a if not is_data(a) else b)}",
                span,
            )
        return boolean((a == b) != negate)

    return rule


def _concat(args: tuple[Term, ...], span: Span | None) -> Term:
    a, b = resolve(args[0]), resolve(args[1])
    if isinstance(a, Lit) and isinstance(b, Lit) and isinstance(a.value, str) and isinstance(b.value, str):
        return Lit(a.value + b.value)
    if isinstance(a, Arr) and isinstance(b, Arr):
        return Arr(a.items + b.items)
    raise Stuck(
        "bad primitive", f"++ joins two strings or two arrays, got {describe(a)} and {describe(b)}", span
    )


def _length(args: tuple[Term, ...], span: Span | None) -> Term:
    a = resolve(args[0])
    if isinstance(a, Arr):
        return Lit(len(a.items))
    if isinstance(a, Lit) and isinstance(a.value, str):
        return Lit(len(a.value))
    raise Stuck("bad primitive", f"length expects an array or a string, got {describe(a)}", span)


def _show(args: tuple[Term, ...], span: Span | None) -> Term:
    a = resolve(args[0])
    if isinstance(a, Lit):
        return Lit(str(a.value))
    from calculi.lambda_p.pretty import show

    if is_data(a):
        return Lit(show(a))
    raise Stuck("bad primitive", f"show expects data, got {describe(a)}", span)


PRIMS: dict[str, Callable[[tuple[Term, ...], Span | None], Term]] = {
    "+": _arith("+", lambda a, b: a + b),
    "-": _arith("-", lambda a, b: a - b),
    "*": _arith("*", lambda a, b: a * b),
    "/": _arith("/", lambda a, b: a // b),
    "%": _arith("%", lambda a, b: a % b),
    "<": _compare("<", lambda a, b: a < b),  # type: ignore[operator]
    "<=": _compare("<=", lambda a, b: a <= b),  # type: ignore[operator]
    ">": _compare(">", lambda a, b: a > b),  # type: ignore[operator]
    ">=": _compare(">=", lambda a, b: a >= b),  # type: ignore[operator]
    "==": _equal(False),
    "!=": _equal(True),
    "&&": lambda args, span: boolean(_bool("&&", args[0], span) and _bool("&&", args[1], span)),
    "||": lambda args, span: boolean(_bool("||", args[0], span) or _bool("||", args[1], span)),
    "not": lambda args, span: boolean(not _bool("not", args[0], span)),
    "++": _concat,
    "length": _length,
    "show": _show,
}
