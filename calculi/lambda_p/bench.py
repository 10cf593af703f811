"""``python -m calculi.lambda_p.bench``: the fast evaluator against the small-step machine (its
oracle), in the same process, on every example file and on workloads; memory and depth rows in
child processes (peak RSS); ``--jobs 2`` against ``--jobs 1``. Prints times and ratios, and marks
every row that misses its target (none is dropped). ``--scaling`` times the front end and the
evaluator end to end (parse, run, print) at n and 2n on deep nesting and long loops, each of
which should take time linear in n, and inputs past the limits, which should end in their errors.

Targets: at least 20x the small-step machine on every workload row, 50x on the handler-heavy ones.
The example files mostly run in well under a millisecond; for them the table gives the fixed cost
of a run (the fast evaluator on ``0``) beside their own time. Each time is the best of several
runs (six for the fast evaluator, three for the small-step machine and for ``--jobs``, the two
machines interleaved, a garbage collection between rounds): the speed of the machines this was
written on varies by a third from one minute to the next. ``--quick`` shrinks the sizes tenfold.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from calculi.core.errors import CalculusError
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.lambda_p.program import Program
from calculi.lambda_p.run import run_term, run_text
from calculi.lambda_p.syntax import Term

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "lambda_p"
DEFINITIONS = [
    'def loop n = if n == 0 then "done" else (perform tick (); loop (n - 1))',
    "def depth n = if n == 0 then 0 else (accum 1; 1 + depth (n - 1))",
    "def count n = if n == 0 then get () else (x <- get (); set (x + 1); count (n - 1))",
]
TICKS = "handle {return -> \\x. x, tick -> \\_ k. k ()} (loop N)"
DEPTH = "runAccum (+) 0 (\\_. depth N)"


def workloads(n: int) -> list[tuple[str, str, int]]:
    """(name, program, target ratio)."""
    return [
        (f"pure loop, {n:,} iterations", f"for i:{n}. i * i + 1", 20),
        (f"reader loop, {n:,} iterations", f"runReader 3 (\\_. for i:{n}. ask () + i)", 20),
        (f"handled operations in a loop, {n // 4:,}", TICKS.replace("N", str(n // 4)), 50),
        (f"accum ∘ reader loop, {n // 20:,} iterations",
         f"runAccum (+) 0 (\\_. runReader 2 (\\_. for i:{n // 20}. (accum i; ask ())))", 50),
        ("nested handlers (accum, except, reader), 3×30 loop",
         "runAccum (+) 0 (\\_. runWeakExcept (\\_. runReader 1 (\\_. for i:3. fold (+) 0 "
         "(for j:30. (accum j; ask () * i)))))", 50),
        (f"state loop, {n // 4:,} get/set", f"runState 0 (\\_. count {n // 4})", 50),
        (f"effectful non-tail recursion, {n // 20:,} deep", DEPTH.replace("N", str(n // 20)), 50),
    ]


SCALING: list[tuple[str, Callable[[int], str], int]] = [
    ("λ binders, \\x. \\x. … x", lambda n: "\\x. " * n + "x", 8_000),
    ("handle nested", lambda n: "handle {return -> \\x. x} (" * n + "1" + ")" * n, 5_000),
    ("if nested", lambda n: "if True then " * n + "1" + " else 0" * n, 10_000),
    ("x <- …; lets in a row", lambda n: "x <- 0; " + "x <- x + 1; " * n + "x", 10_000),
    ("iota n (prelude)", lambda n: f"length (iota {n})", 100_000),
    ("map over n (prelude)", lambda n: f"fold (+) 0 (map (\\x. x * 2) (iota {n}))", 50_000),
    ("for i:n. i, printed", lambda n: f"for i:{n}. i", 1_000_000),
]
"""Front end and evaluator, as a command line runs them (parse, run, print): name, program of
size n, the n of the issue that asked for it (``--scaling`` times n and 2n)."""


def end_to_end(text: str) -> float:
    """Parse, run and print ``text`` once (a located error counts as an answer)."""
    start = time.perf_counter()
    try:
        (term,) = Program.with_prelude().expressions(Source(text, "<bench>"))
        run_text(term, Fuel(10**10))
    except CalculusError:
        pass
    return time.perf_counter() - start


def scaling(scale: int) -> None:
    header = f"{'front end and evaluator, end to end':<40} {'n':>10} {'time':>9} {'2n':>10} {'time':>9}"
    print(f"{header} {'ratio':>6}")
    for name, make, size in SCALING:
        n = max(1, size // scale)
        one = min(end_to_end(make(n)) for _ in range(3))
        two = min(end_to_end(make(2 * n)) for _ in range(3))
        print(f"{name:<40} {n:>10,} {one:>8.2f}s {2 * n:>10,} {two:>8.2f}s {two / one:>5.2f}x", flush=True)
    deep = 10**5
    for name, text in [("handle nested 10^5 (a located error)", "handle {return -> \\x. x} (" * deep + "1"),
                       ("if nested 10^5 (a located error)", "if True then " * deep + "1" + " else 0" * deep),
                       ("iota 100,000,000 (out of fuel at 10^6)", "iota 100000000")]:
        start = time.perf_counter()
        try:
            (term,) = Program.with_prelude().expressions(Source(text, "<bench>"))
            run_term(term, Fuel(10**6))
            reason = "a value"
        except CalculusError as err:
            reason = err.reason[:40]
        print(f"{name:<40} {time.perf_counter() - start:>8.2f}s  {reason}", flush=True)


def program() -> Program:
    out = Program.with_prelude()
    for definition in DEFINITIONS:
        out.add(Source(definition, "<bench>"))
    return out


def parse(prog: Program, text: str) -> Term:
    (term,) = prog.expressions(Source(text, "<bench>"))
    return term


def timed(term: Term, machine: str, jobs: int = 1, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run_term(term, Fuel(10**10), machine=machine, jobs=jobs)
        best = min(best, time.perf_counter() - start)
    return best


def compare(name: str, term: Term, target: int | None, fixed: float | None = None) -> None:
    fast = slow = float("inf")
    for _ in range(3):  # interleaved, so that both see the machine at the same speed
        gc.collect()  # no garbage of the runs before
        fast = min(fast, timed(term, "fast", repeat=2))
        slow = min(slow, timed(term, "small-step"))
    ratio = slow / fast
    note = ""
    if target is not None:
        note = f"target {target}x" + ("" if ratio >= target else "  BELOW TARGET")
    if fixed is not None and fast < 1e-3:
        note = f"fixed cost {fixed * 1e6:.0f} µs of {fast * 1e6:.0f} µs"
    print(f"{name:<52} {slow:>9.3f}s {fast:>9.4f}s {ratio:>7.1f}x   {note}")


def memory_row(text: str) -> dict[str, float]:
    """Run one program in a child process: its time and peak RSS (and the RSS before it ran)."""
    out = subprocess.run(
        [sys.executable, "-m", "calculi.lambda_p.bench", "--child", text],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def peak_rss_mib() -> float:
    """This process's peak RSS: VmHWM where Linux gives it (``ru_maxrss`` survives exec, so a
    child would report its parent's peak), else ``ru_maxrss``."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(text: str) -> None:
    term = parse(program(), text)
    run_term(parse(program(), "0"), Fuel())  # start-up costs (the deep thread, the prelude)
    before = peak_rss_mib()
    start = time.perf_counter()
    run_term(term, Fuel(10**10))
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mib": peak_rss_mib(), "before_mib": before}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calculi.lambda_p.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="sizes ten times smaller")
    parser.add_argument("--scaling", action="store_true",
                        help="only the front end and evaluator at n and 2n (they should be linear)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    scale = 10 if args.quick else 1
    if args.scaling:
        scaling(scale)
        return 0
    prog = program()
    fixed = timed(parse(prog, "0"), "fast", repeat=20)
    print(f"fixed cost of a run (the fast evaluator on 0, through run_term): {fixed * 1e6:.0f} µs\n")
    print(f"{'program':<52} {'small-step':>10} {'fast':>10} {'ratio':>8}")
    for path in sorted(EXAMPLES.glob("*.lp")):
        terms = Program.with_prelude().expressions(Source(path.read_text(encoding="utf-8"), str(path)))
        compare(f"example {path.stem}", terms[-1], None, fixed)
    for name, text, target in workloads(10_000 // scale):
        compare(name, parse(prog, text), target)

    print("\nmemory and depth, fast evaluator only (each row in a child process; peak RSS over the run)")
    rows: list[tuple[str, str]] = [
        (f"handled operations in a loop, {n:,}", TICKS.replace("N", str(n)))
        for n in (10**5 // scale, 10**6 // scale)
    ] + [
        (f"effectful non-tail recursion, {n:,} deep", DEPTH.replace("N", str(n)))
        for n in (10**4 // scale, 10**5 // scale)
    ]
    for name, text in rows:
        r = memory_row(text)
        grown = r["peak_mib"] - r["before_mib"]
        print(f"{name:<52} {r['seconds']:>9.2f}s   peak RSS {r['peak_mib']:>7.1f} MiB "
              f"(+{grown:.1f} MiB over start-up)")

    width = 40_000 // scale
    coarse = parse(prog, f"for i:8. fold (+) 0 (for j:{width}. j * i % 7)")
    one = two = float("inf")
    for _ in range(3):
        gc.collect()
        one, two = min(one, timed(coarse, "fast", jobs=1)), min(two, timed(coarse, "fast", jobs=2))
    print(f"\n(parallel) on 8 coarse iterations ({width:,} inner steps each), fast evaluator: "
          f"--jobs 1 {one:.3f}s, --jobs 2 {two:.3f}s, speedup {one / two:.2f}x "
          f"({os.cpu_count()} CPUs visible; target 1.6x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
