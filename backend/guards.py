"""What a traced function reads besides its arguments, checked again at each call.

A function is traced once and its compiled program reused, so anything it reads other than its
arguments is, in the program, the value it had when it was traced. ``environment(f)`` collects those
reads: the contents of ``f``'s closure cells, its defaults, the globals its code names, and, through
them, the same for every Python function, ``functools.partial`` and bound method it reaches (library
modules excepted), one level into the attributes of objects (``self.w``) and two levels into lists,
tuples and dicts. ``Guard.holds()`` says whether each is still what it was:

    an array       the same object, shape and dtype, and the same bytes (an in-place change shows)
    a number, str  an equal value
    anything else  the same object

The transformations retrace when a guard fails, so rebinding a captured name (``X = new``), changing
a captured array in place, or changing a global temperature gives the answer for the new value,
never the old one. An array reached some other way (returned by a call into a library, or deeper in
an object) is not checked: pass it as an argument.
"""

from __future__ import annotations

import functools
import types
import weakref
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

LIBRARIES = ("numpy", "math", "builtins", "functools", "itertools", "operator", "typing", "collections",
             "calculi", "backend.numpy", "backend.nn", "backend.dispatch", "backend.api", "backend.tracing",
             "backend.primitives", "jax", "torch", "autograd")
"""Modules whose functions are not followed: their state is not the user's model."""

SCALARS = (int, float, complex, bool, str, bytes, type(None), np.generic)
MAX_ITEMS = 256  # items of one container that are looked at
Probe = Callable[[], Any]


def _library(obj: object) -> bool:
    module = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", None)
    if not isinstance(module, str):
        return True
    return any(module == lib or module.startswith(lib + ".") for lib in LIBRARIES)


def _crc(a: np.ndarray[Any, Any]) -> int:
    data = a if a.flags.c_contiguous else np.ascontiguousarray(a)
    return zlib.crc32(data.data.cast("B")) if a.size else 0


def _identity(value: object) -> object:
    return value


def held(value: object) -> Probe:
    """A probe that reads ``value`` itself, held weakly where it can be (so that caching a function
    keeps nothing alive that the function itself would not)."""
    try:
        return weakref.ref(value)
    except TypeError:
        return functools.partial(_identity, value)


Check = Callable[[Any], bool]


def _check(value: object) -> Check:
    """Whether a value read later is still ``value`` (see the module docstring)."""
    if isinstance(value, SCALARS):
        kind = type(value)
        return lambda v: type(v) is kind and bool(v == value or (v != v and value != value))
    ref = held(value)
    if isinstance(value, np.ndarray):
        shape, dtype, crc = value.shape, value.dtype, _crc(value)
        return lambda v: v is ref() and v.shape == shape and v.dtype == dtype and _crc(v) == crc

    def same(v: object) -> bool:
        then = ref()
        return then is not None and v is then

    return same


@dataclass(frozen=True)
class Guard:
    """Probes that read, at each call, what the function read when it was traced, each with the
    check that what it reads now is the same."""

    probes: tuple[Probe, ...]
    checks: tuple[Check, ...]

    def holds(self) -> bool:
        try:
            for probe, check in zip(self.probes, self.checks, strict=True):
                if not check(probe()):
                    return False
        except Exception:  # a probe that cannot read (a key gone, an exotic __eq__): changed
            return False
        return True


def environment(f: Callable[..., Any], arguments: Sequence[object] = ()) -> Guard:
    """The guard of everything ``f`` reads besides its arguments (see the module docstring), and of
    the attributes and items of the objects ``arguments`` (static arguments compared by identity)."""
    seen: set[int] = set()
    probes = list(_walk(f, seen))
    for a in arguments:
        probes.extend(_values(held(a), seen))
    return Guard(tuple(probes), tuple(_check(p()) for p in probes))


def _walk(f: object, seen: set[int]) -> Iterator[Probe]:
    if id(f) in seen:
        return
    seen.add(id(f))
    if isinstance(f, functools.partial):
        yield from _values(lambda: f.func, seen)
        for i in range(len(f.args)):
            yield from _values(functools.partial(_item, f.args, i), seen)
        for k in f.keywords:
            yield from _values(functools.partial(_item, f.keywords, k), seen)
    elif isinstance(f, types.MethodType):
        yield from _values(held(f.__self__), seen)
        yield from _walk(f.__func__, seen)
    elif isinstance(f, types.FunctionType) and not _library(f):
        yield from _function(f, seen)
    elif callable(f) and not isinstance(f, type) and not _library(type(f)):
        call = getattr(type(f), "__call__", None)  # noqa: B004  (a callable object's method)
        if isinstance(call, types.FunctionType):
            yield from _values(lambda: f, seen)
            yield from _function(call, seen)


def _item(container: Any, key: Any) -> Any:
    return container[key]


def _attribute(owner: object, name: str) -> Probe:
    try:
        return _Attribute(owner, name)
    except TypeError:  # not weakly referable
        return functools.partial(getattr, owner, name)


class _Attribute:
    """A probe of ``getattr(owner, name)`` that does not keep ``owner`` alive."""

    __slots__ = ("name", "owner")

    def __init__(self, owner: object, name: str) -> None:
        self.owner = weakref.ref(owner)
        self.name = name

    def __call__(self) -> Any:
        return getattr(self.owner(), self.name)


def _function(f: types.FunctionType, seen: set[int]) -> Iterator[Probe]:
    for cell in f.__closure__ or ():
        yield from _values(functools.partial(getattr, cell, "cell_contents"), seen)
    yield from _values(_Attribute(f, "__defaults__"), seen)
    yield from _values(_Attribute(f, "__kwdefaults__"), seen)
    names = _names(f.__code__)
    for name in sorted(names):
        if name in f.__globals__:
            value = f.__globals__[name]
            if isinstance(value, types.ModuleType):
                if not _library(value):
                    for attr in sorted(names & set(vars(value))):
                        yield from _values(_Attribute(value, attr), seen)
                continue
            yield from _values(functools.partial(_item, f.__globals__, name), seen)


@functools.cache
def _names(code: types.CodeType) -> frozenset[str]:
    """The global and attribute names a code object (and the code nested in it) uses."""
    out = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            out |= _names(c)
    return frozenset(out)


def _values(probe: Probe, seen: set[int], depth: int = 0) -> Iterator[Probe]:
    """``probe`` itself, and what is reached through the value it reads."""
    try:
        value = probe()
    except (AttributeError, ValueError):  # an empty cell
        return
    if isinstance(value, type | types.ModuleType) or (callable(value) and _library(value)):
        return
    yield probe
    if isinstance(value, (*SCALARS, np.ndarray)) or id(value) in seen or depth > 1:
        return
    if callable(value):
        yield from _walk(value, seen)
        return
    seen.add(id(value))
    if isinstance(value, list | tuple):
        for i in range(min(len(value), MAX_ITEMS)):
            yield from _values(functools.partial(_item, value, i), seen, depth + 1)
    elif isinstance(value, dict):
        for k in list(value)[:MAX_ITEMS]:
            yield from _values(functools.partial(_item, value, k), seen, depth + 1)
    elif depth == 0 and hasattr(value, "__dict__") and not _library(type(value)):
        for k in list(vars(value))[:MAX_ITEMS]:
            yield from _values(_attribute(value, k), seen, depth + 1)
