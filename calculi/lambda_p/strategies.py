"""Hypothesis strategies: well-formed λp programs with handlers, operations and loops.

Programs are built from a grammar of computations that is well-formed by construction: every
operation performed is handled by one of the prelude handlers wrapped around it (unless an
unhandled operation is asked for), loops bounds are literals, and every computation returns an
integer where an integer is needed. They are produced as surface text and parsed, so they are
core terms in canonical form and print back (``show``) in the surface syntax.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from calculi.core.syntax import Source
from calculi.lambda_p.parse import parse_term
from calculi.lambda_p.pretty import show
from calculi.lambda_p.program import prelude
from calculi.lambda_p.syntax import Term


@dataclass(frozen=True, slots=True)
class Effect:
    """A prelude handler (as applied to a thunk) and the operation it handles."""

    name: str
    handler: str
    op: str


EFFECTS = {
    "accum": Effect("accum", "runAccum (+) 0", "accum"),
    "log": Effect("log", 'runAccum (++) ""', "accum"),
    "reader": Effect("reader", "runReader 7", "ask"),
    "reader2": Effect("reader2", "runReader 3", "ask"),
    "except": Effect("except", "runWeakExcept", "throw"),
    "amb": Effect("amb", "runAmb", "amb"),
    "random": Effect("random", 'runRandom "r"', "sampleUniform"),
}
UNHANDLED = "oops"


def _perform(effect: str, rest: str, draw: st.DrawFn, scope: tuple[str, ...]) -> str:
    """A computation that performs the operation of ``effect`` and returns an integer."""
    op = EFFECTS[effect].op if effect in EFFECTS else effect
    if effect == "accum":
        return f"(perform accum {draw(st.integers(0, 5))}; {rest})"
    if effect == "log":
        word = draw(st.sampled_from(["a", "b", "c"]))
        return f'(perform accum "{word}"; {rest})'
    if op == "ask":
        return "(perform ask ())"
    if op == "throw":
        guard = draw(st.sampled_from(scope)) if scope else "1"
        return f'(if {guard} == 1 then perform throw "e{len(scope)}" else {rest})'
    if op == "amb":
        return f"(perform amb <{draw(st.integers(0, 3))}, {draw(st.integers(4, 6))}>)"
    if op == "sampleUniform":
        return "(length (perform sampleUniform ()))"
    return f"(perform {op} {len(scope)})"


@st.composite
def computations(draw: st.DrawFn, ops: tuple[str, ...], scope: tuple[str, ...] = (), depth: int = 3) -> str:
    """An integer-valued computation performing the operations of the effects ``ops`` (names of
    ``EFFECTS``, or other names for operations nobody handles); ``scope`` holds integer variables."""
    leaves = [st.integers(0, 9).map(str)] + ([st.sampled_from(scope)] if scope else [])
    if depth <= 0:
        return draw(st.one_of(leaves))
    kind = draw(
        st.sampled_from(
            ["leaf", "add", "bind", "if", "loop", "op", "op"]
            if ops
            else ["leaf", "add", "bind", "if", "loop"]
        )
    )
    sub = computations(ops, scope, depth - 1)
    if kind == "leaf":
        return draw(st.one_of(leaves))
    if kind == "add":
        return f"({draw(sub)} + {draw(sub)})"
    if kind == "bind":
        x = f"x{len(scope)}"
        return f"({x} <- ({draw(sub)}); {draw(computations(ops, (*scope, x), depth - 1))})"
    if kind == "if":
        return f"(if {draw(sub)} == {draw(st.integers(0, 3))} then {draw(sub)} else {draw(sub)})"
    if kind == "loop":
        i = f"i{len(scope)}"
        n = draw(st.integers(0, 3))
        body = draw(computations(ops, (*scope, i), depth - 1))
        return f"(fold (+) 0 (for {i}:{n}. {body}))"
    return _perform(draw(st.sampled_from(ops)), draw(sub), draw, scope)


def effect_stacks(pool: tuple[str, ...] = tuple(sorted(EFFECTS))) -> st.SearchStrategy[tuple[str, ...]]:
    """Up to three distinct effects (outermost first); never both integer and string accumulators."""
    return st.lists(st.sampled_from(pool), max_size=3, unique=True).map(
        lambda names: tuple(n for n in names if n != "log" or "accum" not in names)
    )


def operations(effects: tuple[str, ...], unhandled: bool = False) -> tuple[str, ...]:
    ops = tuple(e for e in effects if e != "reader2" or "reader" not in effects)
    return (*ops, UNHANDLED) if unhandled else ops


def wrap(effects: tuple[str, ...], text: str) -> str:
    """The handlers of ``effects`` around a computation, the first outermost."""
    for name in reversed(effects):
        text = f"{EFFECTS[name].handler} (\\_. {text})"
    return text


@st.composite
def program_texts(
    draw: st.DrawFn,
    effects: tuple[str, ...] | None = None,
    unhandled: bool = False,
    depth: int = 3,
    pool: tuple[str, ...] = tuple(sorted(EFFECTS)),
) -> str:
    """``H1 (\\_. H2 (\\_. … body))``: a stack of prelude handlers around a computation."""
    if effects is None:
        effects = draw(effect_stacks(pool))
    return wrap(effects, draw(computations(operations(effects, unhandled), (), depth)))


def parse_program(text: str, variant: str = "icfp24") -> Term:
    return parse_term(Source(text, "<generated>"), prelude(variant), variant)


def programs(
    effects: tuple[str, ...] | None = None, unhandled: bool = False, depth: int = 3, variant: str = "icfp24"
) -> st.SearchStrategy[Term]:
    """Closed, well-formed programs (core terms) over the prelude of ``variant``."""
    return program_texts(effects, unhandled, depth).map(lambda text: parse_program(text, variant))


def data_texts() -> st.SearchStrategy[str]:
    """First-order values: integers, strings, booleans, tuples, arrays, Left/Right."""
    scalars = st.one_of(
        st.integers(-20, 20).map(lambda i: f"({i})" if i < 0 else str(i)),
        st.text(st.sampled_from('ab c"\\'), max_size=4).map(
            lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
        ),
        st.sampled_from(["True", "False", "()"]),
    )

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.lists(inner, max_size=3).map(lambda xs: "<" + ", ".join(xs) + ">"),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: "(" + ", ".join(xs) + ")"),
            st.tuples(st.sampled_from(["Left", "Right"]), inner).map(lambda p: f"{p[0]} ({p[1]})"),
        )

    return st.recursive(scalars, extend, max_leaves=6)


def values() -> st.SearchStrategy[Term]:
    return data_texts().map(lambda text: parse_term(Source(text, "<generated>")))


def show_term(value: object) -> str:
    """Counterexample printer: terms in the surface syntax, anything else as it is."""
    if isinstance(value, str):
        return value
    try:
        return show(value)  # type: ignore[arg-type]
    except Exception:
        return repr(value)
