"""The two interpreters (the small-step machine of Fig. 1 and the fast evaluator) against each
other, progress, and unique decomposition into a context and a redex.
"""

from __future__ import annotations

from hypothesis import strategies as st

from calculi.core.trace import Fuel
from calculi.lambda_p.pretty import show
from calculi.lambda_p.semantics import Machine, decompose, plug_all
from calculi.lambda_p.strategies import parse_program, program_texts, show_term
from calculi.lambda_p.strategies_files import user_files
from calculi.lambda_p.stuck import Stuck
from proofs.lambda_p.fixtures import FUEL, ICFP24, outcome, run_items, same
from proofs.registry import theorem


def _agree(text: str) -> None:
    """One generated program: the two interpreters give the same value or the same stuck state."""
    term = parse_program(text)
    same(outcome(term), outcome(term, "fast"), "small-step vs fast")


for _id, _section, _unhandled, _statement in (
    ("agree", "Fig. 1 / ref §7 P2", False,
     "the small-step machine of Fig. 1 and the fast evaluator give the same value or the same stuck state"),
    ("agree_stuck", "Lemma 6.4 / ref §7 P2", True,
     "with an operation nobody handles, both interpreters are stuck on it (or agree on a value)"),
):
    theorem(
        f"lambda_p.interpreters.{_id}",
        paper=ICFP24,
        section=_section,
        label="derived",
        statement=_statement,
        given={"text": program_texts(unhandled=_unhandled)},
        show=show_term,
    )(_agree)


@theorem(
    "lambda_p.interpreters.agree_user_files",
    paper=ICFP24,
    section="Fig. 1 / ref §7 P2",
    label="derived",
    statement="on files written the way users write them (definitions that shadow the prelude's, names "
    "defined again, handlers of one operation nested, effects through tail and non-tail recursion), "
    "the two interpreters give the same value or the same stuck state",
    given={"items": user_files()},
    show=lambda items: "\n".join(items) if isinstance(items, list) else show_term(items),
)
def _agree_user_files(items: list[str]) -> None:
    same(run_items(items), run_items(items, "fast"), "small-step vs fast")


@theorem(
    "lambda_p.interpreters.agree_curried_calls",
    paper=ICFP24,
    section="Fig. 1 (step) / ref §7 P2",
    label="derived",
    statement="a curried call f a1 a2 a3 whose partial applications perform operations and whose later "
    "arguments may fail gives the same value or stuck state on both interpreters (f a1 is applied "
    "before a2 is evaluated)",
    given={
        "effects": st.lists(st.sampled_from(["", "accum a; ", "perform early a; ", "throw \"t\"; "]),
                            min_size=2, max_size=2),
        "later": st.lists(st.sampled_from(["<1, 2>.1", "<1, 2>.2", "1 / 0", "7", "(\\x. x) 3"]),
                          min_size=2, max_size=2),
    },
)
def _agree_curried(effects: list[str], later: list[str]) -> None:
    f = f"(\\a. {effects[0]}\\b. {effects[1]}\\c. a + b + c)"
    text = f"runAccum (+) 0 (\\_. runWeakExcept (\\_. {f} 1 ({later[0]}) ({later[1]})))"
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


@theorem(
    "lambda_p.semantics.refocusing",
    paper=ICFP24,
    section="Fig. 1 (step) / derived",
    label="derived",
    statement="the small-step machine's evaluate, which keeps the context between steps, reaches the "
    "value (or the stuck state) that stepping from the root again and again reaches",
    given={"text": program_texts(unhandled=True, depth=2)},
    show=show_term,
)
def _refocusing(text: str) -> None:
    term = parse_program(text)
    machine, fuel, stepped = Machine(), Fuel(FUEL), term
    try:
        while (nxt := machine.step(stepped, fuel)) is not None:
            fuel.tick(stepped.span)
            stepped = nxt.term
        by_steps = show(stepped)
    except Stuck as err:
        by_steps = f"stuck [{err.group}]: {err.reason}"
    same(by_steps, outcome(term), "step by step vs evaluate")
