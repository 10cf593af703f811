"""Theorems of "Memory-efficient array redistribution through portable collective communication".

Properties P1–P9 (the numbering of the project's reference notes; the paper's own theorem numbers
are not reproduced here) over random meshes (1–3 axes), shapes and type pairs,
with extra weight on the pairs that make XLA's partitioner fall back to full replication.
Memory is counted as the live local buffer (max over the intermediate types); the variant that also
counts a collective's input and output buffers together is reported by the simulator, not asserted.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable

import numpy as np
from hypothesis import assume, target
from hypothesis import strategies as st

from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.redistribution import synth
from calculi.redistribution.baselines import naive, xla_like
from calculi.redistribution.blocks import block
from calculi.redistribution.check import check_program, check_type
from calculi.redistribution.costs import profile
from calculi.redistribution.mutants import MUTANTS
from calculi.redistribution.parse import parse_mesh, parse_program, parse_type
from calculi.redistribution.pretty import show_program, show_type
from calculi.redistribution.simulator import Run, assemble, misplaced, simulate
from calculi.redistribution.spec import spec_of, type_of_spec
from calculi.redistribution.strategies import (
    Problem,
    Walk,
    assignments,
    general_problems,
    problems,
    rewrite_sites,
    show,
    type_of,
    walks,
    weighted_problems,
)
from calculi.redistribution.syntax import AllGather, AllPermute, AllToAll, DistType, DynSlice, Mesh, Program
from proofs.quality import distribution, every_rule_fires, sample
from proofs.registry import Paper, register_mutants, theorem

REDIST = Paper("redistribution", "Memory-efficient array redistribution through portable collective "
               "communication (Rink, Paszke, Vytiniotis, Schmid)", "arXiv:2112.01075")

register_mutants(MUTANTS)


def on_engine(mesh: Mesh) -> None:
    """Set aside a draw whose mesh needs more devices than JAX started with: a run where no draw fits
    is then an error (hypothesis finds the theorem unsatisfiable), never a pass that checked nothing."""
    from calculi.redistribution import engine

    assume(engine.device_count() >= mesh.device_count)


def _data(ty: DistType) -> np.ndarray:
    return np.arange(math.prod(ty.global_shape), dtype=np.int64).reshape(ty.global_shape)


def _run(problem: Problem, program: Program, keep: bool = False) -> Run:
    run = simulate(_data(problem.source), problem.source, program, problem.mesh, keep=keep)
    bad = misplaced(run, _data(problem.source), problem.target, problem.mesh)
    assert not bad, f"devices {bad} do not hold their block of {show_type(problem.target)} after " \
                    f"{show_program(program)}"
    return run


def _paper(problem: Problem) -> Program:
    return synth.paper(problem.source, problem.target, problem.mesh)


# -- the types and the rules -------------------------------------------------------------------------


@theorem("redistribution.types.round_trip", paper=REDIST, section="§2.1", label="derived",
         statement="printing a type and parsing it back gives the same type; so does PartitionSpec",
         given={"problem": problems()}, show=show)
def _(problem: Problem) -> None:
    for ty in (problem.source, problem.target):
        assert parse_type(Source(show_type(ty))) == ty
        assert type_of_spec(spec_of(ty), ty.global_shape, problem.mesh) == ty


@theorem("redistribution.types.semantic_soundness", paper=REDIST, section="§2.1 typing",
         statement="every type a well-typed program goes through is well-formed, and the program leaves "
                   "each device holding its block of the folded type", given={"walk": walks()}, show=show)
def _(walk: Walk) -> None:
    types = check_program(walk.source, walk.program, walk.mesh)
    for ty in types:
        check_type(ty, walk.mesh)
    data = _data(walk.source)
    run = simulate(data, walk.source, walk.program, walk.mesh)
    bad = misplaced(run, data, types[-1], walk.mesh)
    assert not bad, f"devices {bad} do not hold their block of {show_type(types[-1])}"
    if walk.program:
        assert parse_program(Source(show_program(walk.program))) == walk.program


@theorem("redistribution.costs.match_simulator", paper=REDIST, section="costs P5", label="derived",
         statement="the per-op cost formulas give exactly the elements each device sends and receives",
         given={"walk": walks()}, show=show)
def _(walk: Walk) -> None:
    run = simulate(_data(walk.source), walk.source, walk.program, walk.mesh)
    prof = profile(walk.source, walk.program, walk.mesh)
    assert prof.received == run.received, f"formula {prof.received} vs simulated {run.received}"
    assert prof.sent == run.sent, f"formula {prof.sent} vs simulated {run.sent}"
    assert prof.local_sizes == run.local_sizes


# -- P1–P4: the synthesised program ----------------------------------------------------------------


@theorem("redistribution.synth.type_sound", paper=REDIST, section="§4.3 P1",
         statement="folding the typing rules over synth(τs, τt) from τs gives τt, every step well-formed; "
                   "synth(τ, τ) is empty", given={"problem": weighted_problems()}, show=show)
def _(problem: Problem) -> None:
    program = _paper(problem)
    types = check_program(problem.source, program, problem.mesh)
    assert types[-1] == problem.target, f"ends at {show_type(types[-1])}"
    for ty in types:
        check_type(ty, problem.mesh)
    assert _paper(Problem(problem.mesh, problem.source, problem.source)) == ()


@theorem("redistribution.synth.correct", paper=REDIST, section="§4.3 P2",
         statement="after synth(τs, τt) every device holds its block of τt and the blocks reassemble "
                   "the global array", given={"problem": weighted_problems()}, show=show)
def _(problem: Problem) -> None:
    run = _run(problem, _paper(problem))
    assert np.array_equal(assemble(run, problem.target, problem.mesh), _data(problem.source))


@theorem("redistribution.synth.correct_general", paper=REDIST, section="§4.3 P2", label="derived",
         statement="synthesis is type-sound and correct also when global sizes are only as divisible "
                   "as the two types need", given={"problem": general_problems()}, show=show)
def _(problem: Problem) -> None:
    program = _paper(problem)
    assert check_program(problem.source, program, problem.mesh)[-1] == problem.target
    _run(problem, program)


@theorem("redistribution.synth.memory_bound", paper=REDIST, section="§4.3 P3",
         statement="no device ever holds more than max(local size of τs, local size of τt) elements",
         given={"problem": weighted_problems()}, show=show)
def _(problem: Problem) -> None:
    run = _run(problem, _paper(problem))
    bound = max(problem.source.local_size, problem.target.local_size)
    assert run.peak <= bound, f"peak {run.peak} > {bound}; profile {run.local_sizes}"


RANK = {DynSlice: 0, AllToAll: 1, AllPermute: 1, AllGather: 2}


@theorem("redistribution.synth.normal_form", paper=REDIST, section="§4.3 P4",
         statement="synth is DynSlice* ; (AllToAll | AllPermute)* ; AllGather* with at most one AllPermute, "
                   "and no device drops by a slice an element it received",
         given={"problem": weighted_problems()}, show=show)
def _(problem: Problem) -> None:
    program = _paper(problem)
    ranks = [RANK[type(op)] for op in program]
    assert ranks == sorted(ranks), f"not in normal form: {show_program(program)}"
    assert sum(isinstance(op, AllPermute) for op in program) <= 1, f"two AllPermutes: {show_program(program)}"
    run = _run(problem, program, keep=True)
    for c in problem.mesh.devices():
        received: set[int] = set()
        for op, before, after in zip(program, run.history, run.history[1:], strict=False):
            old, new = set(before[c].ravel().tolist()), set(after[c].ravel().tolist())
            if isinstance(op, DynSlice):
                dropped = old - new
                assert not dropped & received, f"device {c} drops received {sorted(dropped & received)[:5]}"
            else:
                received |= new - old


def _overlap(a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...]) -> int:
    return math.prod(max(0, min(x1, y1) - max(x0, y0)) for (x0, x1), (y0, y1) in zip(a, b, strict=True))


@theorem("redistribution.synth.communication", paper=REDIST, section="§4.3 P5",
         statement="each device receives at least what it lacks, |T(c) \\ S(c)|, and in total no more "
                   "than the naive program", given={"problem": weighted_problems()}, show=show)
def _(problem: Problem) -> None:
    mesh, src, tgt = problem.mesh, problem.source, problem.target
    run = _run(problem, _paper(problem))
    for c in mesh.devices():
        lacking = tgt.local_size - _overlap(block(src, mesh, c), block(tgt, mesh, c))
        assert run.received[c] >= lacking, f"device {c} received {run.received[c]} < {lacking}"
    baseline = _run(problem, naive(src, tgt, mesh))
    assert sum(run.received.values()) <= sum(baseline.received.values())


# -- P6, P7: against the baselines -------------------------------------------------------------------


@theorem("redistribution.baselines.naive_peak", paper=REDIST, section="§4.3 P6", label="derived",
         statement="the naive program peaks at the global size, at least the paper's peak, strictly more "
                   "when either type is sharded", given={"problem": weighted_problems()}, show=show)
def _(problem: Problem) -> None:
    mesh, src, tgt = problem.mesh, problem.source, problem.target
    peak_naive = _run(problem, naive(src, tgt, mesh)).peak
    peak = _run(problem, _paper(problem)).peak
    assert peak_naive == math.prod(src.global_shape)
    sharded = max(src.local_size, tgt.local_size) < peak_naive
    assert peak < peak_naive if sharded else peak <= peak_naive


@theorem("redistribution.baselines.xla_peak", paper=REDIST, section="eval. P7",
         statement="the paper's program never needs more peak memory than the XLA-like decision list",
         given={"problem": weighted_problems()}, show=show)
def _(problem: Problem) -> None:
    mesh, src, tgt = problem.mesh, problem.source, problem.target
    peak_xla = _run(problem, xla_like(src, tgt, mesh)).peak
    peak = _run(problem, _paper(problem)).peak
    target(peak_xla / peak, label="xla peak / paper peak")
    assert peak <= peak_xla, f"paper {peak} > xla {peak_xla}"


# -- P8: the JAX engine ------------------------------------------------------------------------------


def _engine_agrees(problem: Problem) -> None:
    from calculi.redistribution import engine

    mesh, src, tgt = problem.mesh, problem.source, problem.target
    program = _paper(problem)
    data = _data(src).astype(np.int32)
    sim = simulate(data, src, program, mesh)
    out = engine.run(data, src, program, mesh)
    differ = [c for c in mesh.devices() if not np.array_equal(out.buffers[c], sim.buffers[c])]
    assert not differ, f"JAX and the simulator differ on devices {differ}"
    modelled = sum(sim.received.values()) * data.itemsize
    moved = out.compiled.received_bytes
    assert moved <= modelled, f"the HLO moves {moved} bytes, the cost rules {modelled}"
    x = engine.place(data, src, mesh)
    theirs = engine.shards(engine.xla_reshard(tgt, mesh, x).run(x), mesh)
    differ = [c for c in mesh.devices() if not np.array_equal(theirs[c], sim.buffers[c])]
    assert not differ, f"JAX's own resharding and ours differ on devices {differ}"


@theorem("redistribution.engine.agrees", paper=REDIST, section="engine P8", label="derived",
         statement="the program lowered to shard_map and run on JAX devices leaves every device with the "
                   "simulator's block, which is also what JAX's own resharding gives, and its HLO moves no "
                   "more bytes than the cost rules say",
         given={"problem": weighted_problems(max_devices=8)}, show=show, max_examples=8, requires=("jax",))
def _(problem: Problem) -> None:
    from calculi.redistribution import engine

    if engine.device_count() >= problem.mesh.device_count:
        _engine_agrees(problem)
        return
    # JAX started elsewhere in this process with fewer devices: check in a fresh process instead.
    command = [sys.executable, "-m", "calculi.redistribution", "synth", "--mesh", show(problem.mesh),
               show_type(problem.source), show_type(problem.target), "--engine", "jax"]
    proc = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


# -- P9: algebra -------------------------------------------------------------------------------------


@st.composite
def _triples(draw: st.DrawFn) -> tuple[Mesh, DistType, DistType, DistType]:
    first = draw(problems(max_devices=8))
    third = type_of(draw(assignments(first.mesh, first.source.rank)), first.source.global_shape, first.mesh)
    return first.mesh, first.source, first.target, third


def _show_triple(value: object) -> str:
    assert isinstance(value, tuple)
    return f"mesh {show(value[0])}: " + " -> ".join(show(x) for x in value[1:])


@theorem("redistribution.synth.composition", paper=REDIST, section="§4.3 P9", label="derived",
         statement="synth(τ2, τ3) after synth(τ1, τ2) moves data exactly as synth(τ1, τ3)",
         given={"triple": _triples()}, show=_show_triple)
def _(triple: tuple[Mesh, DistType, DistType, DistType]) -> None:
    mesh, t1, t2, t3 = triple
    data = _data(t1)
    two = simulate(data, t1, synth.paper(t1, t2, mesh) + synth.paper(t2, t3, mesh), mesh)
    one = simulate(data, t1, synth.paper(t1, t3, mesh), mesh)
    assert all(np.array_equal(two.buffers[c], one.buffers[c]) for c in mesh.devices())


@theorem("redistribution.synth.rewrites_preserve", paper=REDIST, section="§4.3 L4.6-7 P9",
         statement="every rewrite from the easy program keeps the type and the meaning; normalisation is "
                   "idempotent", given={"problem": weighted_problems(max_devices=8)}, show=show)
def _(problem: Problem) -> None:
    mesh, src, tgt = problem.mesh, problem.source, problem.target
    program = synth.easy_program(src, tgt, mesh)
    for _ in range(synth.REWRITE_FUEL):
        assert check_program(src, program, mesh)[-1] == tgt
        _run(problem, program)
        nxt = synth.rewrite_once(program, src, mesh)
        if nxt is None:
            nxt = synth.collapse_flat(program, src, mesh)
        if nxt is None:
            break
        program = nxt
    assert program == _paper(problem)
    assert synth.normalize(program, src, mesh) == program


def _stepwise(program: Program, source: DistType, mesh: Mesh) -> list[Program]:
    """Every program ``rewrite_once`` (else ``collapse_flat``) goes through, one rewrite at a time."""
    steps = [program]
    for _ in range(synth.REWRITE_FUEL):
        nxt = synth.rewrite_once(steps[-1], source, mesh)
        if nxt is None:
            nxt = synth.collapse_flat(steps[-1], source, mesh)
        if nxt is None:
            break
        steps.append(nxt)
    return steps


@theorem("redistribution.synth.each_rewrite_preserves", paper=REDIST, section="§4.3 L4.6-7 P9",
         statement="a well-typed program ending in the pair a rewrite is keyed by leaves every device "
                   "its block of the final type; each rewrite keeps that type and what every device "
                   "holds; normalize reaches the program that rewriting one step at a time reaches",
         given={"walk": rewrite_sites()}, show=show)
def _(walk: Walk) -> None:
    mesh, src = walk.mesh, walk.source
    data = _data(src)
    final = check_program(src, walk.program, mesh)[-1]
    start = simulate(data, src, walk.program, mesh)
    assert not (bad := misplaced(start, data, final, mesh)), f"devices {bad} do not hold their block of " \
                                                             f"{show_type(final)}"
    expected = start.buffers
    steps = _stepwise(walk.program, src, mesh)
    for program in steps[1:]:
        assert check_program(src, program, mesh)[-1] == final, f"{show_program(program)} changes the type"
        run = simulate(data, src, program, mesh)
        differ = [c for c in mesh.devices() if not np.array_equal(run.buffers[c], expected[c])]
        assert not differ, f"after rewriting to {show_program(program)} devices {differ} hold other data"
    assert synth.normalize(walk.program, src, mesh) == steps[-1]


# -- worked examples ---------------------------------------------------------------------------------


def _golden(mesh: str, source: str, target_: str) -> tuple[Problem, Program]:
    problem = Problem(parse_mesh(Source(mesh)), parse_type(Source(source)), parse_type(Source(target_)))
    return problem, _paper(problem)


@theorem("redistribution.examples.x_to_y", paper=REDIST, section="example", label="example",
         statement="on x=2,y=3, [3{x}6] -> [2{y}6] is DynSlice(0,y); AllPermute([1{y,x}6]); AllGather(0,x); "
                   "XLA falls back to gathering all 6 elements")
def _() -> None:
    problem, program = _golden("x=2, y=3", "[3{x}6]", "[2{y}6]")
    assert show_program(program) == "DynSlice(0, y); AllPermute([1{y,x}6]); AllGather(0, x)"
    run = _run(problem, program)
    assert run.local_sizes == [3, 1, 1, 2]
    assert run.received_row_major(problem.mesh) == [1, 2, 2, 2, 2, 1]
    assert _run(problem, xla_like(problem.source, problem.target, problem.mesh)).peak == 6


@theorem("redistribution.examples.transpose", paper=REDIST, section="example", label="example",
         statement="on a=4, [2{a}8, 8] -> [8, 2{a}8] is the single AllToAll(0 -> 1, a) at constant size 16")
def _() -> None:
    problem, program = _golden("a=4", "[2{a}8, 8]", "[8, 2{a}8]")
    assert show_program(program) == "AllToAll(0 -> 1, a)"
    assert _run(problem, program).local_sizes == [16, 16]


THROUGH = ("x=4,y=2", "[3{x}12, 6{y}12]", "[12, 3{x}12]")


@theorem("redistribution.examples.peak_through", paper=REDIST, section="example", label="example",
         statement="on x=4,y=2, [3{x}12, 6{y}12] -> [12, 3{x}12] peaks at 36 local elements, not at the "
                   "whole 144: dimension 0 is not divisible by |y|, so the peak goes through dimension 1")
def _() -> None:
    problem, program = _golden(*THROUGH)
    run = _run(problem, program)
    assert max(run.local_sizes) == 36, show_program(program)


# -- the suite's own quality: every rule fires, and what the generators produce ---------------------


def _exercise() -> None:
    """Synthesis on drawn problems, and normalisation of programs ending in each rewrite's pair."""
    _golden(*THROUGH)
    for p in sample(weighted_problems(), 48):
        synth.paper(p.source, p.target, p.mesh, Fuel(synth.REWRITE_FUEL))
    for key in synth.REWRITES:
        for w in sample(rewrite_sites(key), 16):
            synth.normalize(w.program, w.source, w.mesh)


every_rule_fires("redistribution", REDIST, "§2.1, §4.3", _exercise)


def _blocks_agree(p: Problem) -> bool:
    return all(block(p.source, p.mesh, c) == block(p.target, p.mesh, c) for c in p.mesh.devices())


def _moves_axis(p: Problem) -> bool:
    return any(a in t.axes for s, t in zip(p.source.dims, p.target.dims, strict=True)
               for a in p.source.used_axes if a not in s.axes)


def _uses(kind: type) -> Callable[[Problem], bool]:
    return lambda p: any(isinstance(op, kind) for op in _paper(p))


def _idle_permute(w: Walk) -> bool:
    types = check_program(w.source, w.program, w.mesh)
    return any(isinstance(op, AllPermute) and types[k] == types[k + 1] for k, op in enumerate(w.program))


_PROBLEM_STATS: dict[str, Callable[[Problem], bool]] = {
    "source = target": lambda p: p.source == p.target,
    "same block on every device (nothing to move)": _blocks_agree,
    "same local shape (a flat program)": lambda p: p.source.local_shape == p.target.local_shape,
    "an axis moves to another dimension": _moves_axis,
    "axes of unequal sizes": lambda p: len(set(p.mesh.shape)) > 1,
    "rank 3": lambda p: p.source.rank == 3,
    "the paper's program has an AllToAll": _uses(AllToAll),
    "the paper's program has an AllPermute": _uses(AllPermute),
    "the paper's program is not in normal form": lambda p: not synth.is_normal(_paper(p)),
}
distribution("redistribution", "problems (weighted: the theorems' own)", weighted_problems(), _PROBLEM_STATS)
distribution("redistribution", "general problems (sizes only as divisible as needed)", general_problems(),
             _PROBLEM_STATS)
distribution("redistribution", "rewrite sites", rewrite_sites(), {
    "ends in the pair of a rewrite": lambda w: len(w.program) >= 2
    and (type(w.program[-2]), type(w.program[-1])) in synth.REWRITES,
    "has an AllPermute that changes nothing": _idle_permute,
})
distribution("redistribution", "walks (well-typed programs)", walks(), {
    "empty": lambda w: not w.program,
    "4 or more collectives": lambda w: len(w.program) >= 4,
    "has an AllToAll": lambda w: any(isinstance(op, AllToAll) for op in w.program),
    "has an AllPermute": lambda w: any(isinstance(op, AllPermute) for op in w.program),
})
