"""λp (Xie, Johnson, Maclaurin, Paszke): the properties of parallel algebraic effect handlers.

The papers prove no theorem about the untyped λp (PEPM'22 has none; ICFP'24's are about the
typed Fp), so most rows are derived properties (reference notes §7, P1–P14) checked on
generated well-formed programs; a few are the papers' own examples and counterexamples.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from hypothesis import strategies as st

from calculi.core.errors import FuelExhausted
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.lambda_p import eval as fast
from calculi.lambda_p.mutants import MUTANTS
from calculi.lambda_p.parse import parse_term
from calculi.lambda_p.pretty import show
from calculi.lambda_p.prims import Stuck
from calculi.lambda_p.program import prelude
from calculi.lambda_p.semantics import Machine, decompose, plug_all
from calculi.lambda_p.strategies import (
    EFFECTS,
    computations,
    data_texts,
    effect_stacks,
    operations,
    parse_program,
    program_texts,
    show_term,
    wrap,
)
from calculi.lambda_p.syntax import Term
from calculi.lambda_p.values import to_term
from proofs.registry import Paper, register_mutants, theorem

ICFP24 = Paper("ICFP'24", "Parallel Algebraic Effect Handlers", "PACMPL 8(ICFP), 2024")
PEPM22 = Paper("PEPM'22", "Parallel Algebraic Effect Handlers", "PEPM 2022 (arXiv 2110.07493)")
FUEL = 400_000


def outcome(
    term: Term,
    machine: str = "small-step",
    variant: str = "icfp24",
    order: Callable[[int], list[int]] | None = None,
    jobs: int = 1,
) -> str:
    """The value printed, or the stuck group (and message); running out of fuel is a failure."""
    try:
        if machine == "fast":
            return show(to_term(fast.evaluate(term, Fuel(FUEL), variant, jobs)))
        return show(Machine(variant, jobs, order).evaluate(term, Fuel(FUEL)))
    except Stuck as err:
        return f"stuck [{err.group}]: {err.reason}"
    except FuelExhausted as err:
        raise AssertionError(f"generated program ran out of fuel: {err.reason}") from None


def run(text: str, machine: str = "small-step", variant: str = "icfp24") -> str:
    return outcome(parse_program(text, variant), machine, variant)


def same(left: str, right: str, what: str) -> None:
    assert left == right, f"{what}:\n  {left}\n≠ {right}"


# -- the papers' examples and counterexamples ---------------------------------------------


@theorem(
    "lambda_p.perform.innermost_handler",
    paper=ICFP24,
    section="Fig. 1 (perform) op ∉ bop(E)",
    statement="an operation is handled by the innermost enclosing handler of it",
    given={
        "a": st.integers(0, 9),
        "b": st.integers(10, 19),
        "words": st.lists(st.sampled_from("xy"), max_size=3),
    },
    show=show_term,
)
def _innermost(a: int, b: int, words: list[str]) -> None:
    assert run(f"runReader {a} (\\_. (perform ask ()) + runReader {b} (\\_. perform ask ()))") == str(a + b)
    logs = "".join(f'accum "{w}"; ' for w in words)
    inner = f'runAccum (++) "" (\\_. {logs}0)'
    assert run(f'runAccum (++) "" (\\_. accum "o"; {inner})') == f'(({0}, "{"".join(words)}"), "o")'


@theorem(
    "lambda_p.unrolling.counterexamples",
    paper=ICFP24,
    section="§5.2, §5.3 / ref §7 P8",
    statement="the PRNG and weak exceptions under an accumulator are not equivalent to their unrolling",
)
def _counterexamples() -> None:
    rng_loop = run('runRandom "k" (\\_. for i:2. sampleUniform ())')
    rng_seq = run('runRandom "k" (\\_. u0 <- sampleUniform (); u1 <- sampleUniform (); <u0, u1>)')
    assert (rng_loop, rng_seq) == ('<"k_0_0", "k_1_0">', '<"k_0", "k_1_0">')
    bodies = [
        f'accum "{i}"' if i != 2 else '(accum "!"; throw "error"; accum "unreachable")' for i in range(5)
    ]
    loop, seq = _unrolled(bodies)
    wrap = 'runAccum (++) "" (\\_. runWeakExcept (\\_. accum "start "; {}; accum " end"))'
    assert run(wrap.format(loop)) == '(Left "error", "start 01!34")'
    assert run(wrap.format(seq)) == '(Left "error", "start 01!")'


@theorem(
    "lambda_p.handlers.order",
    paper=ICFP24,
    section="§5.2 / ref §7 P9",
    statement="swapping runAccum and runWeakExcept changes (Left e, log) into Left e",
)
def _handler_order() -> None:
    body = (
        'accum "start "; (for i:5. if i == 2 then (accum "!"; throw "error"; accum "unreachable") '
        'else accum (show i)); accum " end"'
    )
    assert run(f'runAccum (++) "" (\\_. runWeakExcept (\\_. {body}))') == '(Left "error", "start 01!34")'
    assert run(f'runWeakExcept (\\_. runAccum (++) "" (\\_. {body}))') == 'Left "error"'


@theorem(
    "lambda_p.algebraicity.for_not_through_handlers",
    paper=ICFP24,
    section="§4.2 / ref §7 P4",
    statement="the for-law fails through a handle frame with a non-trivial traverse clause",
)
def _for_handler() -> None:
    left = run("runAmb (\\_. runAmb (\\_. for i:2. amb <1, 2>))")
    right = run("runAmb (\\_. xs <- (for i:2. amb <1, 2>); runAmb (\\_. xs))")
    assert left == "<<<1, 1>, <1, 2>, <2, 1>, <2, 2>>>"
    assert right == "<<<1, 1>>, <<1, 2>>, <<2, 1>>, <<2, 2>>>"


# -- the two interpreters ------------------------------------------------------------------------


@theorem(
    "lambda_p.interpreters.agree",
    paper=ICFP24,
    section="Fig. 1 / ref §7 P2",
    label="derived",
    statement="the small-step machine of Fig. 1 and the fast evaluator give the same value or the "
    "same stuck state",
    given={"text": program_texts(unhandled=False)},
    show=show_term,
)
def _agree(text: str) -> None:
    term = parse_program(text)
    same(outcome(term), outcome(term, "fast"), "small-step vs fast")


@theorem(
    "lambda_p.interpreters.agree_stuck",
    paper=ICFP24,
    section="Lemma 6.4 / ref §7 P2",
    label="derived",
    statement="with an operation nobody handles, both interpreters are stuck on it (or agree on a value)",
    given={"text": program_texts(unhandled=True)},
    show=show_term,
)
def _agree_stuck(text: str) -> None:
    term = parse_program(text)
    same(outcome(term), outcome(term, "fast"), "small-step vs fast")


@theorem(
    "lambda_p.progress.untyped",
    paper=ICFP24,
    section="Lemma 6.4 / ref §7 P12",
    label="derived",
    statement="a well-formed program ends in a value or an unhandled operation, never another stuck state",
    given={"text": program_texts(unhandled=True)},
    show=show_term,
)
def _progress(text: str) -> None:
    result = outcome(parse_program(text))
    assert not result.startswith("stuck") or result.startswith(
        "stuck [unhandled operation]: unhandled operation 'oops'"
    ), result


@theorem(
    "lambda_p.semantics.unique_decomposition",
    paper=ICFP24,
    section="Fig. 1 / ref §7 P3",
    label="derived",
    statement="every non-value term is E[r] for exactly one redex r: decomposing and plugging back gives "
    "the term, at every step",
    given={"text": program_texts(depth=2)},
    show=show_term,
)
def _decomposition(text: str) -> None:
    term = parse_program(text)
    machine, fuel = Machine(), Fuel(FUEL)
    while (found := decompose(term)) is not None:
        frames, redex = found
        assert plug_all(frames, redex) == term
        try:
            nxt = machine.step(term, fuel)
        except Stuck:
            return
        assert nxt is not None
        term = nxt.term


# -- (parallel) ------------------------------------------------------------------------------------


@theorem(
    "lambda_p.parallel.order_independent",
    paper=ICFP24,
    section="(parallel) / ref §7 P1",
    label="derived",
    statement="running the iterations of (parallel) in any order gives the same result",
    given={"text": program_texts(), "seed": st.integers(0, 2**16)},
    show=show_term,
)
def _order(text: str, seed: int) -> None:
    term = parse_program(text)
    rng = random.Random(seed)

    def shuffled(n: int) -> list[int]:
        return rng.sample(range(n), n)

    same(outcome(term), outcome(term, order=shuffled), "in order vs shuffled")
    same(outcome(term), outcome(term, order=lambda n: list(reversed(range(n)))), "in order vs reversed")


@theorem(
    "lambda_p.parallel.jobs",
    paper=ICFP24,
    section="(parallel) / ref §7 P1",
    label="derived",
    statement="iterations run in worker processes (--jobs 2) give the sequential result",
)
def _jobs() -> None:
    texts = {
        "fast": "runAccum (+) 0 (\\_. for i:40. (accum i; fold (+) 0 (for j:i. j * i)))",
        "small-step": "for i:8. fold (+) 0 (for j:i. j * i)",
    }
    for machine, text in texts.items():
        term = parse_program(text)
        same(outcome(term, machine), outcome(term, machine, jobs=2), f"{machine}: jobs 1 vs jobs 2")


def _unrolled(bodies: list[str]) -> tuple[str, str]:
    """for i:n. b_i, and r0 ← b_0; …; ⟨r0, …⟩ (each body may mention i)."""
    thunks = ", ".join(f"\\i. {b}" for b in bodies)
    loop = f"(for i:{len(bodies)}. (<{thunks}>.i) i)"
    names = [f"r{i}" for i in range(len(bodies))]
    seq = "".join(f"{r} <- ((\\i. {b}) {k}); " for k, (r, b) in enumerate(zip(names, bodies, strict=True)))
    return loop, f"({seq}<{', '.join(names)}>)"


def _unrolling(effect: str) -> Callable[[list[str]], None]:
    def check(bodies: list[str]) -> None:
        loop, seq = _unrolled(bodies)
        handler = EFFECTS[effect].handler
        same(run(f"{handler} (\\_. {loop})"), run(f"{handler} (\\_. {seq})"), "parallel vs unrolled")

    return check


for _effect, _label in (
    ("log", "Accum with ++ (associative, not commutative)"),
    ("reader", "Reader"),
    ("except", "weak exceptions alone"),
    ("amb", "Amb alone"),
):
    theorem(
        f"lambda_p.unrolling.{_effect}",
        paper=ICFP24,
        section="§5 / ref §7 P7",
        label="derived",
        statement=f"{_label}: a loop over bodies b_i equals their sequential unrolling",
        given={"bodies": st.lists(computations((_effect,), ("i",), 2), max_size=3)},
        show=show_term,
        max_examples=30,
    )(_unrolling(_effect))


# -- algebraic laws ---------------------------------------------------------------------------------


@st.composite
def _contexts(draw: st.DrawFn, ops: tuple[str, ...], handlers: bool) -> str:
    """An integer context with hole HOLE; with ``handlers``, frames may be handlers of other effects."""
    hole = "HOLE"
    for _ in range(draw(st.integers(0, 3))):
        c = draw(computations(ops, (), 1))
        kind = draw(
            st.sampled_from(
                ["left", "right", "bind", "if", "handle"] if handlers else ["left", "right", "bind", "if"]
            )
        )
        if kind == "left":
            hole = f"({hole} + {c})"
        elif kind == "right":
            hole = f"({draw(st.integers(0, 9))} + {hole})"
        elif kind == "bind":
            hole = f"(y <- ({hole}); y * 2 + {c})"
        elif kind == "if":
            hole = f"(if {hole} == {draw(st.integers(0, 6))} then {c} else 1)"
        else:
            inner = draw(st.sampled_from(["runAccum (+) 0", "runWeakExcept", 'runRandom "q"']))
            hole = f"({inner} (\\_. {hole}))"
    return hole


@theorem(
    "lambda_p.algebraicity.perform",
    paper=ICFP24,
    section="§4.2 / ref §7 P4",
    statement="E[perform op v] ≡ x ← perform op v; E[x] when op ∉ bop(E)",
    given={"effect": st.sampled_from(["reader", "amb"]), "data": st.data()},
    show=show_term,
)
def _algebraicity(effect: str, data: st.DataObject) -> None:
    context = data.draw(_contexts((effect,), handlers=True), "E")
    op = "perform ask ()" if effect == "reader" else "perform amb <1, 5>"
    handler = EFFECTS[effect].handler
    left = f"{handler} (\\_. {context.replace('HOLE', f'({op})')})"
    right = f"{handler} (\\_. x <- ({op}); {context.replace('HOLE', 'x')})"
    same(run(left), run(right), "E[op v] vs x ← op v; E[x]")


@theorem(
    "lambda_p.algebraicity.for_pure_context",
    paper=ICFP24,
    section="§4.2 / ref §7 P4",
    statement="F[for x:n. e] ≡ xs ← for x:n. e; F[xs] for a pure context F",
    given={"effect": st.sampled_from(["log", "amb", "except", "reader"]), "data": st.data()},
    show=show_term,
)
def _for_commutes(effect: str, data: st.DataObject) -> None:
    context = data.draw(_contexts((effect,), handlers=False), "F")
    adapter = data.draw(st.sampled_from(["fold (+) 0 ARR", "length ARR"]), "adapter")
    n = data.draw(st.integers(0, 3), "n")
    body = data.draw(computations((effect,), ("i",), 2), "e")
    loop = f"(for i:{n}. {body})"
    handler = EFFECTS[effect].handler
    left = f"{handler} (\\_. {context.replace('HOLE', adapter.replace('ARR', loop))})"
    right = f"{handler} (\\_. xs <- {loop}; {context.replace('HOLE', adapter.replace('ARR', 'xs'))})"
    same(run(left), run(right), "F[for] vs xs ← for; F[xs]")


@theorem(
    "lambda_p.return.one_step",
    paper=ICFP24,
    section="Fig. 1 (return) / ref §7 P5",
    statement="handle h s v steps by (return) to f_r s v",
    given={"value": data_texts()},
    show=show_term,
)
def _return_rule(value: str) -> None:
    term = parse_term(Source(f"handle {{return -> \\s x. (s, x)}} 1 ({value})"), dict(prelude()))
    nxt = Machine().step(term)
    assert nxt is not None and nxt.rule == "return", nxt
    assert show(Machine().evaluate(term, Fuel(FUEL))) == show(parse_term(Source(f"(1, {value})")))


@theorem(
    "lambda_p.return.identity_handler",
    paper=ICFP24,
    section="§4.2 / ref §7 P5",
    label="derived",
    statement="handle h_id s e ≡ e for the identity handler (return λs.λx.x, default traverse, no ops)",
    given={"text": program_texts()},
    show=show_term,
    max_examples=30,
)
def _identity_handler(text: str) -> None:
    same(run(f"handle {{return -> \\s x. x}} () ({text})"), run(text), "handle h_id s e vs e")


@theorem(
    "lambda_p.deep.handling",
    paper=ICFP24,
    section="Fig. 1 (perform) / ref §7 P6",
    statement="after k s' x resumes, later operations are handled by the same handler with parameter s'",
    given={
        "words": st.lists(st.sampled_from(["a", "b", "cd", ""]), max_size=5),
        "a": st.integers(0, 9),
        "b": st.integers(0, 9),
    },
    show=show_term,
)
def _deep(words: list[str], a: int, b: int) -> None:
    accums = "".join(f'accum "{w}"; ' for w in words)
    assert run(f'runAccum (++) "" (\\_. {accums}0)') == f'(0, "{"".join(words)}")'
    state = f"runState 0 (\\_. set {a}; x <- get (); set (x + {b}); get ())"
    assert run(state) == f"({a + b}, {a + b})"


@theorem(
    "lambda_p.accum.homomorphism",
    paper=ICFP24,
    section="§5.1 / ref §7 P10",
    label="derived",
    statement="runAccum of for i:n. accum x_i accumulates reduce (<>) x; splitting the loop in two "
    "accumulates the same",
    given={"words": st.lists(st.sampled_from(["a", "b", "c"]), max_size=5), "cut": st.integers(0, 5)},
    show=show_term,
    max_examples=30,
)
def _homomorphism(words: list[str], cut: int) -> None:
    cut = min(cut, len(words))
    xs = "<" + ", ".join(f'"{w}"' for w in words) + ">"
    whole = run(f'snd (runAccum (++) "" (\\_. for i:{len(words)}. accum {xs}.i))')
    split = run(
        f'snd (runAccum (++) "" (\\_. (for i:{cut}. accum {xs}.i); '
        f"(for i:{len(words) - cut}. accum {xs}.(i + {cut}))))"
    )
    assert whole == split == '"' + "".join(words) + '"', (whole, split)


@theorem(
    "lambda_p.loops.length",
    paper=ICFP24,
    section="t-for / ref §7 P11",
    label="derived",
    statement="the prelude's handlers hand k an array of exactly n results",
    given={"effects": effect_stacks(), "n": st.integers(0, 3), "data": st.data()},
    show=show_term,
)
def _length(effects: tuple[str, ...], n: int, data: st.DataObject) -> None:
    body = data.draw(computations(operations(effects), ("j",), 2), "body")
    check = f"(xs <- (for j:{n}. {body}); if length xs == {n} then 0 else perform lengthMismatch ())"
    assert "lengthMismatch" not in run(wrap(effects, check))


# -- variants and syntax -------------------------------------------------------------------------------


@theorem(
    "lambda_p.variants.consistent",
    paper=PEPM22,
    section="Fig. 1 / ref §7 P14",
    label="derived",
    statement="for handlers that run each body continuation once in one for, the ICFP'24 and PEPM'22 "
    "traverse rules agree (runRandom excepted: its key split differs)",
    given={"text": program_texts(pool=tuple(e for e in sorted(EFFECTS) if e != "random"))},
    show=show_term,
    max_examples=30,
)
def _variants(text: str) -> None:
    same(run(text), run(text, variant="pepm22"), "ICFP'24 vs PEPM'22")
    assert run('runRandom "k" (\\_. for i:2. sampleUniform ())', variant="pepm22") == '<"k_0_0_0", "k_0_1_0">'


@theorem(
    "lambda_p.syntax.round_trip",
    paper=ICFP24,
    section="Fig. 1 syntax",
    label="derived",
    statement="printing a term and parsing it back gives the same term (sugared and core printing)",
    given={"text": st.one_of(program_texts(), data_texts())},
    show=show_term,
)
def _round_trip(text: str) -> None:
    defs = dict(prelude())
    term = parse_term(Source(text), defs)
    for sugar in (True, False):
        printed = show(term, sugar=sugar)
        assert parse_term(Source(printed), defs) == term, printed


register_mutants(MUTANTS)
