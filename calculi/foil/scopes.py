"""The run-time representation of a scope (the rapier's in-scope set Θ), erased from ``Scope[N]``.

A scope whose names are all below ``WIDE`` is an ``int`` bit set: membership (``Θ >> x & 1``),
extension (``Θ | 1 << x``) and the fresh name (``Θ.bit_length()``) are single integer operations,
as fast as Python gets. A bit set costs time proportional to its largest name, though, and a
process that has read many names hands out large identifiers; so a scope with a name at or above
``WIDE`` is a ``Wide``: the names below ``WIDE`` still as an ``int`` bit set, the others in a
persistent radix trie of bit-set leaves (``LEAF_BITS`` names a leaf, ``FAN`` children a node),
and the largest name kept alongside. Extending it copies one path of the trie: O(log n) with a
constant of a few tuple slices, whatever the largest name.

``Wide`` answers the same three integer operations as an ``int`` (``>>``, ``|`` with a bit set,
``bit_length``), so code that tests membership or draws a fresh name need not know which it
holds; only an extension by a name at or above ``WIDE`` must go through ``widen`` (building
``1 << x`` would itself cost time proportional to ``x``). The invariant: an ``int`` scope has
every name below ``WIDE``; ``from_bits`` and ``extend`` keep it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeAlias

WIDE = 1 << 16
"""Names below this are bits of an ``int``; a scope with a larger name is a ``Wide``. Below it,
an ``int`` operation (at most 8 KiB of digits) costs less than copying a path of the trie."""
LEAF_BITS = 12
FAN_BITS = 4
FAN = 1 << FAN_BITS
_LEAF_MASK = (1 << LEAF_BITS) - 1
_FAN_MASK = FAN - 1
_LOW_MASK = (1 << WIDE) - 1
_EMPTY_NODE: tuple[Any, ...] = (None,) * FAN

Trie: TypeAlias = "tuple[Any, ...] | int | None"


def _names(node: Trie, height: int, base: int) -> Iterator[int]:
    """The names in ``node``, whose first leaf is number ``base``, in increasing order."""
    if node is None:
        return
    if height == 0:
        bits: int = node  # type: ignore[assignment]
        offset = base << LEAF_BITS
        while bits:
            low = bits & -bits
            yield offset + low.bit_length() - 1
            bits ^= low
        return
    step = FAN ** (height - 1)
    for i, child in enumerate(node):  # type: ignore[arg-type]
        yield from _names(child, height - 1, base + i * step)


class Wide:
    """A scope with a name at or above ``WIDE``: the low names as a bit set, the others in a
    persistent trie of ``height`` levels, and ``top``, one past the largest name. Immutable."""

    __slots__ = ("height", "low", "root", "top")

    def __init__(self, low: int, root: Trie, height: int, top: int) -> None:
        self.low = low
        self.root = root
        self.height = height
        self.top = top

    def __rshift__(self, name: int) -> int:
        """``Θ >> x & 1`` is membership, as for a bit set."""
        if name < WIDE:
            return self.low >> name
        chunk = name >> LEAF_BITS
        height = self.height
        if chunk >> (FAN_BITS * height):
            return 0
        node: Any = self.root
        while height and node is not None:
            height -= 1
            node = node[chunk >> (FAN_BITS * height) & _FAN_MASK]
        return 0 if node is None else node >> (name & _LEAF_MASK)

    def __or__(self, other: object) -> RawScope:
        """Union with a bit set (``Θ | 1 << x``) or another scope."""
        if isinstance(other, int):
            if other <= _LOW_MASK:
                return Wide(self.low | other, self.root, self.height, self.top)
            return union(self, from_bits(other))
        if isinstance(other, Wide):
            return union(self, other)
        return NotImplemented

    __ror__ = __or__

    def bit_length(self) -> int:
        """One past the largest name: the fresh name ``with_fresh`` draws, as for a bit set."""
        return self.top

    def names(self) -> Iterator[int]:
        """The names, in increasing order."""
        yield from bit_names(self.low)
        yield from _names(self.root, self.height, 0)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (int, Wide)):
            return names(self) == names(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self.names()))

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"Wide({list(self.names())})"


RawScope: TypeAlias = "int | Wide"


def widen(scope: RawScope, name: int) -> Wide:
    """Θ ∪ {x} for a name ``x`` at or above ``WIDE`` (the caller tests that): O(log x)."""
    if scope.__class__ is int:
        low: int = scope
        root: Any = None
        height, top = 1, 0
    else:
        low, root, height, top = scope.low, scope.root, scope.height, scope.top  # type: ignore[union-attr]
    chunk = name >> LEAF_BITS
    while chunk >> (FAN_BITS * height):
        if root is not None:
            root = (root, *_EMPTY_NODE[1:])
        height += 1
    path: list[tuple[tuple[Any, ...], int]] = []
    node = root
    shift = FAN_BITS * height
    while shift:
        shift -= FAN_BITS
        children = _EMPTY_NODE if node is None else node
        i = chunk >> shift & _FAN_MASK
        path.append((children, i))
        node = children[i]
    new: Any = 1 << (name & _LEAF_MASK)
    if node is not None:
        new |= node
    for children, i in reversed(path):
        new = children[:i] + (new,) + children[i + 1 :]  # noqa: RUF005  (faster than unpacking)
    return Wide(low, new, height, top if top > name else name + 1)


def extend(scope: RawScope, name: int) -> RawScope:
    """Θ ∪ {x}, whichever the representation."""
    return scope | 1 << name if name < WIDE else widen(scope, name)


def from_names(names: Iterable[int]) -> RawScope:
    """The scope of exactly these names."""
    low = 0
    high: list[int] = []
    for name in names:
        if name < WIDE:
            low |= 1 << name
        else:
            high.append(name)
    scope: RawScope = low
    for name in high:
        scope = widen(scope, name)
    return scope


def bit_names(bits: int) -> Iterator[int]:
    """The members of an ``int`` bit set, in increasing order."""
    while bits:
        low = bits & -bits
        yield low.bit_length() - 1
        bits ^= low


def from_bits(bits: int) -> RawScope:
    """The scope of an ``int`` bit set (``unsafe_scope``'s conversion): linear in its length, with
    the trie built bottom-up from the bit set's bytes, a leaf at a time (not a name at a time)."""
    if bits <= _LOW_MASK:
        return bits
    data = (bits >> WIDE << WIDE).to_bytes((bits.bit_length() + 7) // 8, "little")
    size = 1 << (LEAF_BITS - 3)
    level: list[Any] = [int.from_bytes(data[k:k + size], "little") or None for k in range(0, len(data), size)]
    height = 1
    while len(level) > FAN ** height:
        height += 1
    for _ in range(height):
        level += [None] * (-len(level) % FAN)
        level = [None if all(c is None for c in level[k:k + FAN]) else tuple(level[k:k + FAN])
                 for k in range(0, len(level), FAN)]
    return Wide(bits & _LOW_MASK, level[0], height, bits.bit_length())


def names(scope: RawScope) -> list[int]:
    """The names of a scope, in increasing order."""
    return list(bit_names(scope) if isinstance(scope, int) else scope.names())


def union(left: RawScope, right: RawScope) -> RawScope:
    """Θ ∪ Θ'."""
    if isinstance(left, int) and isinstance(right, int):
        return from_bits(left | right)
    if isinstance(left, int):
        left, right = right, left
    out: RawScope = left
    for name in names(right):
        if not out >> name & 1:
            out = extend(out, name)
    return out
