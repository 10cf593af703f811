"""Running the iterations of a (parallel) step: in order, in a chosen order, or in worker processes.

Under (parallel) no handler encloses the loop, so its iterations are closed, independent
programs: evaluating them in any order, or concurrently, gives the same array. With ``jobs > 1``
the iterations of a large enough loop are split into contiguous chunks and run in forked worker
processes (each inherits the program; only results travel back). The lowest-index error wins,
exactly as in sequential evaluation. Nested loops inside a worker run sequentially.
"""

from __future__ import annotations

import gc
import multiprocessing
import pickle
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from calculi.core.errors import CalculusError, FuelExhausted
from calculi.core.trace import Fuel
from calculi.lambda_p.values import NotTransferable

A = TypeVar("A")
B = TypeVar("B")
Iteration = Callable[[int, Fuel], Any]

MIN_PER_JOB = 2
_IN_WORKER = False
_TASK: tuple[Callable[[Any, Fuel], Any], Sequence[Any], int, Callable[[Any], Any]] | None = None


def _run_chunk(bounds: tuple[int, int]) -> tuple[list[tuple[bool, Any]], int]:
    global _IN_WORKER
    _IN_WORKER = True
    assert _TASK is not None
    fn, items, limit, encode = _TASK
    fuel = Fuel(limit)
    out: list[tuple[bool, Any]] = []
    for i in range(*bounds):
        try:
            out.append((True, encode(fn(items[i], fuel))))
        except CalculusError as err:
            out.append((False, err))
            break
        except NotTransferable:
            out.append((False, None))
            break
    try:
        pickle.dumps(out)
    except Exception:  # something that cannot travel: the parent reruns the loop sequentially
        return [(False, None)], fuel.used
    return out, fuel.used


def run_all(
    items: Sequence[A],
    fn: Callable[[A, Fuel], B],
    fuel: Fuel,
    jobs: int = 1,
    order: Callable[[int], list[int]] | None = None,
    encode: Callable[[B], Any] = lambda b: b,
    decode: Callable[[Any], B] = lambda b: b,
) -> list[B]:
    """``[fn(item, fuel) for item in items]``, possibly out of order or in ``jobs`` processes."""
    n = len(items)
    if worth_forking(n, jobs):
        result = _in_workers(items, fn, fuel, jobs, encode, decode)
        if result is not None:
            return result
    indices = order(n) if order is not None else range(n)
    results: dict[int, B] = {}
    for i in indices:
        results[i] = fn(items[i], fuel)
    return [results[i] for i in range(n)]


def worth_forking(n: int, jobs: int) -> bool:
    """Run n iterations in worker processes? Only from the parent, and with enough to share."""
    return jobs > 1 and not _IN_WORKER and n >= MIN_PER_JOB * jobs


def in_workers(
    n: int,
    iteration: Iteration,
    fuel: Fuel,
    jobs: int,
    encode: Callable[[Any], Any],
    decode: Callable[[Any], Any],
) -> list[Any] | None:
    """Iterations 0 … n-1 in ``jobs`` worker processes; None when a result cannot travel."""
    return _in_workers(range(n), iteration, fuel, jobs, encode, decode)


def _in_workers(
    items: Sequence[A],
    fn: Callable[[A, Fuel], B],
    fuel: Fuel,
    jobs: int,
    encode: Callable[[B], Any],
    decode: Callable[[Any], B],
) -> list[B] | None:
    global _TASK
    n = len(items)
    chunks = jobs * 4
    bounds = [(n * c // chunks, n * (c + 1) // chunks) for c in range(chunks)]
    _TASK = (fn, items, fuel.remaining, encode)
    gc.freeze()  # the workers' collector leaves the inherited heap alone (no copy-on-write)
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            answers = pool.map(_run_chunk, [b for b in bounds if b[0] < b[1]])
    finally:
        gc.unfreeze()
        _TASK = None
    out: list[B] = []
    for chunk, used in answers:
        fuel.used += used
        for ok, value in chunk:
            if not ok:
                if value is None:
                    return None
                raise value
            out.append(decode(value))
    if fuel.used > fuel.limit:
        raise FuelExhausted(f"no result after {fuel.limit:,} steps (the program may diverge)")
    return out
