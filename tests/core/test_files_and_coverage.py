"""Reading files, number arguments, integer literals, rule coverage and completion: the pieces
every calculus's command line, REPL and theorem suite share."""

from __future__ import annotations

import argparse
import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest
from hypothesis import strategies as st

from calculi.core import coverage
from calculi.core.errors import CalculusError, ParseError, UsageError
from calculi.core.files import EncodingError, cli, positive_int, read_source
from calculi.core.fuzz import feed, mutations, unlocated
from calculi.core.parsing import MAX_DIGITS, Grammar, integer, show_int
from calculi.core.syntax import Source
from calculi.repl import Repl
from proofs.quality import every_rule_fires, sample
from proofs.registry import THEOREMS, Paper, check
from tests.core.test_repl import Sums


def test_a_file_that_is_not_utf8_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.lam"
    path.write_bytes("\\x. x\n(caf\xe9)\n".encode("latin-1"))
    with pytest.raises(EncodingError) as caught:
        read_source(path)
    assert caught.value.span is not None
    assert (caught.value.span.line, caught.value.span.column) == (2, 5)
    assert caught.value.render().startswith(f"{path}:2:5: encoding error: the file is not UTF-8")


@pytest.mark.parametrize("name", ["/no/such/file", "~nosuchuser_xyz/x", "."])
def test_an_unreadable_file_is_a_usage_error(name: str) -> None:
    with pytest.raises(UsageError, match=f"cannot read {name}"):
        read_source(name)


@pytest.mark.parametrize("text", ["0", "-5", "²", "٣", "1.5", "", "9" * 30, "x"])
def test_positive_int_refuses_what_is_not_a_positive_whole_number(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        positive_int(text)
    assert positive_int("12") == 12


def test_cli_renders_calculus_errors_and_nested_input() -> None:
    def failing(argv: Sequence[str] | None) -> int:
        raise ParseError("unexpected ')'", Source("(x))", "f.lam").span(3))

    def deep(argv: Sequence[str] | None) -> int:
        raise RecursionError

    assert cli(failing) == 1
    assert cli(deep) == 1


def test_integer_literals_beyond_the_conversion_limit_are_located_errors() -> None:
    source = Source("1 + " + "9" * (MAX_DIGITS + 1))
    with pytest.raises(ParseError, match="4,301 digits is too long") as caught:
        integer(source.text[4:], source.span(4, len(source.text)))
    assert caught.value.span is not None and caught.value.span.column == 5
    assert integer("-" + "9" * MAX_DIGITS, None) == -int("9" * MAX_DIGITS)


def test_show_int_prints_integers_of_any_size() -> None:
    big = 7**20_000
    shown = show_int(big)
    assert len(shown) == math.floor(20_000 * math.log10(7)) + 1
    assert shown.endswith(str(big % 10**12).zfill(12))
    assert shown.startswith(str(big // 10 ** (len(shown) - 12)))
    assert show_int(-12) == "-12"


def test_syntax_errors_name_terminals_as_written() -> None:
    grammar = Grammar.from_text('start: "(" NAME ")"\n%import common.CNAME -> NAME\n')
    with pytest.raises(ParseError) as caught:
        grammar.parse(Source("(x"))
    assert "expected ')'" in caught.value.reason
    assert "rpar" not in caught.value.reason and "$end" not in caught.value.reason.lower()


def test_a_reason_is_not_prefixed_by_its_kind_twice() -> None:
    assert UsageError("usage: :load FILE").render() == "usage: :load FILE"
    assert UsageError("cannot read x").render() == "usage: cannot read x"


def test_coverage_counts_only_while_recording() -> None:
    coverage.declare("toy", ["a", "b"])
    coverage.fired("toy", "a")  # not recording: nothing counted anywhere
    with coverage.recording() as outer:
        coverage.fired("toy", "a")
        with coverage.recording() as inner:
            coverage.fired("toy", "a", times=2)
        assert inner["toy", "a"] == 2
    assert outer["toy", "a"] == 3
    assert coverage.missing(outer, "toy") == ["b"]
    assert coverage.table(outer, "toy") == [("a", 3), ("b", 0)]


def test_every_rule_fires_fails_naming_the_rules_never_reached() -> None:
    coverage.declare("toyrules", ["even", "odd"])

    def exercise() -> None:
        for n in sample(st.integers(0, 100).map(lambda n: 2 * n), 30):
            coverage.fired("toyrules", "even" if n % 2 == 0 else "odd")

    every_rule_fires("toyrules", Paper("toy", "A toy paper", "nowhere"), "§1", exercise)
    try:
        result = check(THEOREMS["toyrules.coverage.every_rule_fires"])
    finally:
        del THEOREMS["toyrules.coverage.every_rule_fires"]
    assert result.status == "failed"
    assert result.message == "rules that never fired: odd"


def test_samples_are_reproducible() -> None:
    strategy = mutations(["\\x. x", "(\\y. y) z"])
    assert sample(strategy, 20, seed=3) == sample(strategy, 20, seed=3)
    assert len(sample(st.integers(), 50)) == 50


class Named(Sums):
    def names(self) -> Iterable[str]:
        return ["fst", "foldl", "snd"]


def test_completion_offers_commands_names_in_scope_and_paths(tmp_path: Path) -> None:
    repl = Repl(Named(), io.StringIO())
    assert repl.completions(":st") == [":step"]
    assert repl.completions("1 + f") == ["foldl", "fst"]
    (tmp_path / "one.lp").write_text("1")
    (tmp_path / "sub").mkdir()
    assert repl.completions(f":load {tmp_path}/") == [f"{tmp_path}/one.lp", f"{tmp_path}/sub/"]
    assert repl.completions(f":load {tmp_path}/o") == [f"{tmp_path}/one.lp"]


def test_strict_repl_lets_internal_errors_through_and_records_the_rest() -> None:
    class Broken(Sums):
        def type_of(self, term: tuple[int, ...]) -> str:
            raise ZeroDivisionError("oops")

    relaxed = io.StringIO()
    Repl(Broken(), relaxed).handle(":type 1")
    assert relaxed.getvalue() == "internal error: ZeroDivisionError: oops\n"
    strict = Repl(Broken(), io.StringIO(), strict=True)
    strict.handle("1 + x")
    assert isinstance(strict.errors[-1], CalculusError)
    with pytest.raises(ZeroDivisionError):
        strict.handle(":type 1")


def test_repl_settings_and_load_refuse_odd_arguments_cleanly() -> None:
    answers = feed("foil", [":set fuel ²", ":set fuel -5", ":load ~nosuchuser_xyz/x", "(\\x. x"])
    assert [a.printed.splitlines()[0] for a in answers[:3]] == [
        "usage: :set fuel N (a positive number of steps)",
        "usage: :set fuel N (a positive number of steps)",
        "usage: cannot read ~nosuchuser_xyz/x: Could not determine home directory.",
    ]
    assert unlocated(answers) == []


def test_an_error_far_along_a_long_line_shows_the_text_around_it() -> None:
    source = Source("(" * 5000 + "x" + ")" * 4999)
    rendered = ParseError("unclosed '('", source.span(4000)).render().splitlines()
    assert len(rendered[1]) < 200 and len(rendered[2]) < 200
    assert rendered[1][rendered[2].index("^")] == "("
    assert rendered[0] == "<input>:1:4001: syntax error: unclosed '('"
