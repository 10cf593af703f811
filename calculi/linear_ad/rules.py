"""The named rules of Linear A, declared once for rule coverage (``calculi.core.coverage``).

Names follow the reference notes (reference/linear_ad.md §1.3 and §2): the typing rules of the
judgement Γ ; Δ ⊢ e : (τ̄ ; σ̄), and the rules of J, U and T, one per construct and one per
primitive of the paper. The small-step semantics' rules are counted too (``→ call`` …). The
checker and the passes report each firing with ``fire``; the fast evaluator does not.

    ⊢ Let          the typing rule (Let)
    J(sin)         J(sin e) = let (v ; v̇) = J(e) in (sin v ; cos v ⊙ v̇)
    U(let) save    the free choice in unzipping a let: its value goes on the tape
    T(⊕)           T(ė1 ⊕ ė2, c) = let (; c1, c2) = dup(c) …
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from calculi.core import coverage
from calculi.linear_ad.primitives import ADD, COS, EXP, LADD, MUL, SCALE, SIN
from calculi.linear_ad.syntax import Primitive

CALCULUS = "linear_ad"

NOTATION: dict[Primitive, str] = {SIN: "sin", COS: "cos", EXP: "exp", ADD: "+", MUL: "×", LADD: "⊕",
                                  SCALE: "⊙"}
"""The paper's primitives, as the rules write them; other primitives (the backend's) fire no rule here."""

PRIM_TYPING: dict[Primitive, str] = {SIN: "⊢ Prim1", COS: "⊢ Prim1", EXP: "⊢ Prim1", ADD: "⊢ Prim2",
                                     MUL: "⊢ Prim2", LADD: "⊢ Add", SCALE: "⊢ Scale"}
"""The typing rule of each primitive of the paper: (Prim1) unary, (Prim2) binary, (Add) ⊕, (Scale) ⊙."""

NONLINEAR = (SIN, COS, EXP, ADD, MUL)
LINEAR = (LADD, SCALE)

TYPING = tuple(f"⊢ {r}" for r in (
    "Var", "LVar", "Lit", "Zero", "Ret", "Tup", "TupL", "Prim1", "Prim2", "Add", "Scale", "Dup", "Drop",
    "App", "Let", "Unpack", "UnpackL"))

JVP = ("J(x)", "J(r)", "J((x̄ ;))", "J(tup)", "J(let)", "J(unpack)", "J(f)", "J(drop)", "J(share)",
       *(f"J({NOTATION[p]})" for p in NONLINEAR))
"""``J(share)`` is the prototype's ``splitTangents``: a dup for a variable that two sub-terms use."""

UNZIP = ("U(x)", "U(ẏ)", "U(r)", "U(0)", "U((x̄ ; ẏ̄))", "U(tup)", "U(tupL)", "U(dup)", "U(drop)", "U(f)",
         "U(let)", "U(let) save", "U(let) recompute", "U(unpack)", "U(unpackL)",
         *(f"U({NOTATION[p]})" for p in (*NONLINEAR, *LINEAR)))

TRANSPOSE = ("T(ẏ)", "T((; ẏ̄))", "T(tupL)", "T(0)", "T(dup)", "T(drop)", "T(f)", "T(let)", "T(unpackL)",
             "T(unpack)", "T(replay)", *(f"T({NOTATION[p]})" for p in LINEAR))
"""``T(unpack)`` and ``T(replay)``: non-linear unpacks and lets of linear code, replayed forward."""

STEPS = tuple(f"→ {r}" for r in (
    "call", "let", "unpack", "unpackL", "tup", "tupL", "0", "dup", "drop",
    "prim:sin", "prim:cos", "prim:exp", "prim:+", "prim:×", "⊕", "⊙"))
"""The small-step semantics' rules (``semantics.py``), each ``→ name``."""

RULES = coverage.declare(CALCULUS, (*TYPING, *JVP, *UNZIP, *TRANSPOSE, *STEPS))


fire: Callable[[str], None] = partial(coverage.fired, CALCULUS)
"""``fire(rule)``: report that ``rule`` fired (a no-op unless a coverage recording is open)."""


def fire_prim(family: str, p: Primitive) -> None:
    """Report ``family(p)`` (``J(sin)``, ``T(⊕)`` …) for a primitive of the paper."""
    name = NOTATION.get(p)
    if name is not None:
        coverage.fired(CALCULUS, f"{family}({name})")
