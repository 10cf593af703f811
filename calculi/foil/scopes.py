"""The run-time representation of a scope (the rapier's in-scope set Θ), erased from ``Scope[N]``.

A scope whose names are all below ``WIDE`` is an ``int`` bit set: membership (``Θ >> x & 1``),
extension (``Θ | 1 << x``) and the fresh name (``Θ.bit_length()``) are single integer operations,
as fast as Python gets, and cost at most a few 8 KiB integers. A scope with a name at or above
``WIDE`` is a ``Wide``: the names below ``WIDE`` still an ``int`` bit set, the others in a
persistent radix trie of fixed height over the whole name space (names below ``LIMIT`` = 2³², as
a word bounds Haskell's ``IntSet``; names are dense identifiers, so no process comes near it), and
one past the largest name kept alongside. A name is split into its path through the trie:

    x = i₀ i₁ i₂ i₃ b      (5 + 5 + 5 + 5 bits of node indices, 12 bits of leaf position)

so every name is reached through exactly ``LEVELS`` nodes of ``FAN`` children, whatever the scope
holds. Membership reads that path; extension copies it (``LEVELS`` lists of ``FAN`` slots) and
sets one bit of a leaf; the fresh name is the stored top. All three are constant time, with the
path written out in ``_member`` and ``widen`` rather than looped over. Nodes are lists that are
never changed once built (extension copies before it writes), and an empty subtree is the one
shared ``_EMPTY[depth]``, so a scope with a few large names costs a few paths.

``Wide`` answers the same three integer operations as an ``int`` (``>>``, ``|`` with a bit set,
``bit_length``), so code that tests membership or draws a fresh name need not know which it
holds; only an extension by a name at or above ``WIDE`` must go through ``widen`` (building
``1 << x`` would itself cost time proportional to ``x``). The invariant: an ``int`` scope has
every name below ``WIDE``; ``from_bits`` and ``extend`` keep it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeAlias

from calculi.core.errors import ScopeError

WIDE = 1 << 16
"""Names below this are bits of an ``int``; a scope with a larger name is a ``Wide``. Below it,
an ``int`` operation (at most 8 KiB of digits) costs less than copying a path of the trie."""
LEAF_BITS = 12
FAN_BITS = 5
LEVELS = 4
FAN = 1 << FAN_BITS
LIMIT = 1 << (LEAF_BITS + FAN_BITS * LEVELS)
"""One past the largest name a scope can hold (2³²)."""
BOUNDARIES = tuple(1 << (LEAF_BITS + FAN_BITS * k) for k in range(LEVELS + 1))
"""Where a name's path first changes at each level: 2¹², 2¹⁷, 2²², 2²⁷ and ``LIMIT``."""
_LEAF = (1 << LEAF_BITS) - 1
_IDX = FAN - 1
_LOW_MASK = (1 << WIDE) - 1
_S0, _S1, _S2, _S3 = (LEAF_BITS + FAN_BITS * k for k in (3, 2, 1, 0))


def _empties() -> list[Any]:
    """``_EMPTY[d]``: the empty subtree at depth d (0 the root, ``LEVELS`` a leaf, the int 0)."""
    out: list[Any] = [0]
    for _ in range(LEVELS):
        out.append([out[-1]] * FAN)
    return out[::-1]


_EMPTY = _empties()

Trie: TypeAlias = "list[Any]"


def _names(node: Any, depth: int, first: int) -> Iterator[int]:
    """The names in ``node`` (at ``depth``, its first leaf number ``first``), in increasing order."""
    if depth == LEVELS:
        bits: int = node
        offset = first << LEAF_BITS
        while bits:
            low = bits & -bits
            yield offset + low.bit_length() - 1
            bits ^= low
        return
    if node is _EMPTY[depth]:
        return
    span = FAN ** (LEVELS - 1 - depth)
    for i, child in enumerate(node):
        yield from _names(child, depth + 1, first + i * span)


def _member(root: Trie, name: int) -> int:
    """The leaf of ``name`` shifted to ``name``'s bit (``& 1`` is membership), for WIDE ≤ name < LIMIT."""
    leaf: int = root[name >> _S0][name >> _S1 & _IDX][name >> _S2 & _IDX][name >> _S3 & _IDX]
    return leaf >> (name & _LEAF)


class Wide:
    """A scope with a name at or above ``WIDE``: the low names as a bit set, the others in the
    fixed-height trie ``root``, and ``top``, one past the largest name. Immutable."""

    __slots__ = ("low", "root", "top")

    def __init__(self, low: int, root: Trie, top: int) -> None:
        self.low = low
        self.root = root
        self.top = top

    def __rshift__(self, name: int) -> int:
        """``Θ >> x & 1`` is membership, as for a bit set."""
        if name < WIDE:
            return self.low >> name
        if name >= LIMIT:
            return 0
        return _member(self.root, name)

    def __or__(self, other: object) -> RawScope:
        """Union with a bit set (``Θ | 1 << x``) or another scope."""
        if isinstance(other, int):
            if other <= _LOW_MASK:
                return Wide(self.low | other, self.root, self.top)
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
        yield from _names(self.root, 0, 0)

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


def _beyond(name: int) -> ScopeError:
    return ScopeError(f"name {name} is beyond the name space of a scope: names are below 2^32 ({LIMIT})")


def widen(scope: RawScope, name: int) -> Wide:
    """Θ ∪ {x} for a name ``x`` with WIDE ≤ x (the caller tests that): a copy of x's path, in
    constant time. A name at or above ``LIMIT`` is a ``ScopeError``."""
    if scope.__class__ is int:
        low: int = scope
        root, top = _EMPTY[0], 0
    else:
        low, root, top = scope.low, scope.root, scope.top  # type: ignore[union-attr]
    if name >= LIMIT:
        raise _beyond(name)
    i0 = name >> _S0
    i1 = name >> _S1 & _IDX
    i2 = name >> _S2 & _IDX
    i3 = name >> _S3 & _IDX
    n0: list[Any] = root.copy()
    n1: list[Any] = n0[i0].copy()
    n2: list[Any] = n1[i1].copy()
    n3: list[Any] = n2[i2].copy()
    n3[i3] |= 1 << (name & _LEAF)
    n2[i2] = n3
    n1[i1] = n2
    n0[i0] = n1
    return Wide(low, n0, top if top > name else name + 1)


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
    if bits.bit_length() > LIMIT:
        raise _beyond(bits.bit_length() - 1)
    data = (bits >> WIDE << WIDE).to_bytes((bits.bit_length() + 7) // 8, "little")
    size = 1 << (LEAF_BITS - 3)
    level: list[Any] = [int.from_bytes(data[k:k + size], "little") for k in range(0, len(data), size)]
    for depth in range(LEVELS - 1, -1, -1):
        empty = _EMPTY[depth + 1]
        level += [empty] * (-len(level) % FAN)
        level = [_EMPTY[depth] if all(c is empty or c == 0 for c in level[k:k + FAN]) else level[k:k + FAN]
                 for k in range(0, len(level), FAN)]
    return Wide(bits & _LOW_MASK, level[0], bits.bit_length())


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
