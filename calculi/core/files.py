"""What every command line shares: reading a source file, number arguments, and the error exit.

``read_source`` turns an unreadable or non-UTF-8 file into a ``CalculusError`` naming the file
(and the line and column of the first bad byte); ``cli(main)`` runs a command line's ``main`` so
that bad input of any kind ends in one rendered error and exit status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from calculi.core.errors import CalculusError, UsageError
from calculi.core.syntax import Source


class EncodingError(CalculusError):
    kind = "encoding error"


def read_source(path: str | os.PathLike[str]) -> Source:
    """The text of ``path`` as a ``Source`` named after it; a clear error when it cannot be read."""
    shown = os.fspath(path)
    try:
        data = Path(path).expanduser().read_bytes()
    except (OSError, RuntimeError, ValueError) as err:  # RuntimeError: ``~nosuchuser``
        reason = getattr(err, "strerror", None) or str(err)
        raise UsageError(f"cannot read {shown}: {reason}") from None
    try:
        return Source(data.decode("utf-8"), shown)
    except UnicodeDecodeError as err:
        text = data.decode("utf-8", errors="replace")
        offset = len(data[: err.start].decode("utf-8", errors="replace"))
        source = Source(text, shown)
        raise EncodingError(
            f"the file is not UTF-8 text (byte 0x{data[err.start]:02x} cannot start a character)",
            source.span(offset),
        ) from None


def positive_int(text: str) -> int:
    """An ``argparse`` type: a whole number of at least 1 (fuel, sizes, workers)."""
    try:
        value = int(text) if text.isascii() and len(text) <= 18 else -1
    except ValueError:
        value = -1
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def cli(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Run a command line's ``main``; bad input ends in one rendered error on stderr, status 1."""
    try:
        return main(argv)
    except CalculusError as err:
        print(err.render(), file=sys.stderr)
        return 1
    except RecursionError:
        print("error: input nested too deeply (bind the inner parts with let)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
