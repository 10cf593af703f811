"""Pytrees: nested dicts, lists and tuples whose leaves are arrays (JAX's convention).

``flatten(tree)`` gives the leaves in a fixed order (dict keys sorted) and a ``TreeDef`` that
``unflatten`` uses to rebuild the same structure; ``named_leaves`` gives dotted names
(``blocks.0.mlp_block.ffw_up.w``) for checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

PyTree = Any


@dataclass(frozen=True, slots=True)
class TreeDef:
    """The structure of a pytree: ``kind`` is dict, list, tuple or leaf; ``keys`` for dicts."""

    kind: str
    keys: tuple[Any, ...] = ()
    children: tuple[TreeDef, ...] = ()

    @property
    def leaves(self) -> int:
        return 1 if self.kind == "leaf" else sum(c.leaves for c in self.children)


LEAF = TreeDef("leaf")


def flatten(tree: PyTree) -> tuple[list[Any], TreeDef]:
    leaves: list[Any] = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree: PyTree, out: list[Any]) -> TreeDef:
    if isinstance(tree, dict):
        keys = tuple(sorted(tree))
        return TreeDef("dict", keys, tuple(_flatten(tree[k], out) for k in keys))
    if isinstance(tree, (list, tuple)) and not hasattr(tree, "_fields"):
        kind = "list" if isinstance(tree, list) else "tuple"
        return TreeDef(kind, (), tuple(_flatten(x, out) for x in tree))
    out.append(tree)
    return LEAF


def unflatten(treedef: TreeDef, leaves: list[Any]) -> PyTree:
    it = iter(leaves)
    tree = _unflatten(treedef, it)
    if next(it, _END) is not _END:
        raise ValueError("more leaves than the tree structure holds")
    return tree


_END = object()


def _unflatten(td: TreeDef, it: Iterator[Any]) -> PyTree:
    if td.kind == "leaf":
        value = next(it, _END)
        if value is _END:
            raise ValueError("fewer leaves than the tree structure holds")
        return value
    children = [_unflatten(c, it) for c in td.children]
    if td.kind == "dict":
        return dict(zip(td.keys, children, strict=True))
    return children if td.kind == "list" else tuple(children)


def tree_map(f: Callable[..., Any], tree: PyTree, *rest: PyTree) -> PyTree:
    leaves, td = flatten(tree)
    others = [flatten(r)[0] for r in rest]
    return unflatten(td, [f(x, *ys) for x, *ys in zip(leaves, *others, strict=True)])


def named_leaves(tree: PyTree, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(tree, dict):
        for k in sorted(tree):
            yield from named_leaves(tree[k], f"{prefix}{k}.")
    elif isinstance(tree, (list, tuple)):
        for i, x in enumerate(tree):
            yield from named_leaves(x, f"{prefix}{i}.")
    else:
        yield prefix[:-1], tree
