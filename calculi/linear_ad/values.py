"""Values as the command line and the REPL print them: ``(1.5, (2.0, 3.0) ; 4.0)``.

Also the argument positions of ``grad --wrt 1,3``. A module of its own, free of the passes and the
domains, so that the command line loads only what a command needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from calculi.core.errors import UsageError
from calculi.core.syntax import Source
from calculi.linear_ad.types import TupleType, Type

if TYPE_CHECKING:
    from calculi.linear_ad.primitives import Value


def format_values(nl: Sequence[Value], ln: Sequence[Value]) -> str:
    left = ", ".join(format_value(v) for v in nl)
    right = ", ".join(format_value(v) for v in ln)
    return f"({left} ; {right})" if right else f"({left})"


def format_value(v: Value) -> str:
    if isinstance(v, tuple):
        inner = ", ".join(format_value(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    return repr(v)


def ones(ty: Type) -> Value:
    """The value of type ``ty`` with every scalar 1.0 (a tangent or cotangent to suggest)."""
    return tuple(ones(t) for t in ty.items) if isinstance(ty, TupleType) else 1.0


def positions(source: Source, start: int, name: str, n: int) -> list[int]:
    """``1,3`` at ``start`` in ``source`` (to its end): distinct positions of ``name``'s ``n`` arguments,
    counted from 1 (returned counted from 0); an error points at the bad one."""
    text = source.text[start:]
    out: list[int] = []
    at = start
    for word in text.split(","):
        end = len(source.text)
        span = source.span(min(at, max(start, end - 1)), max(at + len(word), min(at + 1, end)))
        at += len(word) + 1
        item = word.strip()
        if not (item.isascii() and item.isdigit() and 1 <= int(item) <= n):
            raise UsageError(f"--wrt takes positions of {name}'s arguments counted from 1, each from 1 to "
                             f"{n}; got {item!r}", span)
        if int(item) - 1 in out:
            raise UsageError(f"--wrt lists argument {item} twice", span)
        out.append(int(item) - 1)
    return out
