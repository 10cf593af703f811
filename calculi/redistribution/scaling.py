"""How the front end scales: each stage timed at size n and 2n (``bench --scaling`` prints the table).

Three ways an input grows, each built by a function of n:

    dimensions  a type of n dimensions (at most 64: the rank arrays can have)
    axes        a mesh of n axes and a type splitting one dimension over all of them
    program     a program of n collectives from one type
    sub-axes    a mesh of n axes of size 4 and a type splitting one dimension over both halves of each

Each stage (parse, print, check, synthesise, normalise) is timed, best of ``repeat`` with the
garbage collector off, and printed with the ratio t(2n)/t(n): about 2 is linear. Synthesis is shown
twice for the axes: gathering every axis (one rewrite-free pass) and moving every axis to another
dimension, where the paper's rewriting passes each slice over each gather (n² rewrites, each
costing the size of the type).

``search_times`` (``bench --search``) times the optimal search instead: on every mesh of 1–3 axes
of sizes 2–4 and arrays of rank 3, the slowest of ``SEARCH_PROBLEMS``, for ``optimal`` and
``optimal-subaxes``, cold (no cache kept from one search to the next), in processor time, by the fast search
(``astar``) and by the search over the whole graph (``optimal.reference``) in the same process.
"""

from __future__ import annotations

import functools
import gc
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from calculi.core.errors import CalculusError
from calculi.core.syntax import Source
from calculi.core.trace import Fuel
from calculi.redistribution import optimal, synth
from calculi.redistribution.check import check_mesh, check_program, check_type
from calculi.redistribution.parse import parse_mesh, parse_program, parse_type
from calculi.redistribution.pretty import show_mesh, show_program, show_type
from calculi.redistribution.subaxes import candidate_ops as sub_axis_candidates
from calculi.redistribution.syntax import Dim, DistType, Mesh


@dataclass(frozen=True, slots=True)
class Stage:
    family: str
    stage: str
    n: int
    seconds: float
    doubled: float

    @property
    def ratio(self) -> float:
        return self.doubled / max(self.seconds, 1e-9)


def best(run: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs (more, up to 50, while they take under 0.3 s in all), with the
    garbage collector off while timing (as ``timeit``)."""
    times: list[float] = []
    gc.collect()
    gc.disable()
    try:
        while len(times) < repeat or (sum(times) < 0.3 and len(times) < 50):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
    finally:
        gc.enable()
    return min(times)


def dimensions(n: int) -> dict[str, Callable[[], object]]:
    mesh = check_mesh(parse_mesh(Source("x=2")))
    text = "[" + ", ".join(["1{x}2", *["2"] * (n - 1)]) + "]"
    goal = parse_type(Source("[" + ", ".join([*["2"] * (n - 1), "1{x}2"]) + "]"))
    ty = parse_type(Source(text))
    return {"parse": lambda: parse_type(Source(text)), "print": lambda: show_type(ty),
            "check": lambda: check_type(ty, mesh), "synthesise": lambda: synth.paper(ty, goal, mesh)}


def axes(n: int) -> dict[str, Callable[[], object]]:
    names = [f"a{i}" for i in range(n)]
    mesh_text = ",".join(f"{a}=2" for a in names)
    mesh = check_mesh(parse_mesh(Source(mesh_text)))
    size = 2**n
    text = f"[1{{{','.join(names)}}}{size}, {size}]"
    ty = parse_type(Source(text))
    whole = parse_type(Source(f"[{size}, {size}]"))
    moved = parse_type(Source(f"[{size}, 1{{{','.join(names)}}}{size}]"))
    fuel = 10 * n * n * n
    return {"parse": lambda: (parse_mesh(Source(mesh_text)), parse_type(Source(text))),
            "print": lambda: show_type(ty), "check": lambda: check_type(ty, mesh),
            "synthesise (gather all)": lambda: synth.paper(ty, whole, mesh),
            "synthesise (move all)": lambda: synth.paper(ty, moved, mesh, Fuel(fuel))}


def program(n: int) -> dict[str, Callable[[], object]]:
    mesh = check_mesh(parse_mesh(Source("x=2, y=2")))
    ty = parse_type(Source("[4, 4]"))
    text = "; ".join(["DynSlice(0, x); AllToAll(0 -> 1, x); AllGather(1, x)"] * (n // 3))
    ops = parse_program(Source(text))
    return {"parse": lambda: parse_program(Source(text)), "print": lambda: show_program(ops),
            "check": lambda: check_program(ty, ops, mesh),
            "normalise": lambda: synth.normalize(ops, ty, mesh, Fuel(10 * n))}


def halves(n: int) -> dict[str, Callable[[], object]]:
    names = [f"a{i}" for i in range(n)]
    mesh_text = ",".join(f"{a}=4" for a in names)
    mesh = check_mesh(parse_mesh(Source(mesh_text)))
    size = 4**n
    text = f"[1{{{','.join(f'{a}:2,{a}:(2)2' for a in names)}}}{size}]"
    ty = parse_type(Source(text))
    gathers = "; ".join(f"AllGather(0, {a}:(2)2); AllGather(0, {a}:2)" for a in reversed(names))
    ops = parse_program(Source(gathers))
    return {"parse": lambda: (parse_mesh(Source(mesh_text)), parse_type(Source(text))),
            "print": lambda: show_type(ty), "check": lambda: check_type(ty, mesh),
            "check program": lambda: check_program(ty, ops, mesh)}


FAMILIES: dict[str, tuple[Callable[[int], dict[str, Callable[[], object]]], int]] = {
    "dimensions": (dimensions, 32),
    "axes": (axes, 24),
    "program": (program, 3000),
    "sub-axes": (halves, 24),
}
"""Each family with its default n (n and 2n are measured)."""


def measure(scale: float = 1.0, repeat: int = 3) -> Iterator[Stage]:
    """Every family and stage at n and 2n (``scale`` multiplies the default n, dimensions excepted)."""
    for family, (build, default) in FAMILIES.items():
        n = default if family == "dimensions" else max(2, round(default * scale))
        small, large = build(n), build(2 * n)
        for stage, run in small.items():
            yield Stage(family, stage, n, best(run, repeat), best(large[stage], repeat))


def table(stages: list[Stage]) -> str:
    head = f"{'input':<11} {'stage':<24} {'n':>6} {'t(n) ms':>9} {'t(2n) ms':>9} {'ratio':>6}"
    rows = [f"{s.family:<11} {s.stage:<24} {s.n:>6} {s.seconds * 1e3:>9.2f} {s.doubled * 1e3:>9.2f} "
            f"{s.ratio:>6.2f}" for s in stages]
    return "\n".join([head, *rows])


# -- the optimal search ---------------------------------------------------------------------------

SEARCH_PROBLEMS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "rotate": ((0, 1, 2), (1, 2, 0)),
    "move all": ((0, 0, 0), (2, 2, 2)),
    "shard": ((-1, -1, -1), (0, 1, 2)),
    "gather": ((0, 1, 2), (-1, -1, -1)),
    "swap in": ((0, 1, -1), (-1, 0, 1)),
}
"""Rank-3 problems as the dimension each mesh axis splits (−1: none), source then target; on a mesh
of fewer axes the first ones are used; ``move all`` reverses the axes' order."""


def search_meshes() -> list[tuple[int, ...]]:
    """Every mesh of 1–3 axes of sizes 2–4, each multiset of sizes once."""
    return [sizes for k in (1, 2, 3) for sizes in itertools.combinations_with_replacement((2, 3, 4), k)]


def search_problem(sizes: tuple[int, ...], name: str) -> tuple[Mesh, DistType, DistType]:
    mesh = Mesh(tuple(zip(("x", "y", "z"), sizes, strict=False)))
    shape = (2 * mesh.device_count,) * 3

    def ty(places: tuple[int, ...], reverse: bool) -> DistType:
        axes = [[a for a, p in zip(mesh.names, places, strict=False) if p == i] for i in range(3)]
        ordered = [tuple(a[::-1] if reverse else a) for a in axes]
        return DistType(tuple(Dim(n // mesh.product(a), a, n) for n, a in zip(shape, ordered, strict=True)))

    source, target = SEARCH_PROBLEMS[name]
    return mesh, ty(source, False), ty(target, name == "move all")


@dataclass(frozen=True, slots=True)
class SearchTime:
    mesh: str
    strategy: str
    slowest: str
    fast: float
    whole: float | None
    """None: the search over the whole graph refused."""


def cold(run: Callable[[], object], repeat: int) -> float:
    """The least processor time of ``repeat`` runs, the search's caches emptied before each and the
    garbage collector off (processor time, not wall time: a shared machine's other work does not
    count, and the search runs on one core)."""
    times: list[float] = []
    for _ in range(repeat):
        optimal.clear_caches()
        gc.collect()
        gc.disable()
        try:
            start = time.process_time()
            run()
            times.append(time.process_time() - start)
        finally:
            gc.enable()
    return min(times)


def search_times(repeat: int = 3, whole: bool = True) -> Iterator[SearchTime]:
    """Per mesh and strategy, the slowest problem's time by each search (``whole``: also by the
    search over the whole graph)."""
    for sizes in search_meshes():
        for strategy, candidates in (("optimal", None), ("optimal-subaxes", sub_axis_candidates)):
            times: list[tuple[float, str, float | None]] = []
            for name in SEARCH_PROBLEMS:
                mesh, source, target = search_problem(sizes, name)
                fast = cold(functools.partial(optimal.optimum, source, target, mesh, candidates), repeat)
                slow: float | None = None
                if whole:
                    try:
                        slow = cold(functools.partial(optimal.reference, source, target, mesh, candidates), 1)
                    except CalculusError:
                        slow = None
                times.append((fast, name, slow))
            fast, name, slow = max(times, key=lambda t: t[0])
            yield SearchTime(show_mesh(search_problem(sizes, name)[0]), strategy, name, fast, slow)


def search_table(rows: list[SearchTime]) -> str:
    head = f"{'mesh':<14} {'strategy':<16} {'slowest':<9} {'fast ms':>8} {'whole ms':>9} {'ratio':>7}"
    lines = [head]
    for r in rows:
        whole = "refused" if r.whole is None else f"{r.whole * 1e3:.1f}"
        ratio = "-" if r.whole is None else f"{r.whole / max(r.fast, 1e-9):.1f}"
        lines.append(f"{r.mesh:<14} {r.strategy:<16} {r.slowest:<9} {r.fast * 1e3:>8.1f} {whole:>9} "
                     f"{ratio:>7}")
    return "\n".join(lines)
