"""Algebraic laws of handlers: algebraicity of perform and for, the (return) rule and the identity
handler, deep handling, the accumulator homomorphism, and the length of for's results.
"""

from __future__ import annotations

from hypothesis import strategies as st

from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.lambda_p.parse import parse_term
from calculi.lambda_p.pretty import show
from calculi.lambda_p.program import prelude
from calculi.lambda_p.semantics import Machine
from calculi.lambda_p.strategies import (
    EFFECTS,
    computations,
    data_texts,
    effect_stacks,
    operations,
    program_texts,
    show_term,
    wrap,
)
from proofs.lambda_p.fixtures import FUEL, ICFP24, run, same
from proofs.registry import theorem


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
    term = parse_term(Source(f"handle {{return -> \\s x. (s, x)}} 1 ({value})"), prelude())
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
