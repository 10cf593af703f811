"""Hypothesis strategies: well-formed λp programs with handlers, operations and loops.

Programs are built from a grammar of computations that is well-formed by construction: every
operation performed is handled by one of the handlers wrapped around it (unless an unhandled
operation is asked for), loop bounds are literals, and every computation returns an integer where
an integer is needed. They are shaped like what users write: most have a stack of handlers (the
prelude's, a state handler, handlers written inline), perform operations, often long runs of
them, and nest handlers inside computations and inside loops; local names shadow prelude names
and outer names. They are produced as surface text and parsed, so they are core terms in
canonical form and print back (``show``) in the surface syntax. Files of definitions are in
``strategies_files``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st

from calculi.core.syntax import Source
from calculi.lambda_p.parse import parse_term
from calculi.lambda_p.pretty import show
from calculi.lambda_p.program import prelude
from calculi.lambda_p.syntax import Term


@dataclass(frozen=True, slots=True)
class Effect:
    """A handler (as applied to a thunk), the operations it handles, and ``around``: the handler
    (with another parameter) around an integer computation, as an integer computation."""

    name: str
    handler: str
    op: str
    around: Callable[[str], str]
    ops: tuple[str, ...] = ()

    def handles(self) -> tuple[str, ...]:
        return self.ops or (self.op,)


def _pair(handler: str) -> Callable[[str], str]:
    """``handler`` returns (value, parameter): their sum."""
    return lambda body: f"(case {handler} (\\_. {body}) of {{(v, s) -> v + s}})"


TICK = "handler {return -> \\s x. x, tick -> \\s x k. k (s + x) s}"
"""A handler written inline: ``tick x`` returns the parameter and adds x to it (identity return,
the default traverse: each iteration of a loop starts from the parameter before the loop)."""

BUMP = ("handler {return -> \\s x. (x, s), bump -> \\s x k. k (s + x) (), traverse -> \\n s l k. "
        "ps <- runIterations n l (replicate n 0); k (s + fold (+) 0 (map snd ps)) (map fst ps)}")
"""A parallel accumulator written inline, with its own traverse clause (either variant's ℓ)."""

EFFECTS = {
    "accum": Effect("accum", "runAccum (+) 0", "accum", _pair("runAccum (+) 0")),
    "log": Effect("log", 'runAccum (++) ""', "accum",
                  lambda body: f'(case runAccum (++) "" (\\_. {body}) of {{(v, s) -> v + length s}})'),
    "reader": Effect("reader", "runReader 7", "ask", lambda body: f"runReader 5 (\\_. {body})"),
    "reader2": Effect("reader2", "runReader 3", "ask", lambda body: f"runReader 11 (\\_. {body})"),
    "except": Effect("except", "runWeakExcept", "throw", lambda body: (
        f"(case runWeakExcept (\\_. {body}) of {{Left e -> length e | Right v -> v}})")),
    "amb": Effect("amb", "runAmb", "amb", lambda body: f"fold (+) 0 (runAmb (\\_. {body}))"),
    "random": Effect("random", 'runRandom "r"', "sampleUniform", lambda body: f'runRandom "s" (\\_. {body})'),
    "state": Effect("state", "runState 1", "get", _pair("runState 2"), ("get", "set")),
    "tick": Effect("tick", f"{TICK} 10", "tick", lambda body: f"{TICK} 20 (\\_. {body})"),
    "bump": Effect("bump", f"{BUMP} 0", "bump", _pair(f"{BUMP} 3")),
}
UNHANDLED = "oops"
SHADOWABLE = ("iota", "unzip", "concatenate", "splitKey", "reduce", "cartesianProd", "firstFailure",
              "generate", "iterate", "genUniform", "accum", "ask", "throw", "amb", "get", "set", "update")
"""Prelude names a local binder may take (the generated text itself never calls them)."""
RUNS = (2, 3, 4, 8, 16)
"""Lengths of runs of operations one after another."""


def _perform(effect: str, rest: str, draw: st.DrawFn, scope: tuple[str, ...]) -> str:
    """A computation that performs the operation of ``effect`` and returns an integer."""
    op = EFFECTS[effect].op if effect in EFFECTS else effect
    k = draw(st.integers(0, 5))
    if effect == "accum":
        return f"(perform accum {k}; {rest})"
    if effect == "log":
        return f'(perform accum "{draw(st.sampled_from(["a", "b", "c"]))}"; {rest})'
    if op == "ask":
        return "(perform ask ())"
    if op == "throw":
        guard = draw(st.sampled_from(scope)) if scope else "1"
        return f'(if {guard} == 1 then perform throw "e{len(scope)}" else {rest})'
    if op == "amb":
        return f"(perform amb <{draw(st.integers(0, 3))}, {draw(st.integers(4, 6))}>)"
    if op == "sampleUniform":
        return "(length (perform sampleUniform ()))"
    if effect == "state":
        s = f"s{len(scope)}"
        return draw(st.sampled_from(["(perform get ())", f"(perform set {k}; {rest})",
                                     f"({s} <- perform get (); perform set ({s} + {k}); {rest})"]))
    if op == "bump":
        return f"(perform bump {k}; {rest})"
    return f"(perform {op} {len(scope) if op == UNHANDLED else k})"


def _quiet(effect: str, draw: st.DrawFn) -> str | None:
    """One operation of ``effect`` as a statement of a run (None for those that end or fork it)."""
    k = draw(st.integers(0, 5))
    return {"accum": f"perform accum {k}", "log": f'perform accum "{"abc"[k % 3]}"',
            "reader": "perform ask ()", "reader2": "perform ask ()", "amb": f"perform amb <{k}>",
            "random": "perform sampleUniform ()", "state": f"perform set {k}" if k % 2 else "perform get ()",
            "tick": f"perform tick {k}", "bump": f"perform bump {k}"}.get(effect)


def nestable(ops: tuple[str, ...]) -> list[str]:
    """The effects of ``ops`` whose handler may go around a sub-computation: none shares an
    operation with another effect of ``ops`` (a string accumulator would catch integer ones)."""
    handled = [op for e in ops if e in EFFECTS for op in EFFECTS[e].handles()]
    return [e for e in ops if e in EFFECTS and all(handled.count(op) == 1 for op in EFFECTS[e].handles())]


LOOPING = ("amb",)
"""Effects whose handler's operation clause runs a loop (runAmb's ``for`` over the options)."""


@st.composite
def computations(draw: st.DrawFn, ops: tuple[str, ...], scope: tuple[str, ...] = (), depth: int = 3,
                 loops: bool = True) -> str:
    """An integer-valued computation performing the operations of the effects ``ops`` (names of
    ``EFFECTS``, or other names for operations nobody handles); ``scope`` holds integer variables.

    ``loops=False``: no loop, and no handler that runs one, for the computation is under runState,
    whose default traverse hands a loop's iterations back as (value, state) pairs."""
    leaves = [st.integers(0, 9).map(str)] + ([st.sampled_from(scope)] if scope else [])
    if depth <= 0:
        return draw(st.one_of(leaves))
    inner = [e for e in nestable(ops) if loops or e not in LOOPING]
    # Hypothesis draws the first choices most often: operations first, then handlers, loops
    kinds = ["op", "run", "op", "op"] if ops else []
    if inner:
        kinds += ["loop handler", "nest", "loop handler"] if loops else ["nest", "nest"]
    kinds += ["bind", "add", "if", "shadow", "leaf"] + (["loop"] if loops else [])
    kind = draw(st.sampled_from(kinds))
    sub = computations(ops, scope, depth - 1, loops)
    if kind == "leaf":
        return draw(st.one_of(leaves))
    if kind == "add":
        return f"({draw(sub)} + {draw(sub)})"
    if kind in ("bind", "shadow"):
        fresh = f"x{len(scope)}"
        names = [fresh] if kind == "bind" else [*SHADOWABLE, *scope]
        x = draw(st.sampled_from(names))
        return f"({x} <- ({draw(sub)}); {draw(computations(ops, (*scope, x), depth - 1, loops))})"
    if kind == "if":
        return f"(if {draw(sub)} == {draw(st.integers(0, 3))} then {draw(sub)} else {draw(sub)})"
    if kind in ("loop", "loop handler"):
        i = f"i{len(scope)}"
        n = draw(st.integers(0, 3))
        effect = draw(st.sampled_from(inner)) if kind == "loop handler" else None
        body = draw(computations(ops, (*scope, i), depth - 1, effect != "state"))
        if effect is not None:
            body = EFFECTS[effect].around(body)
        return f"(fold (+) 0 (for {i}:{n}. {body}))"
    if kind == "nest":
        effect = draw(st.sampled_from(inner))
        return EFFECTS[effect].around(draw(computations(ops, scope, depth - 1, loops and effect != "state")))
    if kind == "run":
        length = draw(st.sampled_from(RUNS))
        steps = [_quiet(draw(st.sampled_from(ops)), draw) for _ in range(length)]
        return "(" + "".join(f"{s}; " for s in steps if s is not None) + f"{draw(sub)})"
    return _perform(draw(st.sampled_from(ops)), draw(sub), draw, scope)


def effect_stacks(pool: tuple[str, ...] = tuple(sorted(EFFECTS))) -> st.SearchStrategy[tuple[str, ...]]:
    """One to three distinct effects (outermost first), now and then none; never both integer and
    string accumulators, nor runAmb with runState (whose default traverse would see its loops)."""
    some = st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True)
    return st.sampled_from([some] * 9 + [st.just([])]).flatmap(lambda names: names).map(
        lambda names: tuple(n for n in names if (n != "log" or "accum" not in names)
                            and (n not in LOOPING or "state" not in names))
    )


def operations(effects: tuple[str, ...], unhandled: bool = False) -> tuple[str, ...]:
    ops = tuple(e for e in effects if e != "reader2" or "reader" not in effects)
    return (*ops, UNHANDLED) if unhandled else ops


def wrap(effects: tuple[str, ...], text: str, handlers: dict[str, str] | None = None) -> str:
    """The handlers of ``effects`` around a computation, the first outermost (``handlers``: other
    texts for some of them)."""
    for name in reversed(effects):
        handler = (handlers or {}).get(name, EFFECTS[name].handler)
        text = f"{handler} (\\_. {text})"
    return text


@st.composite
def program_texts(
    draw: st.DrawFn,
    effects: tuple[str, ...] | None = None,
    unhandled: bool = False,
    depth: int = 3,
    pool: tuple[str, ...] = tuple(sorted(EFFECTS)),
) -> str:
    """``H1 (\\_. H2 (\\_. … body))``: a stack of handlers around a computation."""
    if effects is None:
        effects = draw(effect_stacks(pool))
    ops = operations(effects, unhandled)
    body = draw(computations(ops, (), depth, "state" not in effects))
    return wrap(effects, draw(performing(ops, body)))


@st.composite
def performing(draw: st.DrawFn, ops: tuple[str, ...], body: str) -> str:
    """``body``, most of the time after one or more operations of ``ops`` (so that most programs
    perform at least one, and some a long run of them)."""
    if not ops or not draw(st.sampled_from([True, True, True, True, False])):
        return body
    length = draw(st.sampled_from((1, 1, 2, *RUNS)))
    steps = [_quiet(draw(st.sampled_from(ops)), draw) for _ in range(length)]
    if all(step is None for step in steps):
        return _perform(draw(st.sampled_from(ops)), body, draw, ())
    return "(" + "".join(f"{step}; " for step in steps if step is not None) + f"{body})"


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
