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


# -- programs written the way users write them -----------------------------------------------------
#
# Files of definitions and expressions: user definitions named like prelude ones (each changing
# what the prelude's would do, so that a leak in either direction changes a value), helpers that
# call prelude handlers, names defined again (REPL style), handlers of one operation nested
# inside each other, and long runs of effects through tail and non-tail recursion.

SHADOWS = {
    "fst": "def fst p = case p of {(a, b) -> b}",
    "snd": "def snd p = case p of {(a, b) -> a}",
    "replicate": "def replicate n x = map (\\_. x) (iota (n + 1))",
    "map": "def map f xs = fold (\\acc x. <f x> ++ acc) <> xs",
    "iota": "def iota n = iotaFrom 1 (n + 1) <>",
    "unzip": "def unzip ps = (map snd ps, map fst ps)",
    "concatenate": "def concatenate xss = fold (\\a b. b ++ a) <> xss",
    "splitKey": 'def splitKey key m = map (\\i. key ++ "-" ++ show i) (iota m)',
    "ask": "def ask x = perform ask x + 1",
    "accum": "def accum x = perform accum (x + 1)",
    "throw": 'def throw e = perform throw (e ++ "!")',
}
"""Definitions that shadow prelude names with other meanings of the same shape."""

USES = {
    "fst": "fst ({a}, {b})",
    "snd": "snd ({a}, {b})",
    "replicate": "length (replicate {a} 0)",
    "map": "fold (+) 0 (map (\\x. x * {b}) (iota {a}))",
    "iota": "fold (+) 0 (iota {a})",
    "unzip": "(case unzip <({a}, {b})> of {{(xs, ys) -> xs.0 - ys.0}})",
    "concatenate": "(concatenate <<{a}>, <{b}>>).0",
    "splitKey": "length ((splitKey \"k\" ({a} + 1)).0)",
}
"""Integer-valued uses of (possibly shadowed) prelude helpers, with holes for two integers."""

CURRIED = [
    "(\\a b. a * b) {a} (<1, 2, 3>.{b})",
    "(\\a. (if a == 0 then perform early a else 0); \\b. a + b) 0 (<1, 2, 3>.{b})",
]
"""Curried calls whose later argument may fail (an index up to 3 into three items), after a
partial application that may perform an operation nobody handles (so that the order shows)."""

INNER = {
    "accum": "(case runAccum (+) 0 (\\_. {}) of {{(v, s) -> v + s}})",
    "log": '(case runAccum (++) "" (\\_. {}) of {{(v, s) -> v + length s}})',
    "reader": "runReader 5 (\\_. {})",
    "reader2": "runReader 11 (\\_. {})",
    "except": "(case runWeakExcept (\\_. {}) of {{Left e -> length e | Right v -> v}})",
    "amb": "fold (+) 0 (runAmb (\\_. {}))",
    "random": 'runRandom "s" (\\_. {})',
}
"""The handler of an effect around an integer computation, again integer-valued (nested inside a
handler of the same operation, it takes the operations first)."""

WRAPPERS = {"accum": "accum {}", "log": 'accum "{}"', "reader": "ask ()", "reader2": "ask ()",
            "except": 'throw "e{}"', "amb": "amb <{}, 7>"}
"""Operations performed through the prelude's wrappers (which a user definition may shadow)."""


@st.composite
def user_computations(draw: st.DrawFn, ops: tuple[str, ...], scope: tuple[str, ...], depth: int) -> str:
    """``computations`` plus what users write: prelude helpers (maybe shadowed), operations through
    the wrappers, a handler of an operation nested inside another of it, calls of the file's own
    recursive definitions."""
    small = st.integers(0, 3).map(str)
    kinds = ["base", "base", "use", "wrapper", "nest", "recurse", "curried", "wide"]
    kinds = kinds if depth > 0 else ["base"]
    kind = draw(st.sampled_from(kinds))
    if kind == "wide":  # more names in scope than the compiled code keeps when a body needs few
        names = [f"w{k}" for k in range(draw(st.integers(9, 12)))]
        binds = "".join(f"{w} <- {k}; " for k, w in enumerate(names))
        sub = draw(user_computations(ops, (*scope, *names), depth - 1))
        return f"({binds}({sub}) + (y <- {names[3]}; y * 2) + {' + '.join(names)})"
    if kind == "curried":
        call = draw(st.sampled_from(CURRIED))
        return "(" + call.format(a=draw(st.integers(0, 3)), b=draw(st.sampled_from([3, 2]))) + ")"
    if kind == "use":
        use = USES[draw(st.sampled_from(sorted(USES)))]
        return "(" + use.format(a=draw(small), b=draw(small)) + ")"
    usable = [e for e in ops if e in WRAPPERS]
    if kind == "wrapper" and usable:
        effect = draw(st.sampled_from(usable))
        performed = WRAPPERS[effect].format(draw(small))
        if effect in ("accum", "log"):
            return f"({performed}; {draw(user_computations(ops, scope, depth - 1))})"
        if effect == "except":
            guard = draw(st.sampled_from(scope)) if scope else "1"
            rest = draw(user_computations(ops, scope, depth - 1))
            return f"(if {guard} == 2 then {performed} else {rest})"
        return f"({performed})"
    if kind == "nest" and ops:
        effect = draw(st.sampled_from([e for e in ops if e in INNER] or ["reader"]))
        return INNER[effect].format(draw(user_computations(ops, scope, depth - 1)))
    if kind == "recurse":
        name = draw(st.sampled_from(["countdown", "depth"]))
        return f"({name} {draw(st.integers(0, 12))})"
    return draw(computations(ops, scope, min(depth, 2)))


RECURSIVE = {
    "countdown": "def countdown n = if n == 0 then 0 else (accum 1; countdown (n - 1))",
    "depth": "def depth n = if n == 0 then 0 else (accum n; 1 + depth (n - 1))",
}
"""The file's own recursive definitions: one tail-recursive, one not, each performing an
operation per level (under whatever handler of accum is around the call)."""


@st.composite
def user_files(draw: st.DrawFn) -> list[str]:
    """The items of a λp file (REPL inputs, in order): shadowing definitions, a name defined twice,
    recursive definitions, definitions whose bodies are not values (evaluated in their turn), and
    an integer expression under a stack of prelude handlers that always handles accum (so the
    recursive definitions are well-formed)."""
    shadows = draw(st.lists(st.sampled_from(sorted(SHADOWS)), unique=True, max_size=4))
    items = [SHADOWS[name] for name in shadows]
    items += [RECURSIVE["countdown"], RECURSIVE["depth"]]
    a, b = draw(st.integers(0, 5)), draw(st.integers(0, 5))
    items += [f"def twice x = x * {a}", "def useTwice y = twice y + 1", f"def twice x = x + {b}"]
    items += [f"def base = fold (+) 0 (iota {draw(st.integers(0, 4))})", "def offset = base * 2 + twice 1"]
    effects = draw(effect_stacks())
    if "accum" not in effects and "log" not in effects:
        effects = ("accum", *effects)
    elif "log" in effects:
        effects = tuple(e for e in effects if e != "log") + (("accum",) if "accum" not in effects else ())
    body = draw(user_computations(operations(effects), (), 3))
    items.append(wrap(effects, f"(useTwice 1 + twice 1 + offset + {body})"))
    return items
