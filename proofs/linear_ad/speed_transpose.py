"""Linear A's fast paths in the transpose stage: theorems against their oracles, and their mutants.

T replays the non-linear bindings of the linear code forward before it runs the linear code
backwards. Its shortcut replays the top block's only and gives up (``_Hoist``) at the first block
nested in the linear code that binds non-linear names; ``hoist`` then enters every such block, and
the backward pass puts back each block's names when it reaches it (blocks that end give their names
back, and a later block or binding takes them). The generators write no such blocks: ``nested``
puts each scaling of a generated linear program in one (a let of its factor, or an unpack of a
tuple), in right-hand sides, in the arguments of ⊕ and lneg and under dup, every block's names
taking the same numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

from calculi.core.mutants import Mutant, patch, patch_entry
from calculi.core.syntax import Source
from calculi.linear_ad import transpose_replay
from calculi.linear_ad.ad import stages
from calculi.linear_ad.check import Typing, check_program
from calculi.linear_ad.jvp import jvp_name
from calculi.linear_ad.laws import dot
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.pretty import show_program
from calculi.linear_ad.primitives import FRACTION, MUL, SCALE
from calculi.linear_ad.strategies import show
from calculi.linear_ad.syntax import (
    Binder,
    Binding,
    Block,
    Drop,
    Dup,
    Expr,
    FuncDef,
    LetB,
    Lit,
    LVar,
    Prim,
    Program,
    Tup,
    UnpackB,
    Var,
    block,
    var_of,
)
from calculi.linear_ad.transpose import (
    RULES,
    _Hoist,
    _Transpose,
    is_linear_function,
    transpose_name,
    transpose_program,
)
from calculi.linear_ad.unzip import POLICIES, lin_name
from proofs.linear_ad.fixtures import LINEAR, NONLIN, YOLO, constants, run
from proofs.linear_ad.passes import assert_canonical
from proofs.registry import register_mutants, theorem

NESTED = """def l(x : R, t : (R, R) ; dy : R) -> (; R) =
  let (; dq) = (let w = x * 3.0 in let (a, b) = unpack t in scale(w * a * b ; dy)) in
  let (; dr) = scale(x ; (let u = x + 2.0 in scale(u ; dq))) in
  let (; ds, dt) = dup((let v = x * x in scale(v ; dr))) in
  let (; du) = ladd(; ds, lneg(; (let z = x + x in scale(z ; dt)))) in
  (; du)
"""
"""Blocks nested in a right-hand side, in the argument of a scaling, under dup and under lneg in a
summand; sibling blocks bind the same names (``w`` and ``dq``, ``a`` and ``u``, …)."""
NESTED_POINT = [Fraction(5, 7), (Fraction(2, 3), Fraction(-3, 4))]


def same(a: FuncDef, b: FuncDef) -> bool:
    """Equal, printed alike (hints), and placed alike (spans)."""
    return a == b and show_program(Program((a,))) == show_program(Program((b,))) and spans(a) == spans(b)


def spans(node: object) -> list[object]:
    """The span of every node under ``node``, in order."""
    out: list[object] = []
    stack = [node]
    while stack:
        x = stack.pop()
        if isinstance(x, tuple):
            stack.extend(reversed(x))
        elif dataclasses.is_dataclass(x) and not isinstance(x, type):
            out.append(getattr(x, "span", None))
            stack.extend(reversed([getattr(x, f.name) for f in dataclasses.fields(x)]))
    return out


def shortcut_agrees(typing: Typing) -> int:
    """Of every linear function of ``typing``, T's shortcut is T with ``hoist`` or gives up: how many
    gave up."""
    gave_up = 0
    for d in typing.program.defs:
        if not is_linear_function(d) or d.result.nonlin:
            continue
        reference = _Transpose(typing).transposed(d, True)
        try:
            fast = _Transpose(typing).transposed(d, False)
        except _Hoist:
            gave_up += 1
            continue
        assert same(fast, reference), f"T's shortcut differs from hoisting on {d.name}"
    return gave_up


@theorem("linear_ad.transpose.replay_shortcut", paper=YOLO, section="§2 (T)", label="derived",
         statement="T replaying the top block's non-linear bindings only (the shortcut) writes what T "
                   "hoisting every nested block's writes (names, printed hints, spans), for the linear "
                   "halves U(J e) under every policy and for T of them; none gives up",
         given=NONLIN, show=show)
def _(program: Program) -> None:
    typing = check_program(program)
    name = program.defs[-1].name
    for policy in POLICIES.values():
        unzipped = stages(typing, name, policy).unzipped
        assert shortcut_agrees(unzipped) == 0
        transposed = check_program(transpose_program(unzipped, lin_name(jvp_name(name))))
        assert shortcut_agrees(transposed) == 0


def bound_names(node: object) -> Iterator[int]:
    """The name of every binder under ``node``."""
    stack = [node]
    while stack:
        x = stack.pop()
        if isinstance(x, Binder):
            yield x.name
        elif isinstance(x, tuple):
            stack.extend(x)
        elif dataclasses.is_dataclass(x) and not isinstance(x, type):
            stack.extend(getattr(x, f.name) for f in dataclasses.fields(x))


class _Nest:
    """One function with each scaling of its linear code put in a block nested where it stands."""

    def __init__(self, q: Var) -> None:
        self.q = q
        self.blocks = 0

    def expr(self, e: Expr, k: int) -> Expr:
        """``e`` with its scalings nested, the blocks' names from ``k`` on."""
        if type(e) is Prim and e.prim is SCALE:
            self.blocks += 1
            inner = self.expr(e.largs[0], k + 2)
            if self.blocks % 2:  # let w = s in w ⊙ ė
                w = Binder(k, "w")
                return Block((LetB((w,), (), e.args[0]),), Prim(SCALE, (var_of(w),), (inner,)))
            a, b = Binder(k, "a"), Binder(k + 1, "b")  # let (a, b) = unpack q in s × (a × b) ⊙ ė
            factor = Prim(MUL, (e.args[0], Prim(MUL, (var_of(a), var_of(b)))))
            return Block((UnpackB((a, b), self.q),), Prim(SCALE, (factor,), (inner,)))
        if type(e) is Prim:
            return Prim(e.prim, e.args, tuple(self.expr(a, k) for a in e.largs), e.params)
        if type(e) is Dup:
            return Dup(self.expr(Prim(SCALE, (Lit("2.0"),), (e.arg,)), k))
        return e


def nested(program: Program) -> Program:
    """``program`` with the scalings of its linear lets in nested blocks (see the module's note):
    ``let r = 1.5 in let q = tup(r, r)`` first and ``drop(q)`` last, past every name of the function;
    each linear let's blocks take names from one past those."""
    defs = []
    for d in program.defs:
        top = max(bound_names(d), default=-1)
        r, q = Binder(top + 1, "r"), Binder(top + 2, "q")
        nest = _Nest(var_of(q))
        body = d.body
        bindings, result = (body.bindings, body.result) if isinstance(body, Block) else ((), body)
        out: list[Binding] = [LetB((r,), (), Lit("1.5")), LetB((q,), (), Tup((var_of(r), var_of(r))))]
        for b in bindings:
            if isinstance(b, LetB) and b.lbinders and not b.binders and isinstance(b.rhs, Prim | Dup):
                b = LetB((), b.lbinders, nest.expr(b.rhs, top + 3))
            out.append(b)
        out.append(LetB((), (), Drop(var_of(q))))
        defs.append(dataclasses.replace(d, body=block(out, result)))
    return Program(tuple(defs))


def dot_product_holds(typing: Typing, name: str, gamma: list[Any]) -> None:
    """⟨c, L δ⟩ = ⟨Lᵀ c, δ⟩ exactly, for ``name`` and its transpose."""
    t = check_program(transpose_program(typing, name))
    assert_canonical(t.program)
    d = typing.signatures[name]
    delta = [Fraction(3 - 2 * k, 5) for k in range(len(d.lparams))]
    c = [Fraction(k + 2, 3) for k in range(len(d.result.lin))]
    out = run(typing, name, gamma, delta, FRACTION)[1]
    back = run(t, transpose_name(name), gamma, c, FRACTION)[1]
    assert dot(c, out) == dot(back, delta), f"⟨c, Lδ⟩ = {dot(c, out)} ≠ ⟨Lᵀc, δ⟩ = {dot(back, delta)}"


@theorem("linear_ad.transpose.nested_blocks", paper=YOLO, section="P8 (nested blocks)", label="derived",
         statement="for linear code with non-linear lets and unpacks in blocks nested in right-hand sides, "
                   "in arguments of linear primitives and under dup, sibling and later blocks binding the "
                   "same names: ⊢ T(e), T(e) has canonical names and ⟨c, L δ⟩ = ⟨Lᵀ c, δ⟩ exactly; T's "
                   "shortcut gives up on every function with such a block and agrees with hoisting on "
                   "the others",
         given=LINEAR, show=show)
def _(program: Program) -> None:
    typing = check_program(nested(program))
    name = program.defs[-1].name
    assert shortcut_agrees(check_program(program)) == 0
    assert shortcut_agrees(typing) == sum(_scales(d) > 0 for d in program.defs)
    dot_product_holds(typing, name, constants(len(typing.signatures[name].params)))
    written = check_program(parse_program(Source(NESTED)))
    assert shortcut_agrees(written) == 1
    dot_product_holds(written, "l", NESTED_POINT)


def _scales(d: FuncDef) -> int:
    """How many blocks ``nested`` puts in ``d``: one a scaling or dup of its linear lets."""
    count = 0
    stack: list[Expr] = [b.rhs for b in (d.body.bindings if isinstance(d.body, Block) else ())
                         if isinstance(b, LetB) and b.lbinders and not b.binders]
    while stack:
        e = stack.pop()
        if isinstance(e, Prim):
            count += e.prim is SCALE
            stack.extend(e.largs)
        elif isinstance(e, Dup):
            count += 1
            stack.append(e.arg)
    return count


# -- mutants ---------------------------------------------------------------------------------------

_BLOCK = _Transpose.block


def _block_never_gives_up(self: _Transpose, e: Expr, cts: list[LVar]) -> None:
    """The shortcut transposes a nested block without looking for non-linear bindings."""
    assert isinstance(e, Block)
    if self.deep:
        _BLOCK(self, e, cts)
    else:
        self.walk(e, cts)


def _block_sees_lets_only(self: _Transpose, e: Expr, cts: list[LVar]) -> None:
    """The shortcut gives up at a nested block's non-linear lets but not at its unpacks."""
    assert isinstance(e, Block)
    if self.deep or any(isinstance(b, LetB) and b.binders for b in e.bindings):
        _BLOCK(self, e, cts)
    else:
        self.walk(e, cts)


def _block_keeps_names(self: _Transpose, e: Expr, cts: list[LVar]) -> None:
    """The backward pass does not put back a nested block's names (the block replayed last that
    took a number keeps it)."""
    assert isinstance(e, Block)
    if self.deep:
        self.walk(e, cts)
    else:
        _BLOCK(self, e, cts)


register_mutants([
    Mutant("linear_ad.transpose_shortcut_never_gives_up", "linear_ad",
           "T's shortcut transposes a block nested in linear code without looking for non-linear bindings",
           lambda: patch_entry(RULES, Block, _block_never_gives_up), theorems="linear_ad.transpose"),
    Mutant("linear_ad.transpose_shortcut_misses_unpacks", "linear_ad",
           "T's shortcut gives up at a nested block's non-linear lets but not at its unpacks",
           lambda: patch_entry(RULES, Block, _block_sees_lets_only), theorems="linear_ad.transpose"),
    Mutant("linear_ad.transpose_nested_names_kept", "linear_ad",
           "T's backward pass does not put back a nested block's names (the block replayed last that took "
           "a number keeps it)",
           lambda: patch_entry(RULES, Block, _block_keeps_names), theorems="linear_ad.transpose"),
    Mutant("linear_ad.transpose_hoist_skips_applications", "linear_ad",
           "T's hoisting does not enter a linear application nested in a linear primitive's arguments",
           lambda: patch(transpose_replay, "NESTING", (Block, Dup)), theorems="linear_ad.transpose"),
    Mutant("linear_ad.transpose_hoist_skips_dups", "linear_ad",
           "T's hoisting does not enter the argument of a dup",
           lambda: patch(transpose_replay, "NESTING", (Block, Prim)), theorems="linear_ad.transpose"),
])
