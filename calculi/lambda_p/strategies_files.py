"""Hypothesis strategies: λp files written the way users write them.

A file's items (REPL inputs, in order): definitions named like prelude ones (each changing what the
prelude's would do, so that a leak in either direction changes a value; among them the helpers
the prelude's own handlers call), handlers defined by the user, names defined twice, recursive
definitions performing an operation per level (tail and non-tail, now and then hundreds deep),
definitions whose bodies are not values, and an expression under a stack of handlers whose body
nests handlers, loops and long runs of operations (``strategies.computations``).
"""

from __future__ import annotations

from hypothesis import strategies as st

from calculi.lambda_p.strategies import BUMP, TICK, computations, effect_stacks, operations, performing, wrap

SHADOWS = {
    "fst": "def fst p = case p of {(a, b) -> b}",
    "snd": "def snd p = case p of {(a, b) -> a}",
    "replicate": "def replicate n x = map (\\_. x) (iota (n + 1))",
    "map": "def map f xs = fold (\\acc x. <f x> ++ acc) <> xs",
    "iota": "def iota n = generate (\\i. i + 1) n",
    "generate": "def generate f n = generateFrom f 1 (n + 1)",
    "fold": "def fold f z xs = iterate (\\acc x. f x acc) z xs 0",
    "runIterations": "def runIterations n l ss = for i:n. (l.(n - 1 - i)) ss.i",
    "unzip": "def unzip ps = (map snd ps, map fst ps)",
    "concatenate": "def concatenate xss = fold (\\a b. b ++ a) <> xss",
    "splitKey": 'def splitKey key m = map (\\i. key ++ "-" ++ show i) (iota m)',
    "ask": "def ask x = perform ask x + 1",
    "accum": "def accum x = perform accum (x + 1)",
    "throw": 'def throw e = perform throw (e ++ "!")',
    "runReader": "def runReader v body = handle {return -> \\s x. x, ask -> \\s _ k. k (s + 1) s} v "
                 "(body ())",
}
"""Definitions that shadow prelude names with other meanings of the same shape (``map``,
``replicate``, ``fold``, ``generate``, ``unzip`` and ``runIterations`` are what the prelude's own
handlers call)."""

USES = {
    "fst": "fst ({a}, {b})",
    "snd": "snd ({a}, {b})",
    "replicate": "length (replicate {a} 0)",
    "map": "fold (+) 0 (map (\\x. x * {b}) (iota {a}))",
    "iota": "fold (+) 0 (iota {a})",
    "generate": "fold (+) 0 (generate (\\i. i * {b}) {a})",
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

WRAPPERS = {"accum": "accum {}", "log": 'accum "{}"', "reader": "ask ()", "reader2": "ask ()",
            "except": 'throw "e{}"', "amb": "amb <{}, 7>", "state": "get ()"}
"""Operations performed through the prelude's wrappers (which a user definition may shadow)."""

HANDLERS = {
    "tick": f"def runTick s body = {TICK} s body",
    "bump": f"def runBump s body = {BUMP} s body",
}
"""Handlers defined by the user, and used (``FILE_HANDLERS``) where the effect stack has them."""
FILE_HANDLERS = {"tick": "runTick 10", "bump": "runBump 0"}

RECURSIVE = {
    "countdown": "def countdown n = if n == 0 then 0 else (accum 1; countdown (n - 1))",
    "depth": "def depth n = if n == 0 then 0 else (accum n; 1 + depth (n - 1))",
}
"""The file's own recursive definitions: one tail-recursive, one not, each performing an
operation per level (under whatever handler of accum is around the call)."""
DEPTHS = (*range(13), 60, 200)


@st.composite
def user_computations(draw: st.DrawFn, ops: tuple[str, ...], scope: tuple[str, ...], depth: int,
                      loops: bool = True) -> str:
    """``computations`` plus what users write: prelude helpers (maybe shadowed), operations through
    the wrappers, calls of the file's own recursive definitions, many names in scope."""
    small = st.integers(0, 3).map(str)
    kinds = ["base", "base", "use", "wrapper", "recurse", "curried", "wide"] if depth > 0 else ["base"]
    kind = draw(st.sampled_from(kinds))
    if kind == "wide":  # more names in scope than the compiled code keeps when a body needs few
        names = [f"w{k}" for k in range(draw(st.integers(9, 12)))]
        binds = "".join(f"{w} <- {k}; " for k, w in enumerate(names))
        sub = draw(user_computations(ops, (*scope, *names), depth - 1, loops))
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
            return f"({performed}; {draw(user_computations(ops, scope, depth - 1, loops))})"
        if effect == "except":
            guard = draw(st.sampled_from(scope)) if scope else "1"
            rest = draw(user_computations(ops, scope, depth - 1, loops))
            return f"(if {guard} == 2 then {performed} else {rest})"
        return f"({performed})"
    if kind == "recurse":
        name = draw(st.sampled_from(["countdown", "depth"]))
        return f"({name} {draw(st.sampled_from(DEPTHS))})"
    return draw(computations(ops, scope, min(depth, 2), loops))


@st.composite
def user_files(draw: st.DrawFn) -> list[str]:
    """The items of a λp file (REPL inputs, in order): shadowing definitions, a name defined twice,
    the user's handlers, recursive definitions, definitions whose bodies are not values (evaluated
    in their turn), and an integer expression under a stack of handlers that always handles accum
    (so the recursive definitions are well-formed)."""
    shadows = draw(st.lists(st.sampled_from(sorted(SHADOWS)), unique=True, max_size=4))
    items = [SHADOWS[name] for name in shadows]
    items += [*HANDLERS.values(), RECURSIVE["countdown"], RECURSIVE["depth"]]
    a, b = draw(st.integers(0, 5)), draw(st.integers(0, 5))
    items += [f"def twice x = x * {a}", "def useTwice y = twice y + 1", f"def twice x = x + {b}"]
    items += [f"def base = fold (+) 0 (iota {draw(st.integers(0, 4))})", "def offset = base * 2 + twice 1"]
    effects = draw(effect_stacks())
    if "accum" not in effects and "log" not in effects:
        effects = ("accum", *effects)
    elif "log" in effects:
        effects = tuple(e for e in effects if e != "log") + (("accum",) if "accum" not in effects else ())
    ops = operations(effects)
    body = draw(performing(ops, draw(user_computations(ops, (), 3, "state" not in effects))))
    items.append(wrap(effects, f"(useTwice 1 + twice 1 + offset + {body})", FILE_HANDLERS))
    return items
