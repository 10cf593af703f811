"""Linear A's fast paths in the check stage: theorems against their oracles, and their mutants.

The fast checker builds a tuple's type with its slots set directly (``tuple_type``), records no
variable of type ℝ and no let (``Tables``), shares the result types ``(; ẏ)`` and ``(y ; ẏ)`` of ℝ,
and types a result with one linear variable without the general loop. The oracles: the dataclass
``TupleType`` (whose sizes ``==`` does not compare) and the reference checker
(``linear_ad.types.fast_checker_agrees``, which compares every table of the ``Typing``).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from calculi.core.mutants import Mutant, patch, patch_entry, patch_source, rewritten
from calculi.core.syntax import Source
from calculi.linear_ad import check_fast
from calculi.linear_ad.check import check_program
from calculi.linear_ad.check_fast import FAST, FastChecker
from calculi.linear_ad.check_rules import USES
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.strategies import linear_programs, nonlinear_programs, show
from calculi.linear_ad.syntax import Dup, LVar, Prim, Program, Ret
from calculi.linear_ad.types import REAL, Mixed, TupleType, Type
from proofs.linear_ad.fixtures import YOLO
from proofs.linear_ad.rejects import variants, verdict
from proofs.registry import register_mutants, theorem

SHAPES = [
    # accepted: the shapes of J, U and T
    "def g(t: (R, R) ; c: R) -> ( ; R) = let (x, y) = unpack t in let (; c1, c2) = dup(c) in "
    "let (; c3) = x *. c1 in let (; c4) = y *. c2 in let (; c5) = c3 (+) c4 in (; c5)",
    "def g(x: R) -> (R, (R, R) ; ) = let y = sin(x) in let y1 = y * x in let t = tup(x, y) in (y1, t ;)",
    "def g(x: R ; dx: R) -> (R ; R) = let y = sin(x) in let (; dy) = cos(x) *. dx in (y ; dy)\n"
    "def f(x: R ; dx: R) -> (R ; R) = let (c ; dc) = g(x ; dx) in (c ; dc)",
    "def g(x: R) -> (R, (R, R) ; ) = let t = tup(x, x) in (x, t ;)\n"
    "def f(x: R) -> (R, (R, R) ; ) = let (y, t ;) = g(x) in (y, t ;)",
    "def g(t: ((R,), R) ; ) -> (R ; ) = let (u, x) = unpack t in let (v) = unpack u in v * x",
    "def g(x: R ; a: (R, R)) -> ( ; (R, R)) = let (; b, c) = dup(a) in let (; d) = x *. b in "
    "let (; e) = d (+) c in (; e)",
    # rejected in a shortcut
    "def g(t: (R, R) ; c: R) -> ( ; R) = let (x, y, z) = unpack t in (; c)",
    "def g(x: R ; c: R) -> ( ; R) = let (y) = unpack x in (; c)",
    "def g(t: (R, R) ; c: R) -> ( ; R) = let (x, y) = unpack t in (; c)",
    "def g(; c: R) -> ( ; R, R) = let (; c1, c2) = dup(c) in (; c1, c1)",
    "def g(; c: R) -> ( ; R) = let (; c1, c2) = dup(c) in (; c1)",
    "def g(; c: R) -> ( ; R) = let (; c1) = c in let (; c2) = c1 in (; c1)",
    "def g(x: R ; c: R) -> (R ; R) = let (; c1) = c in (x ; c)",
    "def g(x: R ; c: R) -> (R ; R) = (x ; c)\n"
    "def f(x: R ; c: R) -> (R ; R) = let (y, z ;) = g(x ; c) in (y ; c)",
    "def g(x: R ; c: R) -> (R ; R) = (x ; c)\n"
    "def f(x: R ; c: R) -> (R ; R) = let (y ; d) = g(x ; c) in (y ; c)",
    "def g(x: R, y: R) -> ((R, R) ; ) = let t = tup(x, y, x) in (t ;)",
    "def g(x: R) -> (R ; ) = let y = x in x",
]
"""Programs of the shapes the passes write, accepted (the first six) or rejected in a shortcut."""


@theorem("linear_ad.types.fast_shortcuts_agree", paper=YOLO, section="§3 (typing)", label="derived",
         statement="on programs of the shapes J, U and T write (a dup, an unpack, a one-variable linear "
                   "result, a tuple, lets of several names), and on each of them wrong in one of those "
                   "places, the fast checker fills the reference checker's Typing or rejects with its "
                   "reason, rule and place")
def _() -> None:
    for text in SHAPES:
        program = parse_program(Source(text))
        fast, reference = verdict(program, False), verdict(program, True)
        assert fast == reference, f"fast {fast[:4]} ≠ reference {reference[:4]}\n{text}"


def types(depth: int = 3) -> st.SearchStrategy[Type]:
    """ℝ and tuples of them, nested up to ``depth`` levels (the empty tuple included)."""
    if depth == 0:
        return st.just(REAL)
    tuples = st.lists(types(depth - 1), max_size=4).map(lambda ts: TupleType(tuple(ts)))
    return st.one_of(st.just(REAL), tuples)


def sizes(t: Type) -> object:
    """``t`` with the sizes of each of its tuples: what ``==`` on types leaves out."""
    if isinstance(t, TupleType):
        return t.scalars, t.nodes, [sizes(u) for u in t.items]
    return t


def mixed_sizes(m: Mixed) -> object:
    return [sizes(t) for t in m.nonlin], [sizes(t) for t in m.lin]


@theorem("linear_ad.types.fast_tuple_sizes", paper=YOLO, section="§3 (typing)", label="derived",
         statement="the tuple types the fast checker builds have the sizes and node counts the TupleType "
                   "dataclass computes: directly on generated item types, and in the Typing of the source, "
                   "J, U and T of generated programs, each perturbed as in fast_checker_agrees, against the "
                   "reference checker's",
         given={"items": st.lists(types(), max_size=5), "program": nonlinear_programs(),
                "linear": linear_programs(),
                "picks": st.lists(st.integers(0, 2**16), min_size=45, max_size=45)}, show=show)
def _(items: list[Type], program: Program, linear: Program, picks: list[int]) -> None:
    built, reference = check_fast.tuple_type(tuple(items)), TupleType(tuple(items))
    assert type(built) is TupleType and sizes(built) == sizes(reference), f"{built}: {sizes(built)}"
    for q in variants(program, linear, picks):
        try:
            fast, slow = check_program(q), check_program(q, reference=True)
        except Exception:  # (rejections are compared by fast_checker_agrees)
            continue
        for key, t in slow.expr_types.items():
            assert mixed_sizes(fast.expr_types[key]) == mixed_sizes(t), f"{t}\n{show(q)}"


def _nested_as_one(items: tuple[Type, ...]) -> TupleType:
    """``tuple_type`` counting a nested tuple as one scalar."""
    t = _correct_tuple_type(items)
    object.__setattr__(t, "scalars", sum(1 for _ in items))
    return t


_correct_tuple_type = check_fast.tuple_type


def _result_used_twice(self: FastChecker, e: Ret) -> Mixed:
    """The fast checker's one-variable linear result: a linear variable used before goes unnoticed."""
    if not e.vars and len(e.lvars) == 1 and type(e.lvars[0]) is LVar:
        slot: list[Any] | None = self.env.get(e.lvars[0].name)
        if slot is not None:
            slot[USES] = 0
    return _correct_ret(self, e)


_correct_ret = FAST[Ret]

register_mutants([
    Mutant("linear_ad.check_fast_tuple_sizes", "linear_ad",
           "the fast checker's tuple types count a nested tuple as one scalar",
           lambda: patch(check_fast, "tuple_type", _nested_as_one), theorems="linear_ad.types"),
    Mutant("linear_ad.check_fast_result_used_twice", "linear_ad",
           "the fast checker accepts a result (; ẏ) whose linear variable was used before",
           lambda: patch_entry(FAST, Ret, _result_used_twice), theorems="linear_ad.types"),
    Mutant("linear_ad.check_fast_tuple_larg_unrecorded", "linear_ad",
           "the fast checker leaves out a primitive's tuple-typed linear argument, which then reads as ℝ",
           lambda: patch_entry(FAST, Prim, rewritten(FastChecker.prim, "types[id(a)] = new_mixed((), (ty,))",
                                                     "None")),
           theorems="linear_ad.types"),
    Mutant("linear_ad.check_fast_dup_tuple_unrecorded", "linear_ad",
           "the fast checker leaves out dup's tuple-typed argument, which then reads as ℝ",
           lambda: patch_entry(FAST, Dup, rewritten(FastChecker.dup,
                                                    "self.types[id(a)] = new_mixed((), (ty,))", "None")),
           theorems="linear_ad.types"),
    Mutant("linear_ad.check_fast_one_table", "linear_ad",
           "the fast checker records every function's types in the first function's tables",
           lambda: patch_source(FastChecker, "definitions", "self.table = Tables()",
                                "self.table = tables.get(defs[0].name) or Tables()"),
           theorems="linear_ad.types"),
])
