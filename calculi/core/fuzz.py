"""Fuzzing a calculus's REPL in-process: inputs people mistype, and the checks every answer meets.

``inputs(examples)`` draws random text, and mutations of ``examples`` (characters inserted,
deleted, replaced or repeated, lines cut short, brackets nested deep, numbers made huge);
``feed(name, lines)`` answers them in a fresh session, failing on any error that is not the
calculus's own (``Repl(strict=True)``), and returns the ``CalculusError`` each line ended in::

    @given(inputs(EXAMPLES))
    def test_fuzz(text): check_answers(feed("foil", [text]))
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from calculi.core.errors import CalculusError
from calculi.core.registry import open_session

__all__ = ["Answer", "answer_located", "feed", "fuzzing", "inputs", "mutations", "unlocated"]

TRICKY = ["(", ")", "[", "]", "{", "}", "<", ">", "\\", ".", ",", ":", ";", "=", "λ", "²", "٣", "\t",
          "\n", "\x00", "\u200b", "𝑥", "-", "0", "9" * 4301, "x100000000000", "--", "#", "\"", "'"]


@st.composite
def mutations(draw: st.DrawFn, examples: Sequence[str]) -> str:
    """An example with one to four edits, each at a drawn position."""
    text = draw(st.sampled_from(list(examples)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "replace", "repeat", "cut", "nest"]))
        piece = draw(st.sampled_from(TRICKY) | st.text(max_size=3))
        if edit == "insert":
            text = text[:at] + piece + text[at:]
        elif edit == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 5)):]
        elif edit == "replace":
            text = text[:at] + piece + text[at + 1:]
        elif edit == "repeat":
            text = text[:at] + text[at:at + 8] * draw(st.integers(2, 50)) + text[at:]
        elif edit == "cut":
            text = text[:at]
        else:
            depth = draw(st.sampled_from([2, 50, 3000]))
            text = "(" * depth + text + ")" * draw(st.sampled_from([depth, depth - 1, 0]))
    return text


def inputs(examples: Sequence[str]) -> st.SearchStrategy[str]:
    """Random text, or a mutation of one of ``examples`` (three times in four)."""
    return st.one_of(st.text(max_size=40), mutations(examples), mutations(examples),
                     mutations(examples))


@dataclass(frozen=True, slots=True)
class Answer:
    text: str
    """The input line."""
    printed: str
    """What the REPL printed for it."""
    error: CalculusError | None
    """The calculus's error it ended in, if any."""


def feed(calculus: str, lines: Sequence[str], fuel: int = 20_000) -> list[Answer]:
    """Answer ``lines`` in a fresh session of ``calculus`` with ``fuel`` steps per input.

    An exception that is not a ``CalculusError`` propagates (the REPL is strict), and so fails
    the test that fed the lines.
    """
    from calculi.repl import Repl  # the REPL sits above the core (calculi/repl.py imports it)

    out = io.StringIO()
    repl = Repl(open_session(calculus), out, strict=True)
    repl.handle(f":set fuel {fuel}")
    answers = []
    for line in lines:
        start = out.tell()
        errors = len(repl.errors)
        repl.handle(line)
        error = repl.errors[-1] if len(repl.errors) > errors else None
        answers.append(Answer(line, out.getvalue()[start:], error))
    return answers


def unlocated(answers: Sequence[Answer]) -> list[Answer]:
    """The answers to inputs that are not commands whose error carries no position."""
    return [a for a in answers
            if a.error is not None and a.error.span is None and not a.text.lstrip().startswith(":")
            and a.text.strip()]


def answer_located(calculus: str, text: str, prelude: Sequence[str] = (), fuel: int = 20_000) -> None:
    """Answer ``text`` after ``prelude``: an internal error propagates, an unlocated one fails."""
    answers = feed(calculus, [*prelude, text], fuel=fuel)
    assert unlocated(answers) == [], [a.printed for a in unlocated(answers)]


def fuzzing(examples: int) -> settings:
    """Hypothesis settings for a fuzz test of ``examples`` inputs (no deadline, no database)."""
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))
