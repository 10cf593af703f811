"""A gather of a later dimension done in pieces, for the JAX engine (``engine.plan``).

Gathering a dimension other than the outermost, XLA on CPU gathers into a transposed layout and
copies that into the row-major result: a result-sized temporary beside the result. Gathered piece by
piece along dimension 0 in a loop, what is held beside the result is one piece's temporaries, for
the same bytes moved. JAX is imported when a kernel is traced (the engine has started it by then).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Kernel = Callable[[Any], Any]

PIECES = 16
"""About how many pieces a gather of a later dimension is done in (``count``)."""
PIECES_FROM = 1 << 12
"""The least result, in bytes, gathered in pieces: below it the loop's own buffers cost more than the
result-sized temporary it saves."""


def count(rows: int) -> int:
    """Into how many equal pieces to cut ``rows``: the divisor of ``rows`` of at most 64 nearest
    ``PIECES``, the fewer on a tie (1: not cut)."""
    return min((d for d in range(1, min(rows, 64) + 1) if rows % d == 0), key=lambda d: (abs(d - PIECES), d))


@dataclass(frozen=True, slots=True)
class Gather:
    """A tiled all-gather of dimension ``i`` over the ``size`` devices of ``name`` (an axis, or a tuple
    of axes), of a block of shape ``shape`` that the slices ``pre`` cut from the kernel's input.

    Gathering a dimension other than the outermost, XLA on CPU gathers into a transposed layout and
    copies that into the row-major result: a result-sized temporary. With ``pieces`` > 1, and a
    result of at least ``least`` bytes, the gather is done piece by piece along dimension 0 instead
    (a ``fori_loop``): each piece is sliced (through ``pre``, so that no sliced copy of the input is
    held), gathered with the devices' blocks leading, merged into dimension ``i`` and written into
    the result by ``dynamic_update_slice``. What is held beside the result is one piece's
    temporaries; the bytes moved are the same."""

    name: Any
    i: int
    size: int
    shape: tuple[int, ...]
    pieces: int = 1
    least: int = PIECES_FROM
    pre: tuple[Kernel, ...] = ()

    def sliced(self, v: Any) -> Any:
        for kernel in self.pre:
            v = kernel(v)
        return v

    def __call__(self, v: Any) -> Any:
        import jax

        jnp, lax = jax.numpy, jax.lax
        whole = (*self.shape[: self.i], self.size * self.shape[self.i], *self.shape[self.i + 1 :])
        if self.pieces == 1 or math.prod(whole) * v.dtype.itemsize < self.least:
            return lax.all_gather(self.sliced(v), self.name, axis=self.i, tiled=True)
        rows = self.shape[0] // self.pieces

        def piece(k: Any, out: Any) -> Any:
            block = lax.dynamic_slice_in_dim(self.sliced(v), k * rows, rows, 0)
            gathered = lax.all_gather(block, self.name, axis=0, tiled=False)
            return lax.dynamic_update_slice_in_dim(out, merge(gathered, self.i), k * rows, 0)

        return lax.fori_loop(0, self.pieces, piece, jnp.zeros(whole, v.dtype))


def merge(gathered: Any, i: int) -> Any:
    """The devices' blocks, stacked on a leading axis, concatenated along dimension ``i``."""
    import jax

    v = jax.numpy.moveaxis(gathered, 0, i)
    return v.reshape((*v.shape[:i], v.shape[i] * v.shape[i + 1], *v.shape[i + 2 :]))
