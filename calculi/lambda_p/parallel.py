"""Running the iterations of a (parallel) step: in order, in a chosen order, or in worker processes.

Under (parallel) no handler encloses the loop, so its iterations are closed, independent
programs: evaluating them in any order, or concurrently, gives the same array. With ``jobs > 1``
the iterations of a large enough loop are split into contiguous chunks and run in worker
processes. A chunk travels as data (pickled): the function to run (a module-level function, with
its settings), the iterations' inputs and the fuel left; the tables of globals go by value (see
``Globals.__reduce__``), and results come back as terms. The lowest-index error wins, exactly as
in sequential evaluation. Nested loops inside a worker run sequentially.

Workers are forked, which shares the parent's compiled code, except when JAX is loaded: forking a
process that runs JAX's threads may deadlock the child, so then they start from a fork server (a
fresh process, started once, that has imported λp but not JAX).
"""

from __future__ import annotations

import gc
import multiprocessing
import pickle
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from calculi.core.errors import CalculusError, FuelExhausted
from calculi.core.trace import Fuel
from calculi.lambda_p.values import NotTransferable

A = TypeVar("A")
B = TypeVar("B")
Iteration = Callable[[int, Fuel], Any]

MIN_PER_JOB = 2
START_METHOD: str | None = None
"""The start method of worker processes; None: ``fork``, or ``forkserver`` once JAX is loaded."""
_IN_WORKER = False
Task = tuple[Callable[[Any, Fuel], Any], Sequence[Any], int, Callable[[Any], Any]]
"""(iteration, its inputs, the fuel left, how a result travels back)."""


def _run_chunk(task: Task) -> tuple[list[tuple[bool, Any]], int]:
    global _IN_WORKER
    _IN_WORKER = True
    fn, items, limit, encode = task
    fuel = Fuel(limit)
    out: list[tuple[bool, Any]] = []
    for item in items:
        try:
            out.append((True, encode(fn(item, fuel))))
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


def unchanged(value: Any) -> Any:
    """A result that travels as it is (a module-level function, so that it can travel too)."""
    return value


def run_all(
    items: Sequence[A],
    fn: Callable[[A, Fuel], B],
    fuel: Fuel,
    jobs: int = 1,
    order: Callable[[int], list[int]] | None = None,
    encode: Callable[[B], Any] = unchanged,
    decode: Callable[[Any], B] = unchanged,
) -> list[B]:
    """``[fn(item, fuel) for item in items]``, possibly out of order or in ``jobs`` processes (then
    ``fn``, ``items``, ``encode`` and ``decode`` must be picklable)."""
    n = len(items)
    if worth_forking(n, jobs):
        result = in_workers(items, fn, fuel, jobs, encode, decode)
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


def start_method() -> str:
    if START_METHOD is not None:
        return START_METHOD
    return "forkserver" if "jax" in sys.modules else "fork"


def in_workers(
    items: Sequence[A],
    fn: Callable[[A, Fuel], B],
    fuel: Fuel,
    jobs: int,
    encode: Callable[[B], Any],
    decode: Callable[[Any], B],
) -> list[B] | None:
    """``fn`` on each item in ``jobs`` worker processes; None when something cannot travel."""
    n = len(items)
    chunks = jobs * 4
    bounds = [(n * c // chunks, n * (c + 1) // chunks) for c in range(chunks)]
    tasks: list[Task] = [(fn, items[a:b], fuel.remaining, encode) for a, b in bounds if a < b]
    method = start_method()
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(["calculi.lambda_p.eval", "calculi.lambda_p.semantics"])
    else:
        gc.freeze()  # the children's collector leaves the inherited heap alone (no copy-on-write)
    try:
        with context.Pool(jobs) as pool:
            answers = pool.map(_run_chunk, tasks)
    except (pickle.PicklingError, NotTransferable):  # an input that cannot travel
        return None
    finally:
        if method != "forkserver":
            gc.unfreeze()
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
