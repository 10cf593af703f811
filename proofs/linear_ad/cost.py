"""Cost and size (P14–P17): the work of each stage, counted per operation class by the evaluator,
and the sizes of J, U and T on families of growing programs.
"""

from __future__ import annotations

from collections import Counter

from calculi.core.syntax import Source
from calculi.linear_ad.ad import Stages, grad, stages
from calculi.linear_ad.check import check_program
from calculi.linear_ad.eval import Cost, function_work
from calculi.linear_ad.parse import parse_program
from calculi.linear_ad.strategies import show
from calculi.linear_ad.syntax import Program, program_size
from calculi.linear_ad.unzip import POLICIES, lin_name, nonlin_name
from proofs.linear_ad.fixtures import NONLIN, YOLO, main_of, point, run
from proofs.linear_ad.primitives import beyond_four
from proofs.registry import theorem


def costs(s: Stages, xs: list[float]) -> dict[str, Cost]:
    out = {k: Cost() for k in ("f", "jvp", "nonlin", "lin", "T")}
    ones = [1.0] * len(xs)
    run(s.source, s.name, xs, [], cost=out["f"])
    run(s.jvp, s.jvp_fn, xs, ones, cost=out["jvp"])
    (*_, tape), _ = run(s.unzipped, s.nonlin_fn, xs, [], cost=out["nonlin"])
    run(s.unzipped, s.lin_fn, [tape], ones, cost=out["lin"])
    run(s.transposed, s.transposed_fn, [tape], [1.0], cost=out["T"])
    return out


def _nonzero(c: Counter[str]) -> Counter[str]:
    return Counter({k: v for k, v in c.items() if v})


@theorem("linear_ad.cost.unzip_splits_work", paper=YOLO, section="P14",
         statement="work(f.nonlin) + work(f.lin) = work(J f) per operation class (save-all; the tape's "
                   "tup/unpack cost 0)", given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    c = costs(stages(typing, name), [float(v) for v in point(typing, name)])
    assert _nonzero(c["nonlin"].work + c["lin"].work) == _nonzero(c["jvp"].work)


@theorem("linear_ad.cost.checkpoint_policies", paper=YOLO, section="P14",
         statement="save-all and recompute-all give identical gradients; their total work differs by "
                   "exactly the recomputed minus the eliminated work, and their tapes by the residuals "
                   "that recomputation replaced", given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    xs = [float(v) for v in point(typing, name)]
    save, rc = stages(typing, name, POLICIES["save-all"]), stages(typing, name, POLICIES["recompute-all"])
    assert grad(typing, name, xs, POLICIES["save-all"]) == grad(typing, name, xs, POLICIES["recompute-all"])
    for g in rc.report.residuals:
        own = [function_work(s.unzipped, nonlin_name(g), calls=False) +
               function_work(s.unzipped, lin_name(g), calls=False) for s in (save, rc)]
        assert own[1] - own[0] == rc.report.recomputed_work[g] - rc.report.eliminated_work[g], g
        assert save.report.recomputed_work[g] == save.report.eliminated_work[g] == 0
        k = rc.report.recomputed_names[g]
        assert rc.report.residuals[g] == (save.report.residuals[g] - k) | rc.report.recomputed_inputs[g], g


@theorem("linear_ad.cost.jvp_work_bound", paper=YOLO, section="P15", label="derived",
         statement="W(J e) ≤ 4·W(e) + Σ (W(J p) − 4)⁺ per application of p + W_dup(J e) + W_0(J e): four "
                   "per operation (the paper's sin, cos, exp, +, ×), or the work of p's own JVP rule where "
                   "it is more (div, pow …), plus J's dups and the zero tangents of literals",
         given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    c = costs(stages(typing, name), [float(v) for v in point(typing, name)])
    extra = c["jvp"].work["dup"] + c["jvp"].work["0"]
    bound = 4 * c["f"].total + beyond_four(c["f"])
    assert c["jvp"].total <= bound + extra, (c["jvp"].total, c["f"].total, extra)


@theorem("linear_ad.cost.cheap_gradient", paper=YOLO, section="P17", label="derived",
         statement="W(grad f) = W(f.nonlin) + W(T f.lin) = W(J f) ≤ 4·W(f) + Σ (W(J p) − 4)⁺ + W_dup(J f) "
                   "+ W_0(J f)",
         given=NONLIN, show=show)
def _(program: Program) -> None:
    typing, name = main_of(program)
    c = costs(stages(typing, name), [float(v) for v in point(typing, name)])
    extra = c["jvp"].work["dup"] + c["jvp"].work["0"]
    bound = 4 * c["f"].total + beyond_four(c["f"])
    assert c["nonlin"].total + c["T"].total == c["jvp"].total <= bound + extra


FAMILIES = {
    "chain": lambda n: "def f(x: R) -> R = " + "".join(
        f"let x{i + 1} = sin(x{i}) * x{i} in " for i in range(n)).replace("x0", "x") + f"x{n}",
    "fan-out": lambda n: "def f(x: R) -> R = let y0 = x in " + "".join(
        f"let y{i + 1} = y{i} + x * {i + 1}.0 in " for i in range(n)) + f"y{n}",
    "diamonds": lambda n: "def f(x: R) -> R = let z0 = x in " + "".join(
        f"let a{i} = sin(z{i}) in let b{i} = cos(z{i}) in let z{i + 1} = a{i} * b{i} + z{i} in "
        for i in range(n)) + f"z{n}",
}


def family_ratios(kind: str, n: int) -> list[float]:
    typing = check_program(parse_program(Source(FAMILIES[kind](n))))
    s = stages(typing, "f")
    base = program_size(typing.program)
    return [program_size(p) / base for p in (s.jvp.program, s.unzipped.program, s.transposed.program)]


@theorem("linear_ad.size.linear", paper=YOLO, section="P16",
         statement="|J e|, |U e|, |T e| ∈ O(|e|): on chains, fan-out and nested diamonds of 10 to 160 "
                   "operations, each size ratio stays within 10% of its value at n = 10 and below 12 (the "
                   "benchmark goes to 10^5)")
def _() -> None:
    for kind in FAMILIES:
        small = family_ratios(kind, 10)
        for n in (40, 160):
            big = family_ratios(kind, n)
            for s, b in zip(small, big, strict=True):
                assert b <= 12 and b <= 1.1 * s, f"{kind} at n = {n}: ratio {b:.2f} (n = 10: {s:.2f})"
