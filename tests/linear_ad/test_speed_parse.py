"""The parser's fast paths: the token split and the scanner agree, and the split declines what it
cannot read."""

from __future__ import annotations

from calculi.linear_ad.bench import sized
from calculi.linear_ad.parse_tokens import INVALID, scan, split_tokens, tokens
from calculi.linear_ad.pretty import show_program


def test_the_split_reads_the_benchmark_programs_as_the_scanner_does() -> None:
    for family in ("helpers", "call-chain"):
        text = show_program(sized(family, 200), unicode=False)
        split = split_tokens(text)
        assert split is not None
        assert split == scan(text) == tokens(text)


def test_the_split_declines_comments_and_stray_characters() -> None:
    assert split_tokens("def f(x: R) -> R = x # note\n") is None
    assert split_tokens("def f(x: R) -> R = x ! y") is None
    assert tokens("def f(x: R) -> R = x ! y") == INVALID
    text = "def f(x: R) -> R = x -- note\n"
    assert tokens(text) == scan(text)
    assert scan(text) != split_tokens(text)


def test_a_number_after_an_operand_is_split_as_the_scanner_splits_it() -> None:
    text = "def f(x: R) -> R = x -1.5 * .5 ** -2"
    assert split_tokens(text) == scan(text)
    kinds = scan(text)[0]
    assert isinstance(kinds, list) and kinds.count("NUMBER") == 3
