"""Jacobians and Hessians, with JAX's signatures, built on ``jvp`` and ``vjp``::

    jacfwd(f)(x)[i][j] = ∂yᵢ/∂xⱼ   one ``jvp`` per input element   (shape yᵢ.shape + xⱼ.shape)
    jacrev(f)(x)[i][j] = ∂yᵢ/∂xⱼ   ``vmap`` of the ``vjp`` pullback over the basis of each output leaf
    hessian(f)         = jacfwd(jacrev(f))

The result has the structure of the output, each leaf replaced by the structure of the
differentiated arguments (a tuple of them when ``argnums`` is a tuple), as in JAX. With
``has_aux`` the function returns ``(output, aux)`` and the transformation ``(jacobian, aux)``.
Each derivative program is traced and compiled once; the basis vectors only change its inputs, and
inside another transformation's trace the program is recorded there (``backend.inline``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import backend.numpy as bnp
from backend.api import Argnums, jvp, vjp
from backend.batching import vmap
from backend.pytree import PyTree, TreeDef, flatten, unflatten
from calculi.core.errors import UsageError


def _selected(args: Sequence[Any], argnums: Argnums) -> tuple[list[int], Any]:
    nums = [argnums] if isinstance(argnums, int) else list(argnums)
    n = len(args)
    for k in nums:
        if not -n <= k < n:
            raise UsageError(f"argnums {k} is out of range for {n} positional arguments")
    nums = [k % n for k in nums]
    chosen = args[nums[0]] if isinstance(argnums, int) else tuple(args[k] for k in nums)
    return nums, chosen


def _partial(f: Callable[..., Any], args: Sequence[Any], nums: list[int], single: bool,
             has_aux: bool) -> Callable[..., Any]:
    """``f`` as a function of the differentiated arguments only (the output without its aux)."""

    def g(*chosen: Any) -> Any:
        full = list(args)
        for k, a in zip(nums, chosen, strict=True):
            full[k] = a
        out = f(*full)
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise UsageError("with has_aux=True the function must return a pair (output, aux)")
            return out[0]
        return out

    g.__name__ = getattr(f, "__name__", "f")
    return g


def _check(holomorphic: bool) -> None:
    if holomorphic:
        raise UsageError("holomorphic=True is not supported: the backend differentiates real functions")


def _assemble(out_tree: TreeDef, in_tree: TreeDef, blocks: list[list[Any]]) -> PyTree:
    return unflatten(out_tree, [unflatten(in_tree, row) for row in blocks])


def _float_leaves(xs: list[Any]) -> None:
    for i, x in enumerate(xs):
        if bnp.dtype_of(x).kind not in "fc":
            raise UsageError(f"differentiated argument leaf {i} has dtype {bnp.dtype_of(x)}; only floating "
                             "arrays have derivatives")


def jacfwd(fun: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False,
           holomorphic: bool = False) -> Callable[..., Any]:
    """The Jacobian of ``fun`` in the arguments ``argnums``, column by column with ``jvp``."""
    _check(holomorphic)

    def run(*args: Any) -> Any:
        nums, chosen = _selected(args, argnums)
        single = isinstance(argnums, int)
        g = _partial(fun, args, nums, single, has_aux)
        primals = (chosen,) if single else tuple(chosen)
        xs, in_tree = flatten(chosen)
        _float_leaves(xs)
        columns: list[list[list[Any]]] = [[] for _ in xs]  # [input leaf][element] → output leaves
        for j, x in enumerate(xs):
            for k in range(int(np.prod(bnp.shape(x), dtype=np.int64))):
                basis = [np.zeros(bnp.shape(z), bnp.dtype_of(z)) for z in xs]
                basis[j].reshape(-1)[k] = 1
                tangents = unflatten(in_tree, basis)
                _, tangent_out = jvp(g, primals, (tangents,) if single else tuple(tangents))
                columns[j].append(flatten(tangent_out)[0])
        ys, out_tree = flatten(g(*primals))
        blocks = []
        for i, y in enumerate(ys):
            shape = bnp.shape(y)
            blocks.append([bnp.reshape(bnp.stack([c[i] for c in col], axis=-1), (*shape, *bnp.shape(x)))
                           if col else np.zeros((*shape, *bnp.shape(x)), bnp.dtype_of(x))
                           for col, x in zip(columns, xs, strict=True)])
        jac = _assemble(out_tree, in_tree, blocks)
        return (jac, fun(*args)[1]) if has_aux else jac

    return run


def jacrev(fun: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False,
           holomorphic: bool = False) -> Callable[..., Any]:
    """The Jacobian of ``fun`` in the arguments ``argnums``: the ``vjp`` pullback, ``vmap``ped over
    the basis cotangents of each output leaf."""
    _check(holomorphic)

    def run(*args: Any) -> Any:
        _, chosen = _selected(args, argnums)
        single = isinstance(argnums, int)
        xs, in_tree = flatten(chosen)
        _float_leaves(xs)
        result = vjp(fun, *args, argnums=argnums, has_aux=has_aux)
        out, pullback = result[0], result[1]
        ys, out_tree = flatten(out)
        blocks = []
        for i, y in enumerate(ys):
            shape, n = bnp.shape(y), int(np.prod(bnp.shape(y), dtype=np.int64))
            if n == 0:
                blocks.append([np.zeros((*shape, *bnp.shape(x)), bnp.dtype_of(x)) for x in xs])
                continue
            basis = np.eye(n, dtype=bnp.dtype_of(y)).reshape((n, *shape))

            def row(c: Any, i: int = i) -> Any:
                cts = [c if j == i else np.zeros(bnp.shape(z), bnp.dtype_of(z)) for j, z in enumerate(ys)]
                grads = pullback(unflatten(out_tree, cts))
                return flatten(grads if single else tuple(grads))[0]

            rows = vmap(row)(basis)  # every cotangent of the output leaf in one batched pullback
            blocks.append([bnp.reshape(r, (*shape, *bnp.shape(x))) for r, x in zip(rows, xs, strict=True)])
        jac = _assemble(out_tree, in_tree, blocks)
        return (jac, result[2]) if has_aux else jac

    return run


def hessian(fun: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False,
            holomorphic: bool = False) -> Callable[..., Any]:
    """The Hessian of a scalar ``fun``: ``jacfwd(jacrev(fun))`` (forward over reverse)."""
    _check(holomorphic)
    if not has_aux:
        return jacfwd(jacrev(fun, argnums), argnums)
    inner = jacrev(fun, argnums, has_aux=True)
    return jacfwd(inner, argnums, has_aux=True)


def hvp(fun: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> PyTree:
    """H(x)·v of a scalar ``fun`` of ``primals``: forward over reverse, ``jvp(grad(fun), x, v)``."""
    from backend.api import grad

    nums = tuple(range(len(primals)))
    g = grad(fun, argnums=nums if len(primals) > 1 else 0)
    return jvp(g, tuple(primals), tuple(tangents))[1]
