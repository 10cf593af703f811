"""The memory budget: what running a redistribution would allocate, checked before anything is.

The engines hold real buffers, one per device, so a small input can ask for a great deal of memory
(``x=4096`` and ``[4096{x}16777216] -> [16777216]`` gathers 64 MiB onto each of 4,096 devices:
256 GiB). Before running, an engine adds up what it would hold at its fullest, counted from the
types alone, and refuses with a ``BudgetError`` when that exceeds the budget:

    simulator   the global array + Σ_devices (m_before + m_after) at the fullest step
    JAX         the global array + Σ_devices (m_source + 2 · peak m)   (input, output, XLA's temporaries)

The budget is a setting: ``:set memory 4GiB`` in the REPL, ``--memory 4GiB`` on the command line.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Sequence

from calculi.core.errors import CalculusError, UsageError
from calculi.core.syntax import Span
from calculi.redistribution.pretty import show_op
from calculi.redistribution.syntax import DistType, Mesh, Program, show_count

DEFAULT_BUDGET = 1 << 30
"""1 GiB."""

UNITS = {"": 1, "b": 1, "k": 1 << 10, "kib": 1 << 10, "kb": 10**3, "m": 1 << 20, "mib": 1 << 20,
         "mb": 10**6, "g": 1 << 30, "gib": 1 << 30, "gb": 10**9, "t": 1 << 40, "tib": 1 << 40,
         "tb": 10**12}
_SIZE = re.compile(r"(\d{1,15})\s*([a-z]*)")


class BudgetError(CalculusError):
    kind = "memory budget"


def parse_memory(text: str) -> int:
    """``1073741824``, ``1GiB``, ``512MiB``, ``2G`` (binary), ``500MB`` (decimal) → bytes."""
    m = _SIZE.fullmatch(text.strip().lower()) if text.isascii() else None
    if m is None or m.group(2) not in UNITS or int(m.group(1)) < 1:
        raise UsageError(f"expected a memory size such as 1GiB, 512MiB or 1000000 (bytes), got {text!r}")
    return int(m.group(1)) * UNITS[m.group(2)]


def memory_argument(text: str) -> int:
    """``parse_memory`` as an ``argparse`` type."""
    try:
        return parse_memory(text)
    except UsageError as err:
        raise argparse.ArgumentTypeError(err.reason) from None


def show_bytes(n: int) -> str:
    """``12 bytes``, ``1.5 MiB``, ``256 GiB``, ``1,024 TiB``."""
    if n < 1 << 10:
        return f"{n} bytes"
    for unit, size in (("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30)):
        if n < size << 10:
            return f"{n / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{show_count(n >> 40)} TiB"


def check_budget(needed: int, budget: int, holder: str, what: str, span: Span | None) -> None:
    """Refuse a run when ``needed`` bytes (``what``: what they hold) exceed ``budget``."""
    if needed > budget:
        raise BudgetError(f"{holder} would hold {show_bytes(needed)} ({what}), over the budget of "
                          f"{show_bytes(budget)}; raise it with ':set memory SIZE' or --memory SIZE", span)


def simulation_bytes(types: Sequence[DistType], program: Program, mesh: Mesh, itemsize: int,
                     keep: bool = False) -> tuple[int, str]:
    """The bytes the simulator holds at its fullest, and where: the global array, and on every device
    the buffers before and after one step (``keep``: the buffers of every step)."""
    sizes = [t.local_size for t in types]
    held, at = sizes[0], "the source"
    if keep:
        held, at = sum(sizes), "every step kept"
    for k, op in enumerate(program if not keep else ()):
        if sizes[k] + sizes[k + 1] > held:
            held, at = sizes[k] + sizes[k + 1], f"step {k + 1}, {show_op(op)}"
    return itemsize * (math.prod(types[0].global_shape) + mesh.device_count * held), at


def simulation_check(types: Sequence[DistType], program: Program, mesh: Mesh, itemsize: int,
                     budget: int, keep: bool = False) -> None:
    needed, at = simulation_bytes(types, program, mesh, itemsize, keep)
    check_budget(needed, budget, "the simulator", f"the array, and the buffers of "
                 f"{show_count(mesh.device_count)} devices at {at}", types[0].span)


def engine_bytes(types: Sequence[DistType], mesh: Mesh, itemsize: int) -> int:
    """The bytes a JAX run holds: the array on the host, the input, the output, the temporaries."""
    peak = max(t.local_size for t in types)
    total = math.prod(types[0].global_shape)
    return itemsize * (total + mesh.device_count * (types[0].local_size + 2 * peak))


def engine_check(types: Sequence[DistType], mesh: Mesh, itemsize: int, budget: int) -> None:
    check_budget(engine_bytes(types, mesh, itemsize), budget, "the JAX engine",
                 f"the array, its shards on {show_count(mesh.device_count)} devices and XLA's temporaries",
                 types[0].span)
