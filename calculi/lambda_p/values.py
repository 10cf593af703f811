"""Run-time values, on which the δ-rules are defined, and their reading back as λp terms.

Integers and strings are Python ``int``/``str``; constructors, arrays and ``perform op`` are small
slotted classes; a λ of the fast evaluator is a closure, the pair (compiled λ, values of its free
variables), a plain ``tuple`` because closures are made and called at every step (no other value
is a plain tuple); a λ seen by the small-step machine is a ``TermFn`` (the term itself). Every
other value is a function the fast evaluator made (a resumption k, a body continuation ℓᵢ), which
has no term form.
"""

from __future__ import annotations

from typing import Any, Protocol

from calculi.lambda_p.subst import canonical, substitute
from calculi.lambda_p.syntax import Arr, Con, Lam, Lit, Perform, Term


class NotTransferable(Exception):
    """A value with no term form (a continuation): it cannot be printed as a term, nor leave a
    worker process."""


class VCon:
    __slots__ = ("args", "tag")

    def __init__(self, tag: str, args: tuple[Any, ...] = ()) -> None:
        self.tag = tag
        self.args = args


class VArr:
    __slots__ = ("items",)

    def __init__(self, items: tuple[Any, ...]) -> None:
        self.items = items


class VPerform:
    __slots__ = ("op",)

    def __init__(self, op: str) -> None:
        self.op = op


class LamCode(Protocol):
    """What a closure needs of its compiled λ to be read back: the λ and the names it captured."""

    @property
    def term(self) -> Lam: ...

    @property
    def free(self) -> tuple[int, ...]: ...


Closure = tuple  # type: ignore[type-arg]  # (lam, env): env[j] is the value of the foil name lam.free[j]


class TermFn:
    """A function value of the small-step machine (a λ, or a global bound to one), as a δ-rule
    argument: it can be described, compared (unequal to data), stored and given back."""

    __slots__ = ("term",)

    def __init__(self, term: Term) -> None:
        self.term = term


TRUE_V, FALSE_V, UNIT_V = VCon("True"), VCon("False"), VCon("Tuple")
NULLARY = {"True": TRUE_V, "False": FALSE_V, "Tuple": UNIT_V}


def vbool(b: bool) -> VCon:
    return TRUE_V if b else FALSE_V


def describe(v: Any) -> str:
    """What a value is, for messages (the same words for both interpreters)."""
    if type(v) is int:
        return "an integer"
    if type(v) is str:
        return "a string"
    if isinstance(v, VArr):
        return f"an array of length {len(v.items)}"
    if isinstance(v, VCon):
        if v.tag in ("True", "False"):
            return "a boolean"
        return "a tuple" if v.tag == "Tuple" else f"{v.tag} …"
    if isinstance(v, VPerform):
        return f"perform {v.op}"
    return "a function"


def is_data(v: Any) -> bool:
    """Integers, strings, and constructors and arrays of data (what == compares and show prints)."""
    stack = [v]
    while stack:
        x = stack.pop()
        if type(x) is VCon:
            stack.extend(x.args)
        elif type(x) is VArr:
            stack.extend(x.items)
        elif type(x) is not int and type(x) is not str:
            return False
    return True


_SLOTS: dict[str, Any] = {name: slot for klass in reversed(Lit.__mro__) for name, slot in vars(klass).items()}
_SET_VALUE, _SET_SPAN = _SLOTS["value"].__set__, _SLOTS["span"].__set__


def _literal(v: int | str) -> Lit:
    """``Lit(v)`` without the frozen dataclass's checked ``__init__`` (half the time: results
    are read back one literal at a time, and arrays can hold millions)."""
    lit: Lit = object.__new__(Lit)
    _SET_VALUE(lit, v)
    _SET_SPAN(lit, None)
    return lit


def to_term(v: Any) -> Term:
    """Read a value back as a closed λp term (``NotTransferable`` for a continuation). Data is
    read with an explicit stack, so that a value nested 10^5 deep reads back like a flat one."""
    done: dict[int, Term] = {}  # id of a constructor or array value → its term, once built
    stack = [v]
    while stack:
        x = stack[-1]
        if id(x) in done:
            stack.pop()
            continue
        parts = x.args if type(x) is VCon else x.items if type(x) is VArr else None
        if parts is None:
            done[id(x)] = _leaf(x)
            stack.pop()
            continue
        missing = [p for p in parts if id(p) not in done and (type(p) is VCon or type(p) is VArr)]
        if missing:
            stack.extend(missing)
            continue
        terms = tuple([done[id(p)] if id(p) in done else _leaf(p) for p in parts])
        done[id(x)] = Con(x.tag, terms) if type(x) is VCon else Arr(terms)
        stack.pop()
    return done[id(v)]


def _leaf(v: Any) -> Term:
    """A value that holds no data values: literals, perform op, functions."""
    if type(v) is int or type(v) is str:
        return _literal(v)
    if type(v) is VPerform:
        return Perform(v.op)
    if type(v) is TermFn:
        return v.term
    if type(v) is Closure:
        lam, captured = v
        env = {name: to_term(value) for name, value in zip(lam.free, captured, strict=True)}
        return canonical(substitute(lam.term, env))
    raise NotTransferable("a continuation has no term form")
