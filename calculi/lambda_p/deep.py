"""Run a function on a thread with a large stack, so that deeply nested terms (which the parser,
the printer, substitution and the compiler walk recursively) do not hit Python's recursion limit.

The thread is started once per process and kept: handing it a function costs a few
microseconds, where starting a thread with a large stack costs about a hundred. Evaluation
itself needs no deep stack (the fast evaluator's machine keeps its continuation on the heap).
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

R = TypeVar("R")

STACK_BYTES = 1024 * 1024 * 1024  # reserved, not committed: pages are touched as the stack grows
CANCEL = threading.Event()  # set when the caller is interrupted (Ctrl-C); evaluators poll it
RECURSION_LIMIT = 500_000  # about 2 KiB of stack a frame; values 10^5 deep print
NAME = "lambda_p-deep"

_Job = tuple[Callable[[], Any], dict[str, Any], threading.Event]
_WORKER: tuple[int, queue.SimpleQueue[_Job]] | None = None  # (pid, its queue)
_START = threading.Lock()


def _serve(jobs: queue.SimpleQueue[_Job]) -> None:
    while True:
        fn, box, done = jobs.get()
        try:
            box["value"] = fn()
        except BaseException as err:  # re-raised in the caller
            box["error"] = err
        finally:
            done.set()


def _jobs() -> queue.SimpleQueue[_Job]:
    """The deep thread's queue, started on first use (and again in a forked child, which has
    no threads but its caller's)."""
    global _WORKER
    with _START:
        if _WORKER is None or _WORKER[0] != os.getpid():
            jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
            old_size = threading.stack_size(STACK_BYTES)
            try:
                threading.Thread(target=_serve, args=(jobs,), name=NAME, daemon=True).start()
            finally:
                threading.stack_size(old_size)
            _WORKER = (os.getpid(), jobs)
        return _WORKER[1]


def deep(fn: Callable[[], R]) -> R:
    """``fn()`` on the big-stack thread; its result or its exception, in the caller.

    A ``KeyboardInterrupt`` in the caller cancels the evaluation (see ``check_cancelled``) and is
    re-raised once the thread has stopped."""
    if threading.current_thread().name == NAME:
        return fn()
    box: dict[str, Any] = {}
    done = threading.Event()
    old_limit = sys.getrecursionlimit()  # the limit is the process's: raised while the job runs
    sys.setrecursionlimit(max(old_limit, RECURSION_LIMIT))
    try:
        jobs = _jobs()  # (an interrupt that lands in here has handed nothing over: it propagates)
        try:  # from the hand-over on: an interrupt cancels the job, and the job is waited for
            jobs.put((fn, box, done))
            while not done.wait(0.05):
                pass
        except KeyboardInterrupt:
            CANCEL.set()  # the evaluation stops at its next step
            while not done.wait(0.05):  # short waits: a second Ctrl-C must not leave one half done
                pass
            raise
    finally:
        CANCEL.clear()
        sys.setrecursionlimit(old_limit)
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def check_cancelled() -> None:
    """Raise ``KeyboardInterrupt`` in an evaluation whose caller was interrupted."""
    if CANCEL.is_set():
        raise KeyboardInterrupt
