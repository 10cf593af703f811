"""``vmap``: a batching rule per primitive, in a table keyed by the primitive objects (one more
column beside the JVP and transpose rules).

A batched value carries its array with the batch axis first (``B``). A rule takes the operands'
arrays, which of them are batched, and the parameters, and applies primitives to the whole batch::

    elementwise p(x̄)        the unbatched operands broadcast to [B, …], then p itself
    reduce[axes](x)         reduce[axes + 1](x)          (argmax[axis], cumsum[axis] alike)
    reshape[S](x)           reshape[(B,) + S](x)         transpose[perm](x): transpose[(0,) + (perm + 1)](x)
    broadcast[S](x)         x as [B, 1…, s], broadcast to [B, S]
    slice, pad              a full range for the batch axis prepended to each parameter
    einsum[spec](x, y)      a fresh letter for the batch axis in each batched operand and the result

Every primitive has a row (``backend.vmap.rows``); ``_loop`` (apply to each example, stack) stays
only as the reference the rules are checked against and for a primitive defined later without one.
Values of an enclosing trace pass through (``bind``), so ``vmap`` nests with the AD transformations:
``vmap(grad(loss), in_axes=(None, 0, 0))`` runs the gradient program with batched operands.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import backend.contractions as C
import backend.indexing as I
import backend.primitives as P
import backend.structural as S
from backend.dispatch import Trace, Traced, bind
from backend.lprims import KINDS, SHAPES
from backend.ltypes import ArrayType
from backend.numpy._core import typeof
from backend.pytree import PyTree, flatten, unflatten
from calculi.core.errors import UsageError
from calculi.linear_ad.syntax import Primitive

Rule = Callable[[list[Any], list[bool], dict[str, Any], int], Any]
BATCHING: dict[Primitive, Rule] = {}


class BatchTracer(Traced):
    """A batched value: ``value`` holds every example, the batch axis first."""

    __slots__ = ("value",)

    def __init__(self, trace: BatchTrace, value: Any) -> None:
        t = typeof(value)
        super().__init__(trace, ArrayType(t.shape[1:], t.dtype))
        self.value = value


class BatchTrace(Trace):
    def __init__(self, size: int) -> None:
        self.size = size
        self.begin()

    def lift(self, x: object) -> tuple[Any, bool]:
        if isinstance(x, BatchTracer) and x.trace is self:
            return x.value, True
        return x, False

    def process(self, prim: Primitive, operands: tuple[object, ...], params: dict[str, Any]) -> Traced:
        values, batched = zip(*(self.lift(x) for x in operands), strict=True) if operands else ((), ())
        if not any(batched):  # a constant made inside the batched function: the same for every example
            return BatchTracer(self, _full(bind(prim, *values, **params), False, self.size))
        rule = BATCHING.get(prim) or _loop(prim)
        return BatchTracer(self, rule(list(values), list(batched), params, self.size))


def _full(x: Any, batched: bool, size: int) -> Any:
    """``x`` with the batch axis: itself, or broadcast along a new first axis."""
    if batched:
        return x
    t = typeof(x)
    return bind(S.broadcast_p, bind(S.reshape_p, x, shape=(1, *t.shape)), shape=(size, *t.shape))


def _loop(prim: Primitive) -> Rule:
    def rule(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
        outs = []
        for b in range(size):
            args = [_example(v, b) if m else v for v, m in zip(values, batched, strict=True)]
            out = bind(prim, *args, **params)
            outs.append(bind(S.reshape_p, out, shape=(1, *typeof(out).shape)))
        return bind(S.concatenate_p, *outs, axis=0)

    return rule


def _example(v: Any, b: int) -> Any:
    t = typeof(v)
    rest = t.shape[1:]
    one = bind(S.slice_p, v, starts=(b, *(0,) * len(rest)), limits=(b + 1, *rest), strides=(1,) * t.ndim)
    return bind(S.reshape_p, one, shape=rest)


def _elementwise(prim: Primitive) -> Rule:
    def rule(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
        return bind(prim, *(_full(v, m, size) for v, m in zip(values, batched, strict=True)), **params)

    return rule


def _shifted(prim: Primitive, key: str) -> Rule:
    """A unary primitive over axes (``axes``) or one axis (``axis``): each moved past the batch axis."""

    def rule(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
        ps = dict(params)
        ps[key] = tuple(a + 1 for a in ps[key]) if key == "axes" else ps[key] + 1
        return bind(prim, values[0], **ps)

    return rule


def _reshape(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
    return bind(S.reshape_p, values[0], shape=(size, *params["shape"]))


def _transpose(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
    return bind(S.transpose_p, values[0], perm=(0, *(p + 1 for p in params["perm"])))


def _broadcast(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
    shape = tuple(params["shape"])
    rest = typeof(values[0]).shape[1:]
    aligned = bind(S.reshape_p, values[0], shape=(size, *(1,) * (len(shape) - len(rest)), *rest))
    return bind(S.broadcast_p, aligned, shape=(size, *shape))


def _window(prim: Primitive) -> Rule:
    def rule(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
        ps = dict(params, starts=(0, *params["starts"]), limits=(size, *params["limits"]),
                  strides=(1, *params["strides"]))
        if "shape" in ps:
            ps["shape"] = (size, *params["shape"])
        return bind(prim, values[0], **ps)

    return rule


def _einsum(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
    (left, right), out = C.parse_spec(params["spec"], 2)
    fresh = next(ch for ch in string.ascii_letters if ch not in params["spec"])
    terms = [fresh + term if m else term for term, m in zip((left, right), batched, strict=True)]
    return bind(C.einsum_p, *values, spec=f"{terms[0]},{terms[1]}->{fresh}{out}")


def _select(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
    """The mask broadcast to the operands' shape first (it may have fewer axes)."""
    mask, *rest = values
    shape = next((typeof(v).shape[1:] for v, m in zip(rest, batched[1:], strict=True) if m),
                 typeof(rest[0]).shape)
    if batched[0]:
        inner = typeof(mask).shape[1:]
        mask = bind(S.reshape_p, mask, shape=(size, *(1,) * (len(shape) - len(inner)), *inner))
        mask = bind(S.broadcast_p, mask, shape=(size, *shape))
    else:
        wide = bind(S.broadcast_p, mask, shape=shape) if typeof(mask).shape != shape else mask
        mask = _full(wide, False, size)
    others = [_full(v, m, size) for v, m in zip(rest, batched[1:], strict=True)]
    prim = P.select_p if len(values) == 3 else _masked()
    return bind(prim, mask, *others, **params)


def _masked() -> Primitive:
    from backend.second_order import masked_p

    return masked_p


def _concatenate(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
    full = [_full(v, m, size) for v, m in zip(values, batched, strict=True)]
    return bind(S.concatenate_p, *full, axis=params["axis"] + 1)


def _scatter_add(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
    """``scatter_add[axis](g, i)``, the transpose of ``take``, batched as ``take`` is: shared indices
    move ``axis`` past the batch axis; batched ones scatter along ``[B, A…, J, R…]`` (``J`` the
    indices flattened)."""
    from backend.second_order import scatter_along_p

    g, i = values
    axis = params["axis"]
    if not batched[1]:
        return bind(I.scatter_add_p, g, i, **dict(params, axis=axis + 1))
    g = _full(g, batched[0], size)
    inner = typeof(i).shape[1:]
    gs = typeof(g).shape
    lead, rest = gs[1: axis + 1], gs[axis + 1 + len(inner):]
    j = int(np.prod(inner, dtype=np.int64))
    wide = _indices(i, size, lead, j, rest)
    flat = bind(S.reshape_p, g, shape=(size, *lead, j, *rest))
    return bind(scatter_along_p, flat, wide, axis=axis + 1, size=params["size"])


def _indices(i: Any, size: int, lead: tuple[int, ...], j: int, rest: tuple[int, ...]) -> Any:
    """Batched indices ``[B, I…]`` flattened to ``[B, J]`` and broadcast to ``[B, A…, J, R…]``."""
    flat = bind(S.reshape_p, i, shape=(size, *(1,) * len(lead), j, *(1,) * len(rest)))
    return bind(S.broadcast_p, flat, shape=(size, *lead, j, *rest))


def _take(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
    """``take[axis](x, i)`` with ``x : [A…, V, R…]`` and ``i : [I…]`` per example. Indices shared:
    ``axis`` moves past the batch axis. Batched indices into a shared array: ``take`` itself, its
    batch axis (at ``axis``) moved in front. Both batched: ``take_along`` on ``[B, A…, V, R…]`` with
    the indices, flattened to ``[B, J]``, broadcast to ``[B, A…, J, R…]``."""
    import backend.numpy as bnp

    x, i = values
    axis = params["axis"]
    if not batched[1]:
        return bind(I.take_p, x, i, axis=axis + 1)
    if not batched[0]:
        return bnp.moveaxis(bind(I.take_p, x, i, axis=axis), axis, 0)
    xs, inner = typeof(x).shape, typeof(i).shape[1:]
    lead, rest = xs[1: axis + 1], xs[axis + 2:]
    j = int(np.prod(inner, dtype=np.int64))
    out = bind(I.take_along_p, x, _indices(i, size, lead, j, rest), axis=axis + 1)
    return bind(S.reshape_p, out, shape=(size, *lead, *inner, *rest))


def _take_along(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
    full = [_full(v, m, size) for v, m in zip(values, batched, strict=True)]
    return bind(I.take_along_p, *full, axis=params["axis"] + 1)


def _scan(prim: Primitive, states: int) -> Rule:
    """The scans run over axis 1 of [B, T, …]: the batch axis goes third ([B, T, V, …]), second in
    the initial state ([B, V, …]), and back in front afterwards."""

    def rule(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
        import backend.numpy as bnp

        full = [_full(v, m, size) for v, m in zip(values, batched, strict=True)]
        n = len(full) - states
        moved = [bnp.moveaxis(v, 0, 2) for v in full[:n]] + [bnp.moveaxis(v, 0, 1) for v in full[n:]]
        return bnp.moveaxis(bind(prim, *moved, **params), 2, 0)

    return rule


def _into_channels(x: Any) -> Any:
    """``x`` with its batch axis (first) folded into its last (channel) axis: ``[N, …, D]`` as
    ``[…, D·N]`` (the channel ``d`` of example ``n`` at ``d·N + n``)."""
    import backend.numpy as bnp

    shape = typeof(x).shape
    return bind(S.reshape_p, bnp.moveaxis(x, 0, -1), shape=(*shape[1:-1], shape[-1] * shape[0]))


def _out_of_channels(y: Any, size: int) -> Any:
    import backend.numpy as bnp

    shape = typeof(y).shape
    return bnp.moveaxis(bind(S.reshape_p, y, shape=(*shape[:-1], shape[-1] // size, size)), -1, 0)


def _conv1d(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
    """Examples of [B, T, D] with one kernel [K, D]: the batch folded into B. A batched kernel: the
    batch folded into the channels of both (the convolution is channel by channel)."""
    x, w = values
    if batched[1]:
        folded = [_into_channels(_full(v, m, size)) for v, m in zip(values, batched, strict=True)]
        return _out_of_channels(bind(C.conv1d_p, *folded, **params), size)
    shape = typeof(x).shape
    flat = bind(S.reshape_p, x, shape=(size * shape[1], *shape[2:]))
    return bind(S.reshape_p, bind(C.conv1d_p, flat, w, **params), shape=shape)


def _wgrad(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
    """``wgrad(x, g) : [K, D]`` sums over the examples' own [B, T]: the batch folded into the channels."""
    from backend.second_order import wgrad_p

    folded = [_into_channels(_full(v, m, size)) for v, m in zip(values, batched, strict=True)]
    return _out_of_channels(bind(wgrad_p, *folded, **params), size)


def _scatter_along(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
    from backend.second_order import scatter_along_p

    full = [_full(v, m, size) for v, m in zip(values, batched, strict=True)]
    return bind(scatter_along_p, *full, **dict(params, axis=params["axis"] + 1))


def _const(values: list[Any], batched: list[bool], params: dict[str, Any], size: int) -> Any:
    return _full(bind(P.const_p, **params), False, size)


ELEMENTWISE_SHAPES = {P.same, P.boolean}


def _register() -> None:
    from backend import second_order

    for p, shape in SHAPES.items():
        if KINDS[p] == "tangent" or p in BATCHING:
            continue
        if shape in ELEMENTWISE_SHAPES:
            BATCHING[p] = _elementwise(p)
    for p in (P.integer_pow_p, P.sqrt_bound_derivative_p, P.sqrt_bound_grad_p, P.convert_p, P.stop_gradient_p,
              P.checkpoint_name_p):
        BATCHING[p] = _elementwise(p)
    for p in (S.argmax_weights_p, S.prod_others_p):
        BATCHING[p] = _shifted(p, "axes")
    for p in (S.reduce_sum_p, S.reduce_max_p, S.reduce_min_p, S.reduce_prod_p, S.reduce_or_p, S.reduce_and_p):
        BATCHING[p] = _shifted(p, "axes")
    for p in (S.argmax_p, S.argmin_p, S.argsort_p, C.cumsum_p):
        BATCHING[p] = _shifted(p, "axis")
    BATCHING[S.reshape_p] = _reshape
    BATCHING[S.transpose_p] = _transpose
    BATCHING[S.broadcast_p] = _broadcast
    BATCHING[S.slice_p] = _window(S.slice_p)
    BATCHING[S.pad_p] = _window(S.pad_p)
    BATCHING[C.einsum_p] = _einsum
    BATCHING[P.select_p] = _select
    BATCHING[second_order.masked_p] = _select
    BATCHING[S.concatenate_p] = _concatenate
    BATCHING[I.one_hot_p] = _elementwise(I.one_hot_p)
    BATCHING[I.take_p] = _take
    BATCHING[I.scatter_add_p] = _scatter_add
    BATCHING[I.take_along_p] = _take_along
    BATCHING[C.linear_scan_p] = _scan(C.linear_scan_p, 1)
    BATCHING[C.scan_prev_p] = _scan(C.scan_prev_p, 1)
    BATCHING[second_order.scan_lin_p] = _scan(second_order.scan_lin_p, 0)
    BATCHING[second_order.scan_lin_prev_p] = _scan(second_order.scan_lin_prev_p, 0)
    BATCHING[C.conv1d_p] = _conv1d
    BATCHING[second_order.wgrad_p] = _wgrad
    BATCHING[second_order.scatter_along_p] = _scatter_along
    BATCHING[P.const_p] = _const


_register()


def _axes(spec: Any, n: int, what: str) -> list[int | None]:
    if spec is None or isinstance(spec, int):
        return [spec] * n
    if isinstance(spec, Sequence) and len(spec) == n and all(a is None or isinstance(a, int) for a in spec):
        return list(spec)
    per = "argument" if what == "in_axes" else "output leaf"
    raise UsageError(f"{what} must be an int, None, or a tuple of them, one per {per}")


def _move(x: Any, source: int, dest: int) -> Any:
    import backend.numpy as bnp

    return bnp.moveaxis(x, source, dest) if source != dest else x


def vmap(fun: Callable[..., Any], in_axes: Any = 0, out_axes: Any = 0) -> Callable[..., PyTree]:
    """``fun`` mapped over an axis of its arguments, with JAX's conventions: ``in_axes`` an int or
    ``None`` for every argument, or a tuple with one per positional argument (``None``: not mapped);
    ``out_axes`` where the batch axis goes in each output leaf."""

    def run(*args: Any) -> PyTree:
        axes = _axes(in_axes, len(args), "in_axes")
        size: int | None = None
        lifted: list[Any] = []
        trace: BatchTrace | None = None
        for a, ax in zip(args, axes, strict=True):
            if ax is None:
                lifted.append(a)
                continue
            leaves, tree = flatten(a)
            moved = []
            for x in leaves:
                shape = typeof(x).shape
                if not -len(shape) <= ax < len(shape):
                    raise UsageError(f"in_axes {ax} is out of range for an argument of shape {shape}")
                n = shape[ax]
                if size is not None and n != size:
                    raise UsageError(f"vmap got mapped axes of sizes {size} and {n}; they must agree")
                size = n
                moved.append(_move(x if isinstance(x, Traced) else np.asarray(x), ax % len(shape), 0))
            lifted.append((tree, moved))
        if size is None:
            raise UsageError("vmap needs at least one mapped argument (an in_axes that is not None)")
        trace = BatchTrace(size)
        call = [a if ax is None else unflatten(a[0], [BatchTracer(trace, x) for x in a[1]])
                for a, ax in zip(lifted, axes, strict=True)]
        out = fun(*call)
        leaves, tree = flatten(out)
        outs = _axes(out_axes, len(leaves), "out_axes")
        result = []
        for x, ax in zip(leaves, outs, strict=True):
            mapped = isinstance(x, BatchTracer) and x.trace is trace
            if ax is None:
                if mapped:
                    raise UsageError("out_axes None for an output that depends on the mapped arguments")
                result.append(x)
                continue
            value = x.value if mapped else _full(x, False, size)
            result.append(value if ax == 0 else _move(value, 0, ax % typeof(value).ndim))
        return unflatten(tree, result)

    return run
