"""The primitives of PartIR:Core, one object each: shape rule, implementation, FLOPs and factors.

A *factor* of an operation is one way to run it as a loop over a mesh axis: which dimension of each
operand the loop slices (``None``: the whole operand) and what the loop does with the body's results
(``result=d``: ``#tile<d>``; ``reduce``: ``#sum``). Propagation reads the factors; the loop form and
the lowering are built from them, so one table serves all three.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from calculi.core.errors import ShapeError, TypeCheckError
from calculi.core.syntax import Span
from calculi.partir.syntax import Param, Shape

Array = NDArray[np.float64]
Params = tuple[Param, ...]


@dataclass(frozen=True, slots=True)
class Factor:
    operands: tuple[int | None, ...]
    result: int | None
    reduce: bool = False


ShapeRule = Callable[[Params, Sequence[Shape], Span | None], Shape]
FactorRule = Callable[[Params, Sequence[Shape], Shape], list[Factor]]


@dataclass(frozen=True, slots=True)
class Prim:
    name: str
    arity: int
    shape: ShapeRule
    impl: Callable[[Params, Sequence[Array]], Array]
    flops: Callable[[Params, Sequence[Shape], Shape], int]
    localize: Callable[[Params, Shape], Params] = lambda params, out: params


VARIADIC = -1
PRIMS: dict[str, Prim] = {}
FACTOR_RULES: dict[str, FactorRule] = {}
"""Propagation's table: one rule per primitive (``atomic`` has none: it stops propagation)."""
REDUCING: set[str] = set()
"""The primitives some of whose factors end in ``#sum`` (the others only ever ``#tile``)."""


def _fail(reason: str, span: Span | None, rule: str) -> TypeCheckError:
    return TypeCheckError(reason, span, rule=rule)


def _ints(params: Params, name: str, span: Span | None) -> tuple[int, ...]:
    if not all(isinstance(p, int) for p in params):
        raise _fail(f"{name} takes whole numbers in brackets", span, name)
    return tuple(p for p in params if isinstance(p, int))


def _define(prim: Prim, factors: FactorRule | None, reduces: bool = False) -> Prim:
    PRIMS[prim.name] = prim
    if factors is not None:
        FACTOR_RULES[prim.name] = factors
    if reduces:
        REDUCING.add(prim.name)
    return prim


# -- elementwise ---------------------------------------------------------------------------------


def _same_shapes(name: str) -> ShapeRule:
    def rule(params: Params, shapes: Sequence[Shape], span: Span | None) -> Shape:
        if params and name != "scale":
            raise _fail(f"{name} takes no parameters", span, name)
        if any(s != shapes[0] for s in shapes):
            raise _fail(f"{name} needs operands of one shape, got {' and '.join(map(str, shapes))}", span,
                        name)
        return shapes[0]
    return rule


def _pointwise(params: Params, shapes: Sequence[Shape], out: Shape) -> list[Factor]:
    return [Factor(tuple(d for _ in shapes), d) for d in range(len(out))]


def _elementwise(name: str, arity: int, fn: Callable[..., Array], cost: int = 1) -> Prim:
    return _define(Prim(name, arity, _same_shapes(name), lambda p, xs: np.asarray(fn(*xs)),
                        lambda p, s, out: cost * math.prod(out)), _pointwise)


ADD = _elementwise("add", 2, np.add)
SUB = _elementwise("sub", 2, np.subtract)
MUL = _elementwise("mul", 2, np.multiply)
DIV = _elementwise("div", 2, np.divide)
NEG = _elementwise("neg", 1, np.negative)
TANH = _elementwise("tanh", 1, np.tanh, 4)
EXP = _elementwise("exp", 1, np.exp, 4)
RELU = _elementwise("relu", 1, lambda x: np.maximum(x, 0.0))
LOG = _elementwise("log", 1, np.log, 4)
LOGISTIC = _elementwise("logistic", 1, lambda x: 0.5 * (np.tanh(0.5 * x) + 1.0), 5)
RSQRT = _elementwise("rsqrt", 1, lambda x: 1.0 / np.sqrt(x), 2)
SQRT = _elementwise("sqrt", 1, np.sqrt, 2)
MAXIMUM = _elementwise("maximum", 2, np.maximum)


def _scale_shape(params: Params, shapes: Sequence[Shape], span: Span | None) -> Shape:
    if len(params) != 1 or not isinstance(params[0], str):
        raise _fail("scale takes one number in brackets, scale[0.5](x)", span, "scale")
    return shapes[0]


SCALE = _define(Prim("scale", 1, _scale_shape, lambda p, xs: xs[0] * float(str(p[0])),
                     lambda p, s, out: math.prod(out)), _pointwise)

# -- einsum ----------------------------------------------------------------------------------------


def _spec(params: Params, arity: int, span: Span | None) -> tuple[list[str], str]:
    if len(params) != 1 or not isinstance(params[0], str) or "->" not in params[0]:
        raise _fail("einsum takes a spec in brackets, einsum[ij,jk->ik](x, w)", span, "einsum")
    lhs, out = params[0].split("->")
    ins = lhs.split(",")
    if len(ins) != arity:
        raise _fail(f"the spec {params[0]} names {len(ins)} operands, not {arity}", span, "einsum")
    for term in (*ins, out):
        if len(set(term)) != len(term):
            raise _fail(f"index repeated in {term!r} (no traces or diagonals)", span, "einsum")
    if not set(out) <= set("".join(ins)):
        raise _fail(f"output index of {params[0]} appears in no operand", span, "einsum")
    return ins, out


def _einsum_shape(params: Params, shapes: Sequence[Shape], span: Span | None) -> Shape:
    ins, out = _spec(params, len(shapes), span)
    sizes: dict[str, int] = {}
    for term, shape in zip(ins, shapes, strict=True):
        if len(term) != len(shape):
            raise _fail(f"operand of shape {shape} does not match {term!r}", span, "einsum")
        for letter, n in zip(term, shape, strict=True):
            if sizes.setdefault(letter, n) != n:
                raise _fail(f"index {letter} is {sizes[letter]} in one operand and {n} in another", span,
                            "einsum")
    return tuple(sizes[c] for c in out)


def _letters(params: Params) -> tuple[list[str], str, list[str]]:
    lhs, out = str(params[0]).split("->")
    ins = lhs.split(",")
    return ins, out, list(dict.fromkeys("".join(ins)))


def einsum_factors(params: Params, shapes: Sequence[Shape], out: Shape) -> list[Factor]:
    """One factor per index: operands sliced where it occurs; ``#tile`` if kept, ``#sum`` if contracted."""
    ins, res, letters = _letters(params)
    return [Factor(tuple(t.find(c) if c in t else None for t in ins),
                   res.find(c) if c in res else None, c not in res) for c in letters]


def _einsum_flops(params: Params, shapes: Sequence[Shape], out: Shape) -> int:
    ins, _, letters = _letters(params)
    sizes = {c: n for t, s in zip(ins, shapes, strict=True) for c, n in zip(t, s, strict=True)}
    return 2 * math.prod(sizes[c] for c in letters)


EINSUM = _define(Prim("einsum", VARIADIC, _einsum_shape, lambda p, xs: np.einsum(str(p[0]), *xs),
                      _einsum_flops), einsum_factors, reduces=True)

# -- reductions and structure ----------------------------------------------------------------------


def _sum_shape(params: Params, shapes: Sequence[Shape], span: Span | None) -> Shape:
    dims = _ints(params, "sum", span)
    if len(set(dims)) != len(dims) or not all(0 <= d < len(shapes[0]) for d in dims):
        raise _fail(f"sum over {list(dims)}: dimensions must be distinct and below {len(shapes[0])}", span,
                    "sum")
    return tuple(n for d, n in enumerate(shapes[0]) if d not in dims)


def sum_factors(params: Params, shapes: Sequence[Shape], out: Shape) -> list[Factor]:
    """A summed dimension gives ``#sum``; a kept one ``#tile`` at its new position."""
    kept = [d for d in range(len(shapes[0])) if d not in params]
    return [Factor((d,), None, True) if d in params else Factor((d,), kept.index(d))
            for d in range(len(shapes[0]))]


SUM = _define(Prim("sum", 1, _sum_shape, lambda p, xs: np.sum(xs[0], axis=_ints(p, "sum", None)),
                   lambda p, s, out: math.prod(s[0])), sum_factors, reduces=True)


def _transpose_shape(params: Params, shapes: Sequence[Shape], span: Span | None) -> Shape:
    perm = _ints(params, "transpose", span)
    if sorted(perm) != list(range(len(shapes[0]))):
        raise _fail(f"transpose{list(perm)} is not a permutation of {len(shapes[0])} dimensions", span,
                    "transpose")
    return tuple(shapes[0][d] for d in perm)


def transpose_factors(params: Params, shapes: Sequence[Shape], out: Shape) -> list[Factor]:
    return [Factor((d,), i) for i, d in enumerate(_ints(params, "transpose", None))]


TRANSPOSE = _define(Prim("transpose", 1, _transpose_shape,
                         lambda p, xs: np.transpose(xs[0], _ints(p, "transpose", None)),
                         lambda p, s, out: 0), transpose_factors)


def _split(params: Params) -> tuple[Shape, tuple[int, ...]]:
    """``broadcast[8, 16; 1]`` is stored as ``(8, 16, -1, 1)``: the shape, a separator, the kept dims."""
    k = params.index(-1)
    ints = _ints(params, "broadcast", None)
    return ints[:k], ints[k + 1 :]


def _broadcast_shape(params: Params, shapes: Sequence[Shape], span: Span | None) -> Shape:
    if -1 not in _ints(params, "broadcast", span):
        raise _fail("broadcast takes a shape and the kept dimensions, broadcast[8,16; 1](b)", span,
                    "broadcast")
    shape, dims = _split(params)
    if len(dims) != len(shapes[0]) or list(dims) != sorted(set(dims)) or any(d >= len(shape) for d in dims):
        raise _fail(f"broadcast keeps dimensions {list(dims)}: need {len(shapes[0])} increasing ones "
                    f"below {len(shape)}", span, "broadcast")
    if any(shape[d] != n for d, n in zip(dims, shapes[0], strict=True)):
        raise _fail(f"operand of shape {shapes[0]} does not fit {shape} at dimensions {list(dims)}", span,
                    "broadcast")
    return shape


def broadcast_factors(params: Params, shapes: Sequence[Shape], out: Shape) -> list[Factor]:
    _, dims = _split(params)
    return [Factor((dims.index(i) if i in dims else None,), i) for i in range(len(out))]


def _broadcast(params: Params, xs: Sequence[Array]) -> Array:
    shape, dims = _split(params)
    view = [n if i in dims else 1 for i, n in enumerate(shape)]
    return np.broadcast_to(xs[0].reshape(view), shape).copy()


def _broadcast_local(params: Params, out: Shape) -> Params:
    return (*out, -1, *_split(params)[1])


BROADCAST = _define(Prim("broadcast", 1, _broadcast_shape, _broadcast, lambda p, s, out: 0, _broadcast_local),
                    broadcast_factors)


def _reshape_shape(params: Params, shapes: Sequence[Shape], span: Span | None) -> Shape:
    shape = _ints(params, "reshape", span)
    if any(n < 1 for n in shape) or math.prod(shape) != math.prod(shapes[0]):
        raise _fail(f"cannot reshape {shapes[0]} to {shape}", span, "reshape")
    return shape


def reshape_groups(a: Shape, b: Shape) -> list[tuple[int, int]]:
    """The leading dimensions of the smallest runs of ``a`` and ``b`` with equal products."""
    groups, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        groups.append((i, j))
        p, q = a[i], b[j]
        i, j = i + 1, j + 1
        while p != q:
            if p < q:
                p, i = p * a[i], i + 1
            else:
                q, j = q * b[j], j + 1
    return groups


def reshape_factors(params: Params, shapes: Sequence[Shape], out: Shape) -> list[Factor]:
    """A run of dimensions merged or split keeps its leading (major) dimension's tiling."""
    return [Factor((i,), j) for i, j in reshape_groups(shapes[0], out) if shapes[0][i] > 1 or out[j] > 1]


RESHAPE = _define(Prim("reshape", 1, _reshape_shape, lambda p, xs: xs[0].reshape(_ints(p, "reshape", None)),
                       lambda p, s, out: 0, lambda p, out: out), reshape_factors)


# -- gather ----------------------------------------------------------------------------------------


def _take_shape(params: Params, shapes: Sequence[Shape], span: Span | None) -> Shape:
    if params:
        raise _fail("take takes no parameters, take(table, index)", span, "take")
    table, index = shapes
    if not table:
        raise _fail("take needs a table of rank at least 1 to gather rows from", span, "take")
    return (*index, *table[1:])


def take_factors(params: Params, shapes: Sequence[Shape], out: Shape) -> list[Factor]:
    """Tiling the index's (batch) dimensions or the table's feature dimensions tiles the result.

    The gathered dimension (the table's rows) has no factor: a device holding a block of rows would
    need its own row offset to mask its local lookups before a ``#sum``, and a loop body does not
    know its device index. A tiling of the rows therefore stops here, and the lowering gathers the
    table before the lookup."""
    table, index = shapes
    return ([Factor((None, i), i) for i in range(len(index))]
            + [Factor((k, None), len(index) + k - 1) for k in range(1, len(table))])


def _take(params: Params, xs: Sequence[Array]) -> Array:
    """``take(t, i)[b..., f...] = t[i[b...], f...]``; ``i`` holds whole numbers below ``t``'s rows."""
    table, index = xs
    rows = np.rint(index).astype(np.int64)
    bad = np.argwhere((rows != index) | (rows < 0) | (rows >= table.shape[0]))
    if bad.size:
        at = tuple(int(k) for k in bad[0])
        raise ShapeError(f"take: index {index[at]} at position {at} is not a whole number below "
                         f"{table.shape[0]} (the table's rows)", None, rule="take")
    return np.asarray(table[rows])


TAKE = _define(Prim("take", 2, _take_shape, _take, lambda p, s, out: 0), take_factors)


def _atomic_shape(params: Params, shapes: Sequence[Shape], span: Span | None) -> Shape:
    if params:
        raise _fail("atomic takes no parameters", span, "atomic")
    return shapes[0]


ATOMIC = _define(Prim("atomic", 1, _atomic_shape, lambda p, xs: xs[0].copy(), lambda p, s, out: 0), None)


from calculi.partir import prims_sequence  # noqa: E402, F401  (registers the sequence primitives)
