"""Value terms of the small-step machine as run-time values, for the δ-rules and for messages.

The machine works on terms; the δ-rules (``delta``) and ``describe`` work on run-time values. A
global is resolved to its definition first; a λ becomes a ``TermFn`` that converts back to itself.
Conversions of the same array node are cached (arrays are shared between steps, and the prelude's
loops ask for ``length xs`` at every iteration).
"""

from __future__ import annotations

from typing import Any

from calculi.core.syntax import Span
from calculi.lambda_p.stuck import self_reference, undefined
from calculi.lambda_p.syntax import Arr, Con, Global, Lit, Perform, Term
from calculi.lambda_p.values import NULLARY, TermFn, VArr, VCon, VPerform, describe

_CACHE: dict[int, tuple[Term, Any]] = {}
_CACHE_LIMIT = 100_000


def resolve(v: Term, span: Span | None = None) -> Term:
    """A global's definition (followed through aliases); other values as they are."""
    seen: set[int] = set()
    while isinstance(v, Global):
        if v.key in seen:
            raise self_reference(v.name, span or v.span)
        seen.add(v.key)
        d = v.definition()
        if d is None:
            raise undefined(v.name, v.table.sites.get(v.key), span or v.span)
        v = d
    return v


def as_value(t: Term, span: Span | None = None) -> Any:
    """The run-time value a closed value term denotes."""
    t = resolve(t, span)
    if isinstance(t, Lit):
        return t.value
    if isinstance(t, Perform):
        return VPerform(t.op)
    if not isinstance(t, Arr | Con):
        return TermFn(t)
    hit = _CACHE.get(id(t))
    if hit is not None and hit[0] is t:
        return hit[1]
    if isinstance(t, Arr):
        v: Any = VArr(tuple(as_value(i, span) for i in t.items))
    else:
        v = NULLARY.get(t.tag) if not t.args else None
        v = v or VCon(t.tag, tuple(as_value(a, span) for a in t.args))
    if len(_CACHE) > _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[id(t)] = (t, v)
    return v


def describe_term(t: Term, span: Span | None = None) -> str:
    return describe(as_value(t, span))
