"""The named rules of Linear A, declared once for rule coverage (``calculi.core.coverage``).

Names follow the reference notes (reference/linear_ad.md §1.3 and §2): the typing rules of the
judgement Γ ; Δ ⊢ e : (τ̄ ; σ̄), and the rules of J, U and T, one per construct and one per
primitive on ℝ (the paper's and the language's, read from ``primitives.SCALAR``). The small-step
semantics' rules are counted too (``→ call`` …). The checker and the passes report each firing with
``fire``; the fast evaluator does not.

    ⊢ Let          the typing rule (Let)
    J(sin)         J(sin e) = let (v ; v̇) = J(e) in (sin v ; cos v ⊙ v̇)
    U(let) save    the free choice in unzipping a let: its value goes on the tape
    T(⊕)           T(ė1 ⊕ ė2, c) = let (; c1, c2) = dup(c) …
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from calculi.core import coverage
from calculi.linear_ad.primitives import ADD, COS, EXP, LADD, LNEG, MUL, SCALE, SIN, scalar_primitives
from calculi.linear_ad.syntax import Primitive

CALCULUS = "linear_ad"

SCALAR = scalar_primitives()
"""The primitives on ℝ (the paper's and the language's); the backend's array primitives fire no rule here."""

NOTATION: dict[Primitive, str] = {p: p.name for p in SCALAR} | {
    SIN: "sin", COS: "cos", EXP: "exp", ADD: "+", MUL: "×", LADD: "⊕", SCALE: "⊙"}
"""Each primitive on ℝ as the rules write it: ``J(+)``, ``J(log)``, ``T(⊕)``, ``T(lneg)`` …"""

PRIM_TYPING: dict[Primitive, str] = {LADD: "⊢ Add", SCALE: "⊢ Scale", LNEG: "⊢ LNeg"} | {
    p: f"⊢ Prim{p.arity}" for p in SCALAR if not p.linear}
"""The typing rule of each primitive: (Prim1) unary, (Prim2) binary, (Add) ⊕, (Scale) ⊙, (LNeg)."""

NONLINEAR = tuple(p for p in SCALAR if not p.linear)
LINEAR = tuple(p for p in SCALAR if p.linear)

TYPING = tuple(f"⊢ {r}" for r in (
    "Var", "LVar", "Lit", "Zero", "Ret", "Tup", "TupL", "Prim1", "Prim2", "Add", "Scale", "LNeg", "Dup",
    "Drop", "App", "Let", "Unpack", "UnpackL"))

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
    "call", "let", "unpack", "unpackL", "tup", "tupL", "0", "dup", "drop", "prim:+", "prim:×", "⊕", "⊙",
    *(f"prim:{p.name}" for p in SCALAR if p not in (ADD, MUL, LADD, SCALE))))
"""The small-step semantics' rules (``semantics.py``), each ``→ name``."""

RULES = coverage.declare(CALCULUS, (*TYPING, *JVP, *UNZIP, *TRANSPOSE, *STEPS))


fire: Callable[[str], None] = partial(coverage.fired, CALCULUS)
"""``fire(rule)``: report that ``rule`` fired (a no-op unless a coverage recording is open)."""


def fire_prim(family: str, p: Primitive) -> None:
    """Report ``family(p)`` (``J(sin)``, ``T(⊕)``, ``J(log)`` …) for a primitive on ℝ."""
    name = NOTATION.get(p)
    if name is not None:
        coverage.fired(CALCULUS, f"{family}({name})")
