"""The ICFP'24 and PEPM'22 traverse rules against each other, and the printer's round trip.
"""

from __future__ import annotations

from hypothesis import strategies as st

from calculi.core.syntax import Source
from calculi.lambda_p.parse import parse_term
from calculi.lambda_p.pretty import show
from calculi.lambda_p.program import prelude
from calculi.lambda_p.strategies import EFFECTS, data_texts, program_texts, show_term
from proofs.lambda_p.fixtures import ICFP24, PEPM22, run, same
from proofs.registry import theorem


@theorem(
    "lambda_p.variants.consistent",
    paper=PEPM22,
    section="Fig. 1 / ref §7 P14",
    label="derived",
    statement="for handlers that run each body continuation once in one for, the ICFP'24 and PEPM'22 "
    "traverse rules agree (runRandom excepted: its key split differs)",
    given={"text": program_texts(depth=2, pool=tuple(e for e in sorted(EFFECTS) if e != "random"))},
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
    defs = prelude()
    term = parse_term(Source(text), defs)
    for sugar in (True, False):
        printed = show(term, sugar=sugar)
        assert parse_term(Source(printed), defs) == term, printed
