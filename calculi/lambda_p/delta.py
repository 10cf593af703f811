"""The δ-rules of the toolkit's primitive operations: one table, on run-time values (``values``).

Each rule takes the argument values (evaluated left to right) and the span of the application,
and returns the result or raises ``Stuck`` (group "bad primitive"). The fast evaluator calls the
table directly; the small-step machine converts its value terms to run-time values and back.
A binary rule may also give its restriction to two integers (``on_ints``), which the fast
evaluator calls without the checks when both arguments are integers.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from calculi.core.parsing import show_int
from calculi.core.syntax import Span
from calculi.lambda_p.pretty import show
from calculi.lambda_p.stuck import bad_primitive
from calculi.lambda_p.values import VArr, VCon, describe, is_data, to_term, vbool

Rule = Callable[[list[Any], Span | None], Any]


@dataclass(frozen=True, slots=True)
class Delta:
    """One primitive: its δ-rule, and the rule on two integers where that needs no check."""

    rule: Rule
    on_ints: Callable[[int, int], Any] | None = None


def _ints(op: str, args: list[Any], span: Span | None) -> tuple[int, int]:
    a, b = args
    for v in (a, b):
        if type(v) is not int:
            raise bad_primitive(f"{op} expects integers, got {describe(v)}", span)
    return a, b


def _arith(op: str, f: Callable[[int, int], int]) -> Rule:
    def rule(args: list[Any], span: Span | None) -> Any:
        a, b = _ints(op, args, span)
        if op in ("/", "%") and b == 0:
            raise bad_primitive("division by zero", span)
        return f(a, b)

    return rule


def _compare(op: str, f: Callable[[Any, Any], bool]) -> Rule:
    def rule(args: list[Any], span: Span | None) -> Any:
        a, b = args
        if type(a) is type(b) and type(a) in (int, str):
            return vbool(f(a, b))
        raise bad_primitive(
            f"{op} compares two integers or two strings, got {describe(a)} and {describe(b)}", span
        )

    return rule


def data_equal(a: Any, b: Any) -> bool:
    """Structural equality of two data values (an integer never equals a string)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if type(x) is VCon:
            if x.tag != y.tag or len(x.args) != len(y.args):
                return False
            stack.extend(zip(x.args, y.args, strict=True))
        elif type(x) is VArr:
            if len(x.items) != len(y.items):
                return False
            stack.extend(zip(x.items, y.items, strict=True))
        elif x != y:
            return False
    return True


def _equal(negate: bool) -> Rule:
    def rule(args: list[Any], span: Span | None) -> Any:
        a, b = args
        for v in (a, b):
            if not is_data(v):
                raise bad_primitive(
                    f"== compares data (numbers, strings, arrays, constructors), not {describe(v)}", span
                )
        return vbool(data_equal(a, b) != negate)

    return rule


def _bool(op: str, v: Any, span: Span | None) -> bool:
    if type(v) is VCon and v.tag in ("True", "False") and not v.args:
        return v.tag == "True"
    raise bad_primitive(f"{op} expects booleans, got {describe(v)}", span)


def _concat(args: list[Any], span: Span | None) -> Any:
    a, b = args
    if type(a) is str and type(b) is str:
        return a + b
    if type(a) is VArr and type(b) is VArr:
        return VArr(a.items + b.items)
    raise bad_primitive(f"++ joins two strings or two arrays, got {describe(a)} and {describe(b)}", span)


def _length(args: list[Any], span: Span | None) -> Any:
    (a,) = args
    if type(a) is VArr:
        return len(a.items)
    if type(a) is str:
        return len(a)
    raise bad_primitive(f"length expects an array or a string, got {describe(a)}", span)


def _show(args: list[Any], span: Span | None) -> Any:
    (a,) = args
    if type(a) is int:
        return show_int(a)
    if type(a) is str:
        return a
    if not is_data(a):
        raise bad_primitive(f"show expects data, got {describe(a)}", span)
    return show(to_term(a))


DELTA: dict[str, Delta] = {
    "+": Delta(_arith("+", operator.add), operator.add),
    "-": Delta(_arith("-", operator.sub), operator.sub),
    "*": Delta(_arith("*", operator.mul), operator.mul),
    "/": Delta(_arith("/", operator.floordiv)),
    "%": Delta(_arith("%", operator.mod)),
    "<": Delta(_compare("<", operator.lt), lambda a, b: vbool(a < b)),
    "<=": Delta(_compare("<=", operator.le), lambda a, b: vbool(a <= b)),
    ">": Delta(_compare(">", operator.gt), lambda a, b: vbool(a > b)),
    ">=": Delta(_compare(">=", operator.ge), lambda a, b: vbool(a >= b)),
    "==": Delta(_equal(False), lambda a, b: vbool(a == b)),
    "!=": Delta(_equal(True), lambda a, b: vbool(a != b)),
    "&&": Delta(lambda args, span: vbool(_bool("&&", args[0], span) and _bool("&&", args[1], span))),
    "||": Delta(lambda args, span: vbool(_bool("||", args[0], span) or _bool("||", args[1], span))),
    "not": Delta(lambda args, span: vbool(not _bool("not", args[0], span))),
    "++": Delta(_concat),
    "length": Delta(_length),
    "show": Delta(_show),
}
