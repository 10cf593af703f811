"""``python -m calculi.lambda_p.bench``: the small-step machine against the fast evaluator, and
``--jobs 2`` against ``--jobs 1``, in the same process; prints times and ratios.

Steps are counted differently by the two interpreters (rule applications for the small-step
machine, applications of functions for the fast one), so the comparable figure is the wall-time
ratio on the same program. ``CALCULI_SMALL=1`` shrinks the sizes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.lambda_p.program import Program
from calculi.lambda_p.run import run_term
from calculi.lambda_p.syntax import Term

SMALL = os.environ.get("CALCULI_SMALL") == "1"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "lambda_p"


def timed(term: Term, machine: str, jobs: int = 1) -> tuple[float, int]:
    fuel = Fuel(10**10)
    start = time.perf_counter()
    run_term(term, fuel, machine=machine, jobs=jobs)
    return time.perf_counter() - start, fuel.used


def parse(program: Program, text: str) -> Term:
    (term,) = program.expressions(Source(text, "<bench>"))
    return term


def compare(name: str, term: Term, small_step: bool = True) -> None:
    fast_s, fast_steps = timed(term, "fast")
    if not small_step:
        print(f"{name:<44} {'—':>10} {fast_s:>9.3f}s {'—':>8}   fast {fast_steps / fast_s:>10,.0f} app/s")
        return
    slow_s, slow_steps = timed(term, "small-step")
    print(f"{name:<44} {slow_s:>9.3f}s {fast_s:>9.3f}s {slow_s / fast_s:>7.1f}x   small-step "
          f"{slow_steps / slow_s:>9,.0f} steps/s, fast {fast_steps / fast_s:>10,.0f} app/s")


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m calculi.lambda_p.bench", description=__doc__).parse_args(argv)
    program = Program.with_prelude()
    scale = 10 if SMALL else 1
    print(f"{'program':<44} {'small-step':>10} {'fast':>10} {'ratio':>8}")
    for path in sorted(EXAMPLES.glob("*.lp")):
        terms = Program.with_prelude().expressions(Source(path.read_text(encoding="utf-8"), str(path)))
        compare(f"example {path.stem}", terms[-1], small_step=path.stem != "amb_13" or not SMALL)
    n = 10_000 // scale
    loops = {
        f"pure loop, {n:,} iterations": f"for i:{n}. i * i + 1",
        f"reader loop, {n:,} iterations": f"runReader 3 (\\_. for i:{n}. ask () + i)",
        f"accum ∘ reader loop, {n // 20:,} iterations": "runAccum (+) 0 (\\_. runReader 2 (\\_. "
        f"for i:{n // 20}. (accum i; ask ())))",
        "nested handlers (accum, except, reader), 3×30 loop": "runAccum (+) 0 (\\_. runWeakExcept (\\_. "
        "runReader 1 (\\_. for i:3. fold (+) 0 (for j:30. (accum j; ask () * i)))))",
    }
    for name, text in loops.items():
        compare(name, parse(program, text))
    big = 100_000 // scale
    compare(f"pure loop, {big:,} iterations (fast only)", parse(program, f"for i:{big}. i * i + 1"), False)
    compare(f"reader loop, {big:,} iterations (fast only)",
            parse(program, f"runReader 3 (\\_. for i:{big}. ask () + i)"), False)

    width = 10_000 // scale
    coarse = parse(program, f"for i:8. fold (+) 0 (for j:{width}. j * i % 7)")
    one, _ = timed(coarse, "fast", jobs=1)
    two, _ = timed(coarse, "fast", jobs=2)
    print(f"\n(parallel) on 8 coarse iterations ({width:,} inner steps each), fast evaluator: "
          f"--jobs 1 {one:.3f}s, --jobs 2 {two:.3f}s, speedup {one / two:.2f}x "
          f"({os.cpu_count()} CPUs visible)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
