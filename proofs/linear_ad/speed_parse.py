"""Linear A's fast paths in the parse stage: theorems against their oracles, and their mutants.

The tokens of an ASCII text without comments are split by one regular expression
(``parse_tokens.split_tokens``); its oracle is the scanner ``parse_tokens.scan``. The parser's
shortcuts (a variable or a call ``f(x)`` read directly, one parameter of type ``ℝ``, the result
``(ℝ ; )``, the current line of the spans) have the reference parser for oracle, through
``linear_ad.syntax.fast_parser_agrees`` and, on the benchmark's programs, which are made of those
forms, ``linear_ad.syntax.families_parse_alike``.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import strategies as st

from calculi.core.mutants import Mutant, patch, patch_source
from calculi.linear_ad import parse_fast, parse_fast_cursor, parse_fast_direct, parse_fast_heads, parse_tokens
from calculi.linear_ad.bench import FAMILIES
from calculi.linear_ad.pretty import show_program
from calculi.linear_ad.strategies import linear_programs, nonlinear_programs
from calculi.linear_ad.syntax import Program
from calculi.linear_ad.types import REAL
from proofs.linear_ad.fixtures import YOLO
from proofs.linear_ad.syntax import agree
from proofs.registry import register_mutants, theorem

BLANKS = [" ", "", "  ", "\n", "\t", "\r\n", "\f", " -- note\n", " # note\n", "\v"]
WORDS = ["let", "in", "def", "unpack", "unpackL", "zero", "lets", "in0", "x", "x'", "a.b", "_", "R",
         "->", "(+)", "**", "*.", "*", "+", "-", "/", "(", ")", "[", "]", ",", ";", ":", "=", "0", "1.5",
         ".5", "-2", "3e-2", "1E+3", "-.5", "!", '"', "."]
DOTTED = ["x.5", "let.x", "in'", "b.0e1", "def'", "y.1", "a.2e3", "q.7"]
"""Names with a dot or a prime, which a split without them would read otherwise (x then .5)."""


@st.composite
def ascii_texts(draw: Any) -> str:
    """A generated program printed in ASCII, or a soup of ASCII tokens, with blanks (and now and
    then a comment or a character no token starts with) between the tokens."""
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        program = draw(st.one_of(nonlinear_programs(), linear_programs()))
        pieces = show_program(program, unicode=False, width=draw(st.sampled_from([100, 24]))).split(" ")
    else:
        pieces = [rng.choice(WORDS) for _ in range(rng.randint(0, 12))]
        pieces.insert(rng.randint(0, len(pieces)), rng.choice(DOTTED))
    blanks = rng.choice([BLANKS[:4], BLANKS[:4], [*BLANKS[:4], " -- note\n"], BLANKS])
    return "".join(rng.choice(blanks) + p for p in pieces)


@theorem("linear_ad.syntax.split_tokens_agree", paper=YOLO, section="§2 (syntax)", label="derived",
         statement="on ASCII texts, the tokens split by one regular expression are the tokens the "
                   "scanner reads (kinds, starts and ends), or the split declines (a comment, or a "
                   "character no token starts with) and the scanner decides",
         given={"text": ascii_texts()})
def _(text: str) -> None:
    scanned = parse_tokens.scan(text)
    assert parse_tokens.tokens(text) == scanned, "tokens differ from the scanner's"
    split = parse_tokens.split_tokens(text)
    if split is not None and "--" not in text:
        assert split == scanned, "the split differs from the scanner"


@theorem("linear_ad.syntax.families_parse_alike", paper=YOLO, section="§2 (syntax)", label="derived",
         statement="the benchmark's programs (many small functions of one ℝ parameter and result "
                   "(ℝ ; ), lets of calls f(x), products), printed in ASCII or Unicode, read to the "
                   "same AST with the same spans by the fast and the reference parsers",
         given={"family": st.sampled_from(sorted(FAMILIES)), "n": st.integers(1, 12),
                "unicode": st.booleans()})
def _(family: str, n: int, unicode: bool) -> None:
    program = FAMILIES[family](n)
    parsed = agree(show_program(program, unicode=unicode))
    assert isinstance(parsed, Program), f"the fast parser hands over a printed program ({parsed})"
    assert parsed == program, "printing then parsing changed the program"


ATOMS = ["x", "y", "v", "sin(x)", "cos(v)", "g(y)", "h(x, y)", "-x", "2", "-1.5", "g(x) ** y", "sin(v) ** 2"]
OPERATORS = ["+", "-", "*", "/", "**"]


def forms(depth: int = 3) -> st.SearchStrategy[str]:
    """Expressions of the forms the parser reads directly (variables, calls ``f(x)``) among others,
    under every operator, in parentheses and as arguments of a primitive."""
    atoms = st.sampled_from(ATOMS)
    return st.recursive(atoms, lambda sub: st.one_of(
        st.builds(lambda a, o, b: f"{a} {o} {b}", sub, st.sampled_from(OPERATORS), sub),
        st.builds(lambda a, o, b: f"({a}) {o} {b}", sub, st.sampled_from(OPERATORS), sub),
        st.builds(lambda a: f"sin({a})", sub)), max_leaves=2 ** depth)


@theorem("linear_ad.syntax.direct_forms_parse_alike", paper=YOLO, section="§2 (syntax)", label="derived",
         statement="expressions of variables and calls f(x) under every operator, in lets, arguments "
                   "and bodies, read to the same AST with the same spans by the fast and the reference "
                   "parsers",
         given={"bound": forms(), "body": forms()})
def _(bound: str, body: str) -> None:
    text = (f"def g(x: R) -> R = x\ndef h(x: R, y: R) -> (R ; ) = y\n"
            f"def f(x: R, y: R) -> (R ; ) =\n  let v = y in\n  let w = {bound} in\n  {body}")
    parsed = agree(text)
    assert isinstance(parsed, Program), f"the fast parser hands over {text!r} ({parsed})"


def _split_with_comments(text: str) -> Any:
    """``tokens`` splitting ASCII texts with ``--`` comments too (it reads them as operators)."""
    split = parse_tokens.split_tokens(text) if text.isascii() else None
    return split if split is not None else parse_tokens.scan(text)


_Parser = parse_fast._Parser
_Cursor = parse_fast_cursor.Cursor
_Direct = parse_fast_direct.DirectReader

_GATED = """(SPLIT if "." in text or "'" in text else PLAIN)"""

register_mutants([
    Mutant("linear_ad.parse_one_end_marker", "linear_ad",
           "the tokens end with one $END only: a reading that looks ahead crashes on a text cut after in",
           lambda: patch(_Cursor, "lookahead", 1), theorems="linear_ad.syntax"),
    Mutant("linear_ad.parse_plain_split_everywhere", "linear_ad",
           "the token split uses the plain pattern on texts with . or ' too (x.5 read as x then .5)",
           lambda: patch_source(parse_tokens, "split_tokens", _GATED, "PLAIN"), theorems="linear_ad.syntax"),
    Mutant("linear_ad.parse_split_numbers_are_names", "linear_ad",
           "the token split reads every number as a name",
           lambda: patch(parse_tokens, "_NUMBER_START", {}), theorems="linear_ad.syntax"),
    Mutant("linear_ad.parse_split_reads_comments", "linear_ad",
           "the token split is tried on texts with -- comments, reading them as operators",
           lambda: patch(parse_tokens, "tokens", _split_with_comments), theorems="linear_ad.syntax"),
    Mutant("linear_ad.parse_ends_take_operators", "linear_ad",
           "a variable or call f(x) before + or - is read as the whole expression",
           lambda: patch(parse_fast, "_ENDS", {*parse_fast._ENDS, "+", "-"}), theorems="linear_ad.syntax"),
    Mutant("linear_ad.parse_leaf_before_power", "linear_ad",
           "an operand of * is read as a variable even before **",
           lambda: patch(parse_fast, "_NOT_LEAF", {"(", "["}), theorems="linear_ad.syntax"),
    Mutant("linear_ad.parse_call_span_short", "linear_ad",
           "the call f(x) read directly by expr ends its span at the argument",
           lambda: patch_source(_Direct, "applied_to", "span = self.at(start, self.ends[i + 3])",
                                "span = self.at(start, self.ends[i + 2])"),
           theorems="linear_ad.syntax"),
    Mutant("linear_ad.parse_call_before_power", "linear_ad",
           "the call f(x) read directly as an operand of * ignores a ** after it",
           lambda: patch_source(_Parser, "prod", 'and kinds[i + 4] != "**"', ""),
           theorems="linear_ad.syntax"),
    Mutant("linear_ad.parse_call_one_argument_skips", "linear_ad",
           "a call of one variable read directly steps past its closing parenthesis",
           lambda: patch_source(_Parser, "call", "self.i = i + 3\n", "self.i = i + 4\n"),
           theorems="linear_ad.syntax"),
    Mutant("linear_ad.parse_stale_line", "linear_ad",
           "a variable's span keeps the line of the span before when it is on a later line",
           lambda: patch_source(_Cursor, "at", "if start < self.lo or start >= self.hi:",
                                "if start < self.lo:"),
           theorems="linear_ad.syntax"),
    Mutant("linear_ad.parse_real_parameter_twice", "linear_ad",
           "a single parameter of type ℝ read directly gets two types",
           lambda: patch(parse_fast_heads, "_REALS", (REAL, REAL)), theorems="linear_ad.syntax"),
    Mutant("linear_ad.parse_real_result_linear", "linear_ad",
           "the result (ℝ ; ) read directly gets a linear ℝ too",
           lambda: patch(parse_fast_heads, "_REAL_RESULT", ((REAL,), (REAL,))), theorems="linear_ad.syntax"),
    Mutant("linear_ad.parse_direct_binding_span_short", "linear_ad",
           "let x = f(y) op z in, read in one step, ends its span at z",
           lambda: patch_source(_Direct, "direct_binding", "self.at(start, self.ends[i + 9])",
                                "self.at(start, self.ends[i + 8])"),
           theorems="linear_ad.syntax"),
    Mutant("linear_ad.parse_direct_binding_skips_in", "linear_ad",
           "let x = f(y) in, read in one step, leaves the reading before its in",
           lambda: patch_source(_Direct, "direct_binding", "self.i = i + 8", "self.i = i + 7"),
           theorems="linear_ad.syntax"),
    Mutant("linear_ad.parse_operation_right_span", "linear_ad",
           "x op y, read in one step, starts its span at y",
           lambda: patch_source(_Direct, "operation", "self.at(self.starts[i], end)",
                                "self.at(self.starts[i + 2], end)"),
           theorems="linear_ad.syntax"),
])
