"""``python -m proofs``: check every registered theorem and print one row per theorem."""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict

from calculi.core import coverage
from proofs.profiles import PROFILES
from proofs.quality import DISTRIBUTIONS
from proofs.registry import Result, all_mutants, check, kills, select


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m proofs", description=__doc__)
    parser.add_argument("--paper", help="only the theorems of this paper or calculus")
    parser.add_argument("--theorem", help="only this theorem id (or id prefix); with --mutants, only the "
                        "mutants whose id starts with it")
    parser.add_argument("--profile", choices=PROFILES, default="ci")
    parser.add_argument("--seed", type=int, help="Hypothesis seed (default: 0 for ci, else random)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--mutants", action="store_true", help="run the seeded bugs instead")
    parser.add_argument("--seeds", type=int, default=10,
                        help="with --mutants: run each mutant under seeds 0..N-1 (default 10)")
    parser.add_argument("--coverage", action="store_true",
                        help="also count the rules each calculus fired, and print what the "
                        "generators produce; fails when a declared rule never fired")
    parser.add_argument("--list", action="store_true", help="list the theorems and exit")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else (0 if args.profile == "ci" else random.randrange(2**32))

    if args.mutants:
        return _mutants(args.paper, args.theorem, args.profile, max(1, args.seeds), args.json)
    theorems = select(args.paper, args.theorem)
    if not theorems:
        print("no theorem matches", file=sys.stderr)
        return 2
    if args.list:
        for t in theorems:
            print(f"{t.id:<48} {t.reference:<28} [{t.label}] {t.statement}")
        return 0
    results: list[Result] = []
    if not args.json:
        print(_header())
    with coverage.recording() as counts:
        for thm in theorems:
            result = check(thm, args.profile, seed)
            results.append(result)
            if not args.json:
                print(_row(result), flush=True)
                if not result.ok:
                    print(_failure(result), flush=True)
    failed = sum(not r.ok for r in results)
    if args.coverage:
        failed += _coverage(counts, sorted({t.calculus for t in theorems}))
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        total = sum(r.seconds for r in results)
        print(f"\n{len(results) - failed} passed, {failed} failed "
              f"({total:.1f}s, profile {args.profile}, seed {seed})")
    return 1 if failed else 0


def _header() -> str:
    return f"{'theorem':<46} {'reference':<30} {'examples':>8}  {'result':<7} {'seconds':>7}"


def _row(r: Result) -> str:
    return f"{r.id:<46} {r.reference:<30} {r.examples:>8}  {r.status:<7} {r.seconds:>7.2f}"


def _failure(r: Result) -> str:
    lines = [f"    {r.message.splitlines()[0] if r.message else r.status}"]
    for name, value in r.counterexample.items():
        shown = value.replace("\n", "\n" + " " * (8 + len(name)))
        lines.append(f"      {name} = {shown}")
    lines.append(f"    replay: {r.replay}")
    return "\n".join(lines)


def _coverage(counts: Counter[tuple[str, str]], calculi: list[str]) -> int:
    """Print each calculus's rule table and generator distributions; the number of rules that
    never fired."""
    never = 0
    for calculus in calculi:
        rows = coverage.table(counts, calculus)
        if not rows:
            continue
        print(f"\nrule coverage: {calculus}")
        for rule, times in rows:
            print(f"  {rule:<44} {times:>10,}{'   NEVER FIRED' if times == 0 else ''}")
        never += sum(times == 0 for _, times in rows)
        for dist in (d for d in DISTRIBUTIONS if d.calculus == calculus):
            print(f"  generated {dist.name} (500 samples):")
            for label, fraction in dist.measure():
                print(f"    {fraction:>6.1%}  {label}")
    return never


def _mutants(paper: str | None, prefix: str | None, profile: str, seeds: int, as_json: bool) -> int:
    """Each mutant (with ``--theorem ID``: those whose id starts with ID) against its theorems."""
    rows = []
    survivors = 0
    chosen = all_mutants(paper or (prefix.split(".", 1)[0] if prefix else None))
    for m in (m for m in chosen if prefix is None or m.id.startswith(prefix)):
        killers = kills(m, profile, seeds)
        killer = next((k for k in killers if k is not None), None)
        killed = sum(k is not None for k in killers)
        survivors += killer is None
        rows.append({"mutant": m.id, "description": m.description,
                     "killed_by": killer.id if killer else None,
                     "seeds_killing": killed, "seeds": seeds,
                     "counterexample": killer.counterexample if killer else {}})
        if not as_json:
            verdict = f"killed by {killer.id}" if killer else "SURVIVED"
            print(f"{m.id:<40} {killed:>2}/{seeds} {verdict:<50} {m.description}", flush=True)
            if killer and killer.counterexample:
                for name, value in killer.counterexample.items():
                    print(f"      {name} = {value}")
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"\n{len(rows) - survivors} killed, {survivors} survived")
    return 1 if survivors or not rows else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
