"""The papers' own examples and counterexamples (ICFP'24 Fig. 1, §4.2, §5.2, §5.3).
"""

from __future__ import annotations

from hypothesis import strategies as st

from calculi.lambda_p.strategies import computations, show_term
from proofs.lambda_p.fixtures import ICFP24, run, run_items, same, unrolled
from proofs.registry import theorem


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
    loop, seq = unrolled(bodies)
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


RUN_TELL = """def runTell op mempty body = handle {
    return -> \\s x. (x, s),
    tell -> \\s x k. k (op s x) (),
    traverse -> \\n s l k.
      pairs <- runIterations n l (replicate n mempty);
      (rs, os) <- unzip pairs;
      k (op s (fold op mempty os)) rs
  } mempty (body ())"""
"""runAccum again, on the operation ``tell``: a second accumulator."""


@theorem(
    "lambda_p.handlers.order_two_accumulators",
    paper=ICFP24,
    section="§5.1 / ref §7 P9",
    statement="two accumulators on different operations commute: runAccum ∘ runTell and runTell ∘ runAccum "
    "give the same value and the same two accumulated values, nested the other way",
    given={"body": computations(("accum", "log"), (), 2)},
    show=show_term,
)
def _two_accumulators(body: str) -> None:
    body = body.replace('perform accum "', 'perform tell "')  # the string accumulator's operation
    accum_outside = f'runAccum (+) 0 (\\_. runTell (++) "" (\\_. {body}))'
    tell_outside = f'runTell (++) "" (\\_. runAccum (+) 0 (\\_. {body}))'
    left = run_items([RUN_TELL, f"(p, a) <- {accum_outside}; (v, t) <- p; (v, a, t)"])
    right = run_items([RUN_TELL, f"(p, t) <- {tell_outside}; (v, a) <- p; (v, a, t)"])
    assert not left.startswith("stuck"), left
    same(left, right, "accum outside vs tell outside")
