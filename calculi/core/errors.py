"""Errors for people: every bad input ends in a ``CalculusError`` with a span and a reason.

Rendered as ``file:line:col: kind: reason``, then the source line and a caret under the culprit::

    <input>:1:9: unbound name: y is not in scope
      \\x. x y
             ^
"""

from __future__ import annotations

from calculi.core.syntax import Span


class CalculusError(Exception):
    """Base of all errors a calculus reports about its input."""

    kind = "error"

    def __init__(self, reason: str, span: Span | None = None, *, rule: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.span = span
        self.rule = rule

    def __str__(self) -> str:
        return self.render()

    def __reduce__(self) -> tuple[object, ...]:
        """Pickled whole (from worker processes): reason, span and rule."""
        return _rebuild, (type(self), self.reason, self.span, self.rule)

    def headline(self) -> str:
        where = f"{self.span}: " if self.span is not None else ""
        rule = f" [{self.rule}]" if self.rule else ""
        if not rule and self.reason.startswith(self.kind + ":"):  # "usage: :load FILE"
            return f"{where}{self.reason}"
        return f"{where}{self.kind}{rule}: {self.reason}"

    def render(self) -> str:
        """``file:line:col: kind: reason``, then the source line with a caret under the span."""
        lines = [self.headline()]
        if self.span is not None:
            text = self.span.source.line(self.span.line)
            if text:
                width = (
                    self.span.end_column - self.span.column
                    if self.span.end_line == self.span.line
                    else len(text) - self.span.column + 1
                )
                column, width = self.span.column, min(max(1, width), 80)
                if column > 100:  # a very long line: show the 60 characters before the culprit
                    text, column = "…" + text[column - 61 :], 62
                lines.append("  " + text[: column + 99])
                lines.append("  " + " " * (column - 1) + "^" * width)
        return "\n".join(lines)


class ParseError(CalculusError):
    kind = "syntax error"


class UnboundError(CalculusError):
    kind = "unbound name"


class ScopeError(CalculusError):
    kind = "scope error"


class TypeCheckError(CalculusError):
    kind = "type error"


class StuckError(CalculusError):
    kind = "stuck"


class FuelExhausted(CalculusError):
    kind = "out of fuel"


class ShapeError(CalculusError):
    kind = "shape error"


class UsageError(CalculusError):
    """A command was called the wrong way (REPL or command line)."""

    kind = "usage"


def _rebuild(cls: type[CalculusError], reason: str, span: Span | None, rule: str | None) -> CalculusError:
    return cls(reason, span, rule=rule)
