"""Contractions: ``einsum`` in all of NumPy's spellings, ``matmul`` (``@``) with broadcast batch
axes, ``dot``, ``vdot``, ``inner``, ``outer``, ``tensordot``, ``diagonal`` and ``trace``.

Everything becomes the two-operand ``einsum`` primitive (distinct letters per operand, explicit
output), after NumPy's spellings are read here:

* ``...`` stands for the leading axes (broadcast between operands: a size-1 axis meeting a larger
  one leaves its operand's spec), an implicit output (no ``->``) is the letters seen once, sorted;
* a repeated letter in one operand is its diagonal, a ``take`` at constant flat positions;
* one operand is summed and transposed; three or more are contracted pairwise in the order
  ``contractions.pairwise`` chooses for their shapes.
"""

from __future__ import annotations

import string
from collections import Counter
from typing import Any

import numpy as np

import backend.contractions as C
import backend.indexing as I
import backend.structural as S
from backend.dispatch import bind
from backend.numpy._core import astype, axis_index, typeof
from backend.numpy._reductions import sum
from backend.numpy._shapes import moveaxis, ravel, reshape, transpose
from backend.numpy._ufuncs import multiply
from calculi.core.errors import ShapeError

__all__ = ["diagonal", "dot", "einsum", "inner", "matmul", "outer", "tensordot", "trace", "vdot"]

LETTERS = string.ascii_letters


def normalize(spec: str, ranks: list[int]) -> tuple[list[str], str]:
    """NumPy's spec for operands of ``ranks`` as one letter per axis and an explicit output."""
    spec = spec.replace(" ", "")
    lhs, arrow, out = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ranks):
        raise ShapeError(f"einsum {spec!r} names {len(terms)} operands, got {len(ranks)}")
    for term in [*terms, out]:
        if not all(c in LETTERS for c in term.replace("...", "")):
            raise ShapeError(f"einsum {spec!r}: subscripts are letters and '...'")
    free = [c for c in LETTERS if c not in spec]
    widest = max((r - len(t.replace("...", "")) for t, r in zip(terms, ranks, strict=True) if "..." in t),
                 default=0)
    ellipsis = "".join(free[:widest])
    expanded = []
    for term, rank in zip(terms, ranks, strict=True):
        named = len(term.replace("...", ""))
        if "..." in term:
            k = rank - named
            if k < 0:
                raise ShapeError(f"einsum {spec!r}: operand {term!r} has more letters than axes ({rank})")
            term = term.replace("...", ellipsis[widest - k:])
        if len(term) != rank:
            raise ShapeError(f"einsum {spec!r}: operand {term!r} has {len(term)} letters for {rank} axes")
        expanded.append(term)
    if arrow:
        out = out.replace("...", ellipsis)
    else:
        counts = Counter("".join(expanded))
        out = ellipsis + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ellipsis))
    if len(set(out)) != len(out):
        raise ShapeError(f"einsum {spec!r}: output subscript included multiple times")
    if not set(out) <= set("".join(expanded)):
        raise ShapeError(f"einsum {spec!r}: an output subscript appears in no operand")
    return expanded, out


def _diagonal_of(x: object, term: str) -> tuple[Any, str]:
    """An operand with a letter repeated: the elements where the repeated axes agree, one axis each."""
    t = typeof(x)
    letters = "".join(dict.fromkeys(term))
    if letters == term:
        return x, term
    sizes: dict[str, int] = {}
    for c, n in zip(term, t.shape, strict=True):
        if sizes.setdefault(c, n) != n:
            raise ShapeError(f"einsum: the axes of the repeated subscript {c!r} differ ({sizes[c]} and {n})")
    grids = np.meshgrid(*(np.arange(sizes[c]) for c in letters), indexing="ij")
    coords = tuple(grids[letters.index(c)] for c in term)
    positions = np.ravel_multi_index(coords, t.shape) if t.ndim else np.zeros((), np.intp)
    return bind(I.take_p, reshape(x, (-1,)), positions, axis=0), letters


def _squeeze_broadcast(xs: list[Any], terms: list[str]) -> tuple[list[Any], list[str]]:
    """A letter of size 1 in one operand and larger in another (broadcast ``...`` axes) leaves the
    operand whose axis has size 1."""
    sizes: dict[str, int] = {}
    for x, term in zip(xs, terms, strict=True):
        for c, n in zip(term, typeof(x).shape, strict=True):
            if n != 1 and sizes.setdefault(c, n) != n:
                raise ShapeError(f"einsum: index {c!r} has sizes {sizes[c]} and {n}")
    out_x, out_t = [], []
    for x, term in zip(xs, terms, strict=True):
        shape = typeof(x).shape
        drop = [i for i, (c, n) in enumerate(zip(term, shape, strict=True)) if n == 1 and sizes.get(c, 1) > 1]
        if drop:
            x = reshape(x, tuple(n for i, n in enumerate(shape) if i not in drop))
            term = "".join(c for i, c in enumerate(term) if i not in drop)
        out_x.append(x)
        out_t.append(term)
    return out_x, out_t


def einsum(subscripts: str, *operands: object, out: None = None, optimize: object = False,
           **kwargs: Any) -> Any:
    """NumPy's ``einsum`` (see the module docstring)."""
    if out is not None:
        raise ShapeError("out= is not supported: backend.numpy functions return new arrays")
    if not operands:
        raise ShapeError(f"einsum {subscripts!r} needs at least one operand")
    dtype = np.result_type(*(typeof(x).dtype for x in operands))
    terms, result = normalize(subscripts, [typeof(x).ndim for x in operands])
    xs: list[Any] = [astype(x, dtype) for x in operands]
    pairs = [_diagonal_of(x, term) for x, term in zip(xs, terms, strict=True)]
    xs, terms = _squeeze_broadcast([x for x, _ in pairs], [term for _, term in pairs])
    if len(xs) == 1:
        return _one(xs[0], terms[0], result)
    spec = f"{','.join(terms)}->{result}"
    if len(xs) == 2:
        return bind(C.einsum_p, *xs, spec=spec)
    for i, j, step in C.pairwise(spec, tuple(typeof(x).shape for x in xs)):
        pair = bind(C.einsum_p, xs[i], xs[j], spec=step)
        xs = [x for k, x in enumerate(xs) if k not in (i, j)] + [pair]
    return xs[0]


def _one(x: Any, term: str, result: str) -> Any:
    gone = tuple(i for i, c in enumerate(term) if c not in result)
    if gone:
        x = bind(S.reduce_sum_p, x, axes=gone)
        term = "".join(c for c in term if c in result)
    return transpose(x, [term.index(c) for c in result])


# -- products --------------------------------------------------------------------------------------

def matmul(x1: object, x2: object, /) -> Any:
    """``x1 @ x2``: vectors are promoted (and the added axis removed), batch axes broadcast."""
    tx, ty = typeof(x1), typeof(x2)
    if tx.ndim < 1 or ty.ndim < 1:
        raise ShapeError("matmul: input operand does not have enough dimensions (0-d)")
    k = ty.shape[0 if ty.ndim == 1 else -2]
    if tx.shape[-1] != k:
        raise ShapeError(f"matmul: the contracted index has size {tx.shape[-1]} in {tx} and {k} in {ty}")
    batch = max(tx.ndim, ty.ndim, 2) - 2
    b = LETTERS[:batch]
    sx = (b[batch - (tx.ndim - 2):] if tx.ndim > 2 else "") + ("XY" if tx.ndim > 1 else "Y")
    sy = (b[batch - (ty.ndim - 2):] if ty.ndim > 2 else "") + ("YZ" if ty.ndim > 1 else "Y")
    out = b + ("X" if tx.ndim > 1 else "") + ("Z" if ty.ndim > 1 else "")
    return einsum(f"{sx},{sy}->{out}", x1, x2)


def dot(a: object, b: object, out: None = None) -> Any:
    """NumPy's ``dot``: a product with a scalar; else the sum over the last axis of ``a`` and the
    second-to-last of ``b`` (the last, if ``b`` is a vector)."""
    ta, tb = typeof(a), typeof(b)
    if ta.ndim == 0 or tb.ndim == 0:
        return multiply(a, b)
    la = LETTERS[: ta.ndim - 1] + "Y"
    lb = LETTERS[ta.ndim - 1: ta.ndim - 1 + tb.ndim - 2]
    lb = lb + "YZ" if tb.ndim > 1 else "Y"
    return einsum(f"{la},{lb}->{la[:-1]}{lb.replace('Y', '')}", a, b)


def vdot(a: object, b: object, /) -> Any:
    return dot(ravel(a), ravel(b))


def inner(a: object, b: object, /) -> Any:
    ta, tb = typeof(a), typeof(b)
    if ta.ndim == 0 or tb.ndim == 0:
        return multiply(a, b)
    la = LETTERS[: ta.ndim - 1] + "Y"
    lb = LETTERS[ta.ndim - 1: ta.ndim + tb.ndim - 2] + "Y"
    return einsum(f"{la},{lb}->{la[:-1]}{lb[:-1]}", a, b)


def outer(a: object, b: object, out: None = None) -> Any:
    return einsum("i,j->ij", ravel(a), ravel(b))


def tensordot(a: object, b: object, axes: int | tuple[Any, Any] = 2) -> Any:
    ta, tb = typeof(a), typeof(b)
    if isinstance(axes, int | np.integer):
        k = int(axes)
        pa, pb = list(range(ta.ndim - k, ta.ndim)), list(range(k))
    else:
        pa = [int(axes[0])] if isinstance(axes[0], int | np.integer) else list(axes[0])
        pb = [int(axes[1])] if isinstance(axes[1], int | np.integer) else list(axes[1])
    pa = [axis_index(i, ta.ndim) for i in pa]
    pb = [axis_index(i, tb.ndim) for i in pb]
    if len(pa) != len(pb):
        raise ShapeError("tensordot: shape-mismatch for sum")
    la = list(LETTERS[: ta.ndim])
    lb = list(LETTERS[ta.ndim: ta.ndim + tb.ndim])
    for i, j in zip(pa, pb, strict=True):
        lb[j] = la[i]
    out = [c for i, c in enumerate(la) if i not in pa] + [c for j, c in enumerate(lb) if j not in pb]
    return einsum(f"{''.join(la)},{''.join(lb)}->{''.join(out)}", a, b)


def diagonal(a: object, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The diagonal ``a[…, i, i + offset]`` of the two axes, as the last axis."""
    t = typeof(a)
    i1, i2 = axis_index(axis1, t.ndim), axis_index(axis2, t.ndim)
    if i1 == i2:
        raise ShapeError("diagonal: axis1 and axis2 cannot be the same")
    moved = moveaxis(a, [i1, i2], [-2, -1])
    rows, cols = typeof(moved).shape[-2:]
    start_r, start_c = (0, offset) if offset >= 0 else (-offset, 0)
    n = max(0, min(rows - start_r, cols - start_c))
    flat = reshape(moved, (*typeof(moved).shape[:-2], rows * cols))
    positions = (np.arange(n) + start_r) * cols + np.arange(n) + start_c
    return bind(I.take_p, flat, positions, axis=typeof(flat).ndim - 1)


def trace(a: object, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
          out: None = None) -> Any:
    return sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)
