"""``backend.pytree`` against ``jax.tree_util``: leaves, structures, round trips, names, registration."""

from __future__ import annotations

import collections
import dataclasses
from typing import Any, NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend import pytree
from calculi.core.errors import UsageError

tu = pytest.importorskip("jax.tree_util")


class Pair(NamedTuple):
    first: Any
    second: Any


class Other(NamedTuple):
    first: Any
    second: Any


# -- generated trees ---------------------------------------------------------------------------------

leaves = st.integers(-3, 3)


def _nodes(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(st.sampled_from("abcd"), children, max_size=3),
        st.builds(Pair, children, children),
        st.builds(Other, children, children),
    )


trees = st.recursive(st.one_of(leaves, st.none()), _nodes, max_leaves=12)


def _same_shape(tree: Any) -> st.SearchStrategy[Any]:
    """A tree of ``tree``'s structure with other leaves."""
    return st.lists(leaves, min_size=len(tu.tree_leaves(tree)), max_size=len(tu.tree_leaves(tree))).map(
        lambda xs: tu.tree_unflatten(tu.tree_structure(tree), xs))


pairs = trees.flatmap(lambda a: st.tuples(st.just(a), st.one_of(_same_shape(a), trees)))


def _exact(a: Any, b: Any) -> bool:
    """Equal, with the same container classes all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_exact(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_exact(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _jax_name(path: tuple[Any, ...]) -> str:
    parts = []
    for key in path:
        for attr in ("key", "idx", "name"):
            if hasattr(key, attr):
                parts.append(str(getattr(key, attr)))
                break
    return ".".join(parts)


@given(trees)
def test_leaves_and_round_trip_agree_with_jax(tree: Any) -> None:
    leaves, treedef = pytree.flatten(tree)
    assert leaves == tu.tree_leaves(tree)
    assert treedef.leaves == treedef.num_leaves == tu.tree_structure(tree).num_leaves
    rebuilt = pytree.unflatten(treedef, leaves)
    assert _exact(rebuilt, tree)
    assert _exact(rebuilt, tu.tree_unflatten(tu.tree_structure(tree), leaves))


@given(pairs)
def test_structures_are_equal_exactly_when_jax_says_so(pair: tuple[Any, Any]) -> None:
    a, b = pair
    ours = pytree.tree_structure(a) == pytree.tree_structure(b)
    assert ours == (tu.tree_structure(a) == tu.tree_structure(b))
    if ours:
        assert hash(pytree.tree_structure(a)) == hash(pytree.tree_structure(b))


@given(pairs)
def test_tree_map_agrees_with_jax(pair: tuple[Any, Any]) -> None:
    a, b = pair
    try:
        expected = tu.tree_map(lambda x, y: (x, y), a, b)
    except (ValueError, TypeError):
        with pytest.raises(pytree.TreeMismatch):
            pytree.tree_map(lambda x, y: (x, y), a, b)
        return
    assert _exact(pytree.tree_map(lambda x, y: (x, y), a, b), expected)


@given(trees)
def test_named_leaves_follow_flatten_order_and_jax_paths(tree: Any) -> None:
    named = list(pytree.named_leaves(tree))
    assert [x for _, x in named] == pytree.flatten(tree)[0]
    assert [n for n, _ in named] == [_jax_name(p) for p, _ in tu.tree_flatten_with_path(tree)[0]]


# -- fixed cases -------------------------------------------------------------------------------------

def test_none_is_an_empty_subtree() -> None:
    assert pytree.flatten(None)[0] == []
    assert pytree.tree_structure(None).leaves == 0
    assert pytree.tree_leaves({"a": None, "b": 1, "c": [None, 2]}) == [1, 2]
    assert pytree.tree_structure((None, 1)) != pytree.tree_structure((1, None))


def test_dict_keys_are_sorted_but_ordered_dicts_keep_their_order() -> None:
    assert pytree.tree_leaves({"b": 1, "a": 2}) == [2, 1]
    ordered = collections.OrderedDict(b=1, a=2)
    assert pytree.tree_leaves(ordered) == tu.tree_leaves(ordered) == [1, 2]
    default: collections.defaultdict[str, Any] = collections.defaultdict(list, {"b": 1, "a": 2})
    assert pytree.tree_leaves(default) == tu.tree_leaves(default) == [2, 1]
    leaves, treedef = pytree.flatten(default)
    rebuilt = pytree.unflatten(treedef, leaves)
    assert isinstance(rebuilt, collections.defaultdict)
    assert rebuilt.default_factory is list
    assert pytree.tree_structure(ordered) != pytree.tree_structure({"b": 1, "a": 2})


def test_namedtuples_are_nodes_of_their_own_class() -> None:
    leaves, treedef = pytree.flatten(Pair([1, 2], 3))
    assert leaves == [1, 2, 3]
    assert type(pytree.unflatten(treedef, leaves)) is Pair
    assert pytree.tree_structure(Pair(1, 2)) != pytree.tree_structure(Other(1, 2))
    assert pytree.tree_structure(Pair(1, 2)) != pytree.tree_structure((1, 2))
    assert dict(pytree.named_leaves({"p": Pair(1, [2])})) == {"p.first": 1, "p.second.0": 2}


def test_tree_map_names_both_structures_when_they_differ() -> None:
    with pytest.raises(ValueError, match=r"\[\*, \*\].*\{'a': \*, 'b': \*\}"):
        pytree.tree_map(lambda x, y: x + y, {"a": 1, "b": 2}, [1, 2])
    with pytest.raises(UsageError):
        pytree.tree_map(lambda x, y: x + y, (1, (2, 3)), ((1, 2), 3))


def test_tree_map_maps_over_several_trees() -> None:
    m = pytree.tree_map(lambda x, y, z: x + y * z, {"w": [1, 2]}, {"w": [3, 4]}, {"w": [5, 6]})
    assert m == {"w": [16, 26]}


def test_unflatten_rejects_the_wrong_number_of_leaves() -> None:
    treedef = pytree.tree_structure({"a": (1, 2)})
    with pytest.raises(ValueError, match="leaves"):
        pytree.unflatten(treedef, [1])
    with pytest.raises(ValueError, match="leaves"):
        pytree.unflatten(treedef, [1, 2, 3])


def test_treedefs_are_hashable_and_usable_as_keys() -> None:
    cache = {pytree.tree_structure({"a": [1, 2]}): "hit"}
    assert cache[pytree.tree_structure({"a": [5, 6]})] == "hit"
    assert pytree.tree_structure({"a": [1, 2]}) not in {pytree.tree_structure({"a": (1, 2)}): 0}
    assert "TreeDef(" in repr(pytree.tree_structure({"a": [1, 2]}))


# -- registered classes ------------------------------------------------------------------------------

class Box:
    """A user node whose aux data (a list) is unhashable."""

    def __init__(self, items: list[Any], tags: list[str]) -> None:
        self.items, self.tags = items, tags

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Box) and (self.items, self.tags) == (other.items, other.tags)

    __hash__ = None  # type: ignore[assignment]


def _box_flatten(b: Box) -> tuple[list[Any], list[str]]:
    return b.items, b.tags


def _box_unflatten(tags: list[str], items: Any) -> Box:
    return Box(list(items), tags)


pytree.register_pytree_node(Box, _box_flatten, _box_unflatten)
tu.register_pytree_node(Box, _box_flatten, _box_unflatten)


def test_register_pytree_node_with_unhashable_aux() -> None:
    tree = {"box": Box([1, [2, 3]], ["t"])}
    leaves, treedef = pytree.flatten(tree)
    assert leaves == tu.tree_leaves(tree) == [1, 2, 3]
    assert pytree.unflatten(treedef, leaves) == tree
    same, other = Box([4, [5, 6]], ["t"]), Box([4, [5, 6]], ["u"])
    assert treedef == pytree.tree_structure({"box": same})
    assert treedef != pytree.tree_structure({"box": other})
    assert (tu.tree_structure(tree) == tu.tree_structure({"box": other})) is False
    # hashing never raises: aux data stay out of the hash, == tells such structures apart
    assert hash(treedef) == hash(pytree.tree_structure({"box": other}))
    assert len({treedef: 0, pytree.tree_structure({"box": other}): 1}) == 2


@dataclasses.dataclass
class Layer:
    w: Any
    b: Any
    name: str = "layer"


pytree.register_dataclass(Layer, data_fields=["w", "b"], meta_fields=["name"])
tu.register_dataclass(Layer, data_fields=["w", "b"], meta_fields=["name"])


@dataclasses.dataclass
class Marked:
    x: Any
    size: int = dataclasses.field(default=1, metadata={"static": True})


pytree.register_dataclass(Marked)


def test_registered_dataclasses_are_nodes() -> None:
    tree = [Layer(1, (2, 3), "in"), Layer(4, None, "out")]
    leaves, treedef = pytree.flatten(tree)
    assert leaves == tu.tree_leaves(tree) == [1, 2, 3, 4]
    assert pytree.unflatten(treedef, leaves) == tree
    assert (pytree.tree_structure(Layer(1, 2, "a")) == pytree.tree_structure(Layer(3, 4, "b"))) is False
    assert (tu.tree_structure(Layer(1, 2, "a")) == tu.tree_structure(Layer(3, 4, "b"))) is False
    assert dict(pytree.named_leaves({"l": Layer(1, [2])})) == {"l.w": 1, "l.b.0": 2}
    assert [n for n, _ in pytree.named_leaves({"l": Layer(1, [2])})] == [
        _jax_name(p) for p, _ in tu.tree_flatten_with_path({"l": Layer(1, [2])})[0]]


def test_register_dataclass_reads_static_fields_when_not_told() -> None:
    leaves, treedef = pytree.flatten(Marked([1, 2], size=5))
    assert leaves == [1, 2]
    assert pytree.unflatten(treedef, [3, 4]) == Marked([3, 4], size=5)
    assert pytree.tree_structure(Marked(0, 5)) != pytree.tree_structure(Marked(0, 6))


def test_register_dataclass_checks_its_fields() -> None:
    @dataclasses.dataclass
    class Half:
        a: int
        b: int

    with pytest.raises(ValueError, match="__init__ field"):
        pytree.register_dataclass(Half, data_fields=["a"], meta_fields=[])
    with pytest.raises(TypeError, match="not a dataclass"):
        pytree.register_dataclass(Box, data_fields=[], meta_fields=[])


def test_register_pytree_node_class() -> None:
    @pytree.register_pytree_node_class
    class Scaled:
        def __init__(self, value: Any, scale: float) -> None:
            self.value, self.scale = value, scale

        def tree_flatten(self) -> tuple[tuple[Any], float]:
            return (self.value,), self.scale

        @classmethod
        def tree_unflatten(cls, scale: float, children: Any) -> Scaled:
            return cls(children[0], scale)

    doubled = pytree.tree_map(lambda x: 2 * x, Scaled([1, 2], 0.5))
    assert isinstance(doubled, Scaled)
    assert (doubled.value, doubled.scale) == ([2, 4], 0.5)
