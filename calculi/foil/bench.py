"""``python -m calculi.foil.bench``: normalisation with the foil against its baselines, in one run.

Workloads: the lambda-n-ways pairs (capture10, constructed20, one- to four-subst, t1–t3, and a
fixed subset of random15–19) and Church-numeral exponentiation m^n (as free-foil's
``bench/normalize``). Peers: the foil, the plain rapier (the same machine without the type
machinery), the rapier substituting at every β-step (the textbook normal order, the foil's before
its machine), always-rename, and de Bruijn indices (textbook, conversion not timed). Each cell
is the best of ``--repeat`` runs, in CPU time of this process (``time.process_time``: on a shared
machine, wall time mostly measures the neighbours). The ratios are foil / rapier (the paper's "no
run-time overhead" claim: 1.00 would be no overhead), β-by-substitution / foil (what the machine
saves) and always-rename / rapier (the same machine renaming every binder of a pushed argument).

``--scaling`` times the front end and the evaluator on inputs of size n and 2n (a ``let`` of n
bindings, ``f (f (… x))`` n deep, n nested λs): parse, print, scope (free names) and normalise,
with the ratio of each pair of times (2.0 is linear).

Where the foil's overhead comes from in CPython: the erased representation costs nothing (the
same code with the core's calls written inline runs at 1.00x the rapier). What is left is one
Python call per binder: the rapier's step at a binder is one trusted core call
(``under_binder``: ``with_refreshed``, ``add_rename`` and ``extend_scope`` fused) plus the
rank-2 continuation it calls, which is how the scope type stays rigid. Lookups at names and the
identity test are erased to C-level calls (``dict.get``, ``not``). Measured: about 1.25x the
plain rapier over the whole run (it was 1.5x with the core calls unfused), with either algorithm
(substitution at every β-step, or the machine, which is about 4x faster over the whole run and
8x on the random subset).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from calculi.core.files import positive_int
from calculi.foil.baselines import always_rename, rapier
from calculi.foil.baselines import debruijn as db
from calculi.foil.debruijn import to_debruijn
from calculi.foil.normalize import normalize
from calculi.foil.parse import parse, parse_file
from calculi.foil.scaling import print_scaling, seconds
from calculi.foil.syntax import Expr

DATA = Path(__file__).resolve().parents[2] / "data" / "lambda-n-ways"

RANDOM_SUBSET = {
    "random15": [2, 3, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 21, 22, 23, 27],
    "random16": [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 12, 14, 15, 17, 18, 19, 20, 21, 22, 23],
    "random17": [0, 1, 2, 3, 4, 5, 6, 9, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23, 24, 25],
    "random18": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 19, 20, 21],
    "random19": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 20],
}
"""Terms of the random files that normalise in well under a second (see tests/foil)."""

FIXED = ["capture10", "constructed20", "onesubst", "twosubst", "threesubst", "foursubst", "t1", "t2", "t3"]
POWERS = [(8, 2), (4, 3), (12, 2), (2, 8), (2, 10)]
FUEL = 10_000_000

Term = Expr[Any]


def church(n: int) -> str:
    return r"(\f. \x. " + "f (" * n + "x" + ")" * n + ")"


def workloads(random: bool = True) -> dict[str, list[Term]]:
    loads: dict[str, list[Term]] = {}
    for name in FIXED:
        loads[name] = parse_file((DATA / f"{name}.lam").read_text(), f"{name}.lam")
    if random:
        picked: list[Term] = []
        for name, indices in RANDOM_SUBSET.items():
            terms = parse_file((DATA / f"{name}.lam").read_text(), f"{name}.lam")
            picked.extend(terms[i] for i in indices)
        loads["random (subset)"] = picked
    for m, n in POWERS:
        loads[f"church {m}^{n}"] = [parse(rf"(\m. \n. n m) {church(m)} {church(n)}")]
    return loads


PEERS = ["foil", "rapier", "β by subst", "always-rename", "de Bruijn"]
RATIOS = [("foil/rapier", "foil", "rapier"), ("subst/foil", "β by subst", "foil"),
          ("always/rapier", "always-rename", "rapier")]


def measure(terms: list[Term], repeat: int) -> dict[str, float]:
    encoded = [to_debruijn(t) for t in terms]
    return {
        "foil": seconds(lambda: [normalize(t, FUEL) for t in terms], repeat),
        "rapier": seconds(lambda: [rapier.normalize(t, FUEL) for t in terms], repeat),
        "β by subst": seconds(lambda: [rapier.normalize_by_substitution(t, FUEL) for t in terms], repeat),
        "always-rename": seconds(lambda: [always_rename.normalize(t, FUEL) for t in terms], repeat),
        "de Bruijn": seconds(lambda: [db.normalize(t, FUEL) for t in encoded], repeat),
    }


def _row(name: str, row: dict[str, float]) -> str:
    return (f"{name:<18}" + "".join(f"{row[p]:>13.4f}s" for p in PEERS)
            + "".join(f"{row[a] / row[b]:>13.2f}x" for _, a, b in RATIOS))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calculi.foil.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=positive_int, default=3, help="runs per cell (the best is kept)")
    parser.add_argument("--no-random", action="store_true", help="skip the random15–19 subset")
    parser.add_argument("--scaling", type=positive_int, metavar="N", nargs="?", const=4000,
                        help="time the front end and the evaluator at sizes N and 2N instead (default 4000)")
    args = parser.parse_args(argv)
    if args.scaling:
        print_scaling(args.scaling, args.repeat)
        return 0
    header = "".join(f"{p:>14}" for p in PEERS) + "".join(f"{r:>14}" for r, _, _ in RATIOS)
    print(f"{'workload':<18}{header}")
    totals = dict.fromkeys(PEERS, 0.0)
    for name, terms in workloads(not args.no_random).items():
        row = measure(terms, args.repeat)
        for peer in PEERS:
            totals[peer] += row[peer]
        print(_row(name, row))
    print(_row("total", totals))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
