"""Fp, the typed λp (ICFP'24 §6): its theorems on generated well-typed programs, the typed
examples against the untyped golden values, and the suite's own checks (the generator and the
checker agree; rows are multisets)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from hypothesis import assume
from hypothesis import strategies as st

from calculi.core import coverage
from calculi.core.errors import FuelExhausted, TypeCheckError
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.lambda_p import fp_syntax as f
from calculi.lambda_p import fp_types as ty
from calculi.lambda_p import syntax as lp
from calculi.lambda_p.fp_check import infer
from calculi.lambda_p.fp_erase import erase
from calculi.lambda_p.fp_examples import EXAMPLES, EXPECTED
from calculi.lambda_p.fp_parse import parse_expr
from calculi.lambda_p.fp_pretty import show, show_row, show_type
from calculi.lambda_p.fp_program import FpProgram
from calculi.lambda_p.fp_semantics import Machine, Unhandled
from calculi.lambda_p.fp_strategies import LABELS, context, programs, show_program
from calculi.lambda_p.run import run_term, show_value
from calculi.lambda_p.semantics import Machine as LambdaP
from calculi.lambda_p.subst import canonical
from proofs.lambda_p.fixtures import ICFP24
from proofs.quality import distribution, every_rule_fires, sample
from proofs.registry import theorem

Program = tuple[f.Term, f.Type, f.Row]
FUEL = 5_000
RUN_DEPTH = 3
"""The depth of the programs the theorems about runs draw (each step is checked whole)."""
MAX_STEPS = 60
"""The steps of a run whose every step a theorem checks (a longer run: its first steps)."""
SECTION = "§6"


def run(program: Program, steps: int = MAX_STEPS) -> Iterator[tuple[str, f.Term, f.Term]]:
    """The typed steps (rule, e, e') to a value, at most ``steps`` of them; a program out of fuel
    is not an example."""
    term, _, row = program
    machine, fuel = Machine(context()), Fuel(FUEL)
    try:
        while steps > 0 and (nxt := machine.step(term, row, fuel)) is not None:
            steps -= 1
            fuel.tick(None)
            yield nxt.rule, term, nxt.term
            term = nxt.term
    except FuelExhausted:
        assume(False)
    except Unhandled:  # E[perform op v], op unhandled: a final state (Lemma 6.4), checked there
        return


def subterms(t: f.Term) -> Iterator[f.Term]:
    yield t
    for slot in getattr(type(t), "__slots__", ()):
        child = getattr(t, slot)
        for c in child if isinstance(child, tuple) else (child,):
            if isinstance(c, tuple):  # handler clauses
                yield from subterms(c[1])
            elif isinstance(c, f.Handler):
                for _, clause in c.clauses:
                    yield from subterms(clause)
            elif isinstance(c, f.Lit | f.Var | f.Global | f.Lam | f.TAbs | f.Arr | f.Con | f.Perform | f.App
                            | f.TyApp | f.Coerce | f.For | f.Index | f.Handle | f.Let | f.If | f.Prim):
                yield from subterms(c)


@theorem("lambda_p.fp.checker_accepts_generated", paper=ICFP24, section=SECTION, label="suite-quality",
         statement="every generated Fp program is accepted by the checker, at the type and row it was drawn "
         "for",
         given={"program": programs()}, show=show_program)
def _accepts(program: Program) -> None:
    term, goal, row = program
    got = infer(context(), term, row)
    assert ty.equal(got, goal), f"drawn for {show_type(goal)}, checked at {show_type(got)}"


@theorem("lambda_p.fp.round_trip", paper=ICFP24, section="Fig. 2", label="derived",
         statement="printing an Fp program and reading it back gives the same program",
         given={"program": programs()}, show=show_program)
def _round_trip(program: Program) -> None:
    term = program[0]
    assert parse_expr(show(term)) == term, show(parse_expr(show(term)))


@theorem("lambda_p.fp.lemma_6_1", paper=ICFP24, section="§6 Lemma 6.1",
         statement="the erasure of an Fp value is a λp value (every value inside a program and inside its "
         "result)",
         given={"program": programs(depth=RUN_DEPTH)}, show=show_program)
def _lemma_6_1(program: Program) -> None:
    last = program[0]
    for _, _, after in run(program):
        last = after
    for term in (program[0], last):
        for sub in subterms(term):
            if f.is_value(sub):
                assert lp.is_value(erase(sub)), f"⟦{show(sub)}⟧ is not a value"


@theorem("lambda_p.fp.theorem_6_2", paper=ICFP24, section="§6 Theorem 6.2",
         statement="semantics preservation: e1 ↦ e2 in Fp gives ⟦e1⟧ ↦ ⟦e2⟧ in λp, or ⟦e1⟧ = ⟦e2⟧",
         given={"program": programs(depth=RUN_DEPTH)}, show=show_program)
def _theorem_6_2(program: Program) -> None:
    untyped = LambdaP()
    for rule, before, after in run(program):
        e1, e2 = erase(before), erase(after)
        if e1 == e2:
            continue
        stepped = untyped.step(e1, Fuel(FUEL))
        assert stepped is not None and canonical(stepped.term) == e2, (
            f"typed ({rule}) from {show(before)}: λp gives {stepped and stepped.rule}")


@theorem("lambda_p.fp.theorem_6_3", paper=ICFP24, section="§6 Theorem 6.3",
         statement="type preservation: • ⊢ e : τ | ε and e ↦ e' give • ⊢ e' : τ | ε",
         given={"program": programs(depth=RUN_DEPTH)}, show=show_program)
def _theorem_6_3(program: Program) -> None:
    _, goal, row = program
    for rule, before, after in run(program):
        try:
            got = infer(context(), after, row)
        except TypeCheckError as err:
            raise AssertionError(f"after ({rule}) from {show(before)}: {err.headline()}") from None
        assert ty.equal(got, goal), f"after ({rule}): {show_type(got)}, not {show_type(goal)}"


@theorem("lambda_p.fp.lemma_6_4", paper=ICFP24, section="§6 Lemma 6.4",
         statement="progress with effects: • ⊢ e : τ | ε gives a value, a step, or E[perform op v] with "
         "op ∉ bop(E) "
         "(op a label of ε); a loop in a pure context steps by (parallel)",
         given={"program": programs(row=None, depth=RUN_DEPTH)}, show=show_program)
def _lemma_6_4(program: Program) -> None:
    term, _, row = program
    machine, fuel = Machine(context()), Fuel(FUEL)
    try:
        while (nxt := machine.step(term, row, fuel)) is not None:
            fuel.tick(None)
            term = nxt.term
    except Unhandled as err:
        stuck = err.op
        assert stuck in row.labels, f"stuck at {stuck}, not a label of {show_row(row)}"
    except FuelExhausted:
        assume(False)


@theorem("lambda_p.fp.theorem_6_5", paper=ICFP24, section="§6 Theorem 6.5",
         statement="progress: • ⊢ e : τ | ⟨⟩ gives a value or a step (every run ends in a value of type τ)",
         given={"program": programs(row=f.PURE, depth=RUN_DEPTH)}, show=show_program)
def _theorem_6_5(program: Program) -> None:
    last = program[0]
    for _, _, after in run(program, FUEL):
        last = after
    assert f.is_value(last), f"no step from the non-value {show(last)}"
    assert ty.equal(infer(context(), last, f.PURE), program[1])


@theorem("lambda_p.fp.erasure_runs_alike", paper=ICFP24, section="§6 Theorem 6.2, end to end",
         label="derived",
         statement="the value of a typed run, erased, is what λp's fast evaluator gives for the erased "
         "program",
         given={"program": programs(row=f.PURE, depth=RUN_DEPTH)}, show=show_program)
def _erasure_runs_alike(program: Program) -> None:
    last = program[0]
    for _, _, after in run(program, FUEL):
        last = after
    untyped = show_value(run_term(erase(program[0]), Fuel(FUEL * 10)))
    assert show_value(erase(last)) == untyped, f"typed {show(last)}, λp {untyped}"


@st.composite
def row_pairs(draw: st.DrawFn) -> tuple[f.Row, f.Row]:
    labels = st.lists(st.sampled_from(LABELS[:3]), max_size=3)
    first = draw(labels)
    second = draw(st.one_of(labels, st.permutations(first), st.just(first + first[:1])))
    return f.Row(tuple(first)), f.Row(tuple(second))


@theorem("lambda_p.fp.rows.multiset", paper=ICFP24, section="§6 row equivalence", label="derived",
         statement="a function of row ε1 applies in a context of row ε2 exactly when ε1 and ε2 are the same "
         "labels reordered (repeats count: ⟨l | ⟨l | ε⟩⟩ is not ⟨l | ε⟩)",
         given={"rows": row_pairs()}, show=repr)
def _rows(rows: tuple[f.Row, f.Row]) -> None:
    r1, r2 = rows
    term = f.App(f.Lam("u", f.UNIT, r1, f.Lit(0)), f.Con("Tuple"))
    try:
        infer(context(), term, r2)
        accepted = True
    except TypeCheckError:
        accepted = False
    same = Counter(r1.labels) == Counter(r2.labels)
    assert accepted == same, f"{show_row(r1)} in {show_row(r2)}: accepted {accepted}"


@theorem("lambda_p.fp.examples", paper=ICFP24, section="§5 / App. A",
         statement="the typed handlers (state, accum, reader, weak exceptions, amb, PRNG) check, and their "
         "examples, erased, give the untyped golden values")
def _examples() -> None:
    program = FpProgram.with_prelude()
    for name, text in EXAMPLES.items():
        typed = program.add(Source(text, name))
        assert typed is not None and typed[2] == f.PURE, name
        value = show_value(run_term(program.erase(typed[0]), Fuel()))
        assert value == EXPECTED[name], f"{name}: {value}"


def _exercise() -> None:
    for program in sample(programs(), 40, seed=3):
        infer(context(), program[0], program[2])
        for _ in run(program):
            pass
    program = FpProgram.with_prelude()
    program.add(Source("def inc = \\(x:Int). x + 1"))
    typed = program.add(Source("inc 1"))
    assert typed is not None
    Machine(program.ctx).evaluate(typed[0], f.PURE, Fuel(FUEL))


every_rule_fires("fp", ICFP24, "§6 Fig. 2", _exercise)


def _handles(term: f.Term) -> list[f.Handle]:
    return [t for t in subterms(term) if isinstance(t, f.Handle)]


def _nested(term: f.Term) -> bool:
    return any(_handles(h.body) for h in _handles(term))


distribution("lambda_p", "Fp programs", programs(), {
    "has a handler": lambda p: bool(_handles(p[0])),
    "performs an operation": lambda p: any(isinstance(t, f.Perform) for t in subterms(p[0])),
    "has a loop": lambda p: any(isinstance(t, f.For) for t in subterms(p[0])),
    "nested handlers": lambda p: _nested(p[0]),
    "a row variable": lambda p: any(isinstance(t, f.TAbs) and isinstance(t.kind, f.KEff)
                                    for t in subterms(p[0])),
    "a parameterized handler (parameter not unit)": lambda p: any(
        h.param_ty != f.UNIT for h in _handles(p[0])),
    "unhandled labels in its row": lambda p: bool(p[2].labels),
})
assert coverage.RULES["fp"]
