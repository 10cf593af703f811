"""Run a function on a thread with a large stack, so that deeply nested terms and long chains of
resumptions do not hit Python's recursion limit."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TypeVar

R = TypeVar("R")

STACK_BYTES = 512 * 1024 * 1024
CANCEL = threading.Event()  # set when the caller is interrupted (Ctrl-C); evaluators poll it
RECURSION_LIMIT = 200_000


def deep(fn: Callable[[], R]) -> R:
    """``fn()`` on a big-stack thread; its result or its exception, in the caller.

    A ``KeyboardInterrupt`` in the caller cancels the evaluation (see ``check_cancelled``) and is
    re-raised once the thread has stopped."""
    if threading.current_thread().name == "lambda_p-deep":
        return fn()
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as err:  # re-raised in the caller
            box["error"] = err

    old_size = threading.stack_size(STACK_BYTES)
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, RECURSION_LIMIT))
    thread = threading.Thread(target=target, name="lambda_p-deep", daemon=True)
    try:
        try:  # from the start: an interrupt that lands while the thread starts cancels it too
            thread.start()
            while thread.is_alive():
                thread.join(0.05)
        except KeyboardInterrupt:
            CANCEL.set()  # the evaluation stops at its next step
            while thread.is_alive():  # short joins: a second Ctrl-C must not leave a join half done
                thread.join(0.05)
            raise
        finally:
            CANCEL.clear()
    finally:
        threading.stack_size(old_size)
        sys.setrecursionlimit(old_limit)
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def check_cancelled() -> None:
    """Raise ``KeyboardInterrupt`` in an evaluation whose caller was interrupted."""
    if CANCEL.is_set():
        raise KeyboardInterrupt
