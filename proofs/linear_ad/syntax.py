"""The front end: the fast parser agrees with the reference parser, and the operators parse as in
Python and print back to themselves.

``parse_fast`` is what runs; the LALR grammar (``parse.parse_reference``) is the definition. On
generated programs, printed in ASCII or Unicode with comments and odd white space between the
tokens, and on mutated and random texts, the two must give the same AST with the same spans, or
the fast parser must hand the text over for a reason it states (``DEEP``, ``FORM``); when it says
the text is no program (``INVALID``), the reference parser must reject it too.
"""

from __future__ import annotations

import ast
import dataclasses
import random
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from calculi.core.errors import CalculusError
from calculi.core.fuzz import inputs
from calculi.core.mutants import Mutant, patch
from calculi.core.syntax import Source, Span
from calculi.linear_ad import parse_fast
from calculi.linear_ad.parse import parse_reference
from calculi.linear_ad.parse_forms import apply
from calculi.linear_ad.pretty import show_def, show_program
from calculi.linear_ad.strategies import linear_programs, nonlinear_programs
from calculi.linear_ad.syntax import Expr, Lit, Prim, Program, Var, Zero
from proofs.linear_ad.fixtures import YOLO
from proofs.registry import register_mutants, theorem

SEPARATORS = [" ", "  ", "\t", "\n", "\n    ", " # note\n", " -- note\n", "\r\n", "\f", " #\n\n"]
EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "linear_ad").glob("*.la"))


def spans(node: object, path: str = "program") -> list[tuple[str, tuple[int, ...] | None]]:
    """Every node's span, by its path in the tree (AST equality ignores spans)."""
    out: list[tuple[str, tuple[int, ...] | None]] = []
    stack: list[tuple[object, str]] = [(node, path)]
    while stack:
        x, where = stack.pop()
        if isinstance(x, tuple):
            stack.extend((y, f"{where}[{i}]") for i, y in enumerate(x))
        elif dataclasses.is_dataclass(x) and hasattr(x, "span") and not isinstance(x, Span):
            s = x.span
            out.append((where, None if s is None else (s.start, s.end, s.line, s.column, s.end_line,
                                                       s.end_column)))
            stack.extend((getattr(x, f.name), f"{where}.{f.name}") for f in dataclasses.fields(x)
                         if f.name != "span")
    return out


def agree(text: str) -> Program | str:
    """Both parsers on ``text``: the program they agree on, or why the fast parser handed it over."""
    source = Source(text)
    fast = parse_fast.attempt(source)
    try:
        reference: Program | CalculusError = parse_reference(source)
    except CalculusError as err:
        reference = err
    if isinstance(fast, str):
        if fast == parse_fast.INVALID:
            assert isinstance(reference, CalculusError), "the fast parser rejects a program"
        return fast
    assert not isinstance(reference, CalculusError), \
        f"the fast parser accepts what the reference rejects:\n{reference.render()}"
    assert fast == reference, "the two parsers build different programs"
    for (where, mine), (_, theirs) in zip(spans(fast), spans(reference), strict=True):
        assert mine == theirs, f"span of {where}: fast {mine}, reference {theirs}"
    return fast


@st.composite
def spellings(draw: Any) -> tuple[Program, str]:
    """A generated program and a text of it: ASCII or Unicode, narrow or wide, each space between
    tokens replaced by white space or a comment."""
    program = draw(st.one_of(nonlinear_programs(), linear_programs()))
    text = show_program(program, unicode=draw(st.booleans()), width=draw(st.sampled_from([100, 24])))
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    pieces = text.split(" ")
    spelled = pieces[0] + "".join(rng.choice(SEPARATORS) + p for p in pieces[1:])
    return program, rng.choice(["", "# a file\n", "\n\n"]) + spelled + rng.choice(["", "\n", " -- end"])


def _show(value: object) -> str:
    """A spelled program by its text, a tree by its fully parenthesised text."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str):
        return repr(value[1])
    if isinstance(value, tuple):
        return parenthesised(value)
    return repr(value)


def _fuzz_examples() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in EXAMPLES]
    return [*texts, "def f(x: R, y: R) -> R = -x ** 2 / y - x -1.5 * (y - -2.0) ** -y",
            "def f(x: R ; dx: R) -> (R ; R) = let (y ; dy) = (x ; dx) in (y * 2.5 ; -1.0 ⊙ dy)",
            "def f(x: R) -> R = let y = x ×x iny\ndefg(z: R) -> R = -.5 ** 2 --1\n"]


@theorem("linear_ad.syntax.fast_parser_agrees", paper=YOLO, section="§2 (syntax)", label="derived",
         statement="the fast parser (regular-expression lexer, precedence climbing) and the reference "
                   "LALR parser read every generated program, in any spelling, to the same AST with the "
                   "same spans; on mutated and random texts they accept the same programs, or the fast "
                   "one hands the text over for a stated reason",
         given={"spelled": spellings(), "fuzzed": inputs(_fuzz_examples()), "cut": st.integers(0, 10**6)},
         show=_show)
def _(spelled: tuple[Program, str], fuzzed: str, cut: int) -> None:
    program, text = spelled
    parsed = agree(text)
    assert isinstance(parsed, Program), f"the fast parser hands over a printed program ({parsed})"
    assert parsed == program, "printing then parsing changed the program"
    agree(fuzzed)
    agree(text[:cut % (len(text) + 1)])  # (the program cut short anywhere, as a user is typing it)


# -- operators ---------------------------------------------------------------------------------

LEAVES = ["x", "y", "0", "2", "1.5", ".5", "-1.5", "-2", "3e-2"]
UNARY = ["neg", "sin"]
BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}


def operator_trees(depth: int = 4) -> st.SearchStrategy[Any]:
    """Expression trees over ``x``, ``y`` and literals (negative ones too) with every operator:
    ``(name, operand, …)`` or a leaf's text."""
    leaves = st.sampled_from(LEAVES)
    return st.recursive(leaves, lambda sub: st.one_of(
        st.tuples(st.sampled_from(UNARY), sub),
        st.tuples(st.sampled_from(sorted(BINARY)), sub, sub)), max_leaves=2 ** depth)


def parenthesised(tree: Any) -> str:
    """The tree written with every operation in parentheses: no precedence needed to read it."""
    if isinstance(tree, str):
        return f"({tree})" if tree.startswith("-") else tree
    if tree[0] == "neg":
        return f"(- {parenthesised(tree[1])})"
    if tree[0] == "sin":
        return f"sin({parenthesised(tree[1])})"
    return f"({parenthesised(tree[1])} {BINARY[tree[0]]} {parenthesised(tree[2])})"


def shape(e: Expr) -> Any:
    """An AST as a tree of the same form."""
    if isinstance(e, Var):
        return e.hint
    if isinstance(e, Zero):
        return "0"
    if isinstance(e, Lit):
        return e.text
    assert isinstance(e, Prim), type(e).__name__
    return (e.prim.name, *(shape(a) for a in (*e.args, *e.largs)))


def python_shape(node: ast.expr) -> Any:
    """Python's reading of the same text, in the same form."""
    ops = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, int | float)
        return float(node.value)
    if isinstance(node, ast.UnaryOp):
        assert isinstance(node.op, ast.USub)
        return ("neg", python_shape(node.operand))
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        return (node.func.id, *(python_shape(a) for a in node.args))
    assert isinstance(node, ast.BinOp)
    return (ops[type(node.op)], python_shape(node.left), python_shape(node.right))


def normal(tree: Any) -> Any:
    """A tree with numbers as floats and negative literals as negations (Python reads ``-1.5`` as
    ``-(1.5)``)."""
    if isinstance(tree, float) or tree in ("x", "y"):
        return tree
    if isinstance(tree, str):
        return ("neg", float(tree[1:])) if tree.startswith("-") else float(tree)
    return (tree[0], *(normal(t) for t in tree[1:]))


@theorem("linear_ad.syntax.operators_as_in_python", paper=YOLO, section="§2 (syntax)", label="derived",
         statement="- (unary and binary), /, ** and the other operators read as in Python (** groups "
                   "to the right and binds tighter than a unary minus on its left; * / above + -), and "
                   "the printer's minimal parentheses read back to the same program in ASCII and Unicode",
         given={"tree": operator_trees()}, show=_show)
def _(tree: Any) -> None:
    text = f"def f(x: R, y: R) -> R = {parenthesised(tree)}"
    program = agree(text)
    assert isinstance(program, Program)
    assert normal(shape(program.defs[0].body)) == normal(tree), "explicit parentheses were not obeyed"
    for unicode in (True, False):
        printed = show_def(program.defs[0], unicode=unicode, width=10**6)
        again = agree(printed)
        assert again == program, f"printed as {printed!r}, it reads back differently"
    expression = printed.split(" = ", 1)[1]
    python = normal(python_shape(ast.parse(expression, mode="eval").body))
    assert normal(shape(program.defs[0].body)) == python, f"Python reads {expression!r} otherwise"


def _sum_to_the_right(self: Any, env: Any, scope: Any) -> Any:
    """``a - b - c`` read as ``a - (b - c)``: the additive operators group to the right."""
    left, start, end, height = self.prod(env, scope)
    if self.kinds[self.i] not in ("+", "-", "(+)", "⊕"):
        return left, start, end, height
    kind = self.kinds[self.i]
    self.i += 1
    right, _, end, h = _sum_to_the_right(self, env, scope)
    return apply(self.operator(kind), (left, right), self.at(start, end)), start, end, \
        max(height, h) + 1


_VARIABLE = parse_fast._Parser.variable


def _variable_one_character(self: Any, i: int, env: Any) -> Any:
    """The fast parser's inline variable span covers only the first character of the name."""
    v = _VARIABLE(self, i, env)
    s: Any = v.span
    short = Span(s.source, s.start, s.start + 1, s.line, s.column, s.line, s.column + 1)
    object.__setattr__(v, "span", short)
    return v


class _ByNonlinear(dict[Any, Any]):
    """A cache of result types keyed by their non-linear part only."""

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(key[0], default)

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key[0], value)


_CURSOR_INIT = parse_fast._Parser.__init__


def _results_by_nonlinear(self: Any, *args: Any) -> None:
    _CURSOR_INIT(self, *args)
    self.results = _ByNonlinear()


register_mutants([
    Mutant("linear_ad.fast_parser_sum_right", "linear_ad",
           "the fast parser groups + and - to the right (a - b - c as a - (b - c))",
           lambda: patch(parse_fast._Parser, "sum", _sum_to_the_right), "linear_ad.syntax."),
    Mutant("linear_ad.fast_parser_variable_span", "linear_ad",
           "the fast parser's variables (read inline) span only the first character of their name",
           lambda: patch(parse_fast._Parser, "variable", _variable_one_character), "linear_ad.syntax."),
    Mutant("linear_ad.fast_parser_results_cached", "linear_ad",
           "the fast parser's cache of result types keys them by their non-linear part only",
           lambda: patch(parse_fast._Parser, "__init__", _results_by_nonlinear), "linear_ad.syntax."),
])
