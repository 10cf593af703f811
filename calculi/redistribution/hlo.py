"""Traffic read off compiled HLO text: the bytes every collective makes the devices receive.

Used by the benchmark to measure XLA's own resharding the same way as ours. Per instruction, with
``g`` the size of its replica groups and ``S`` its per-device result size in bytes:

    all-gather           each device receives S·(g−1)/g
    all-to-all           each device receives S·(g−1)/g    (S summed over the tuple of chunks)
    collective-permute   each pair (src ≠ dst) moves S

Replica groups are read in any of XLA's three spellings: explicit ``{{0,3},{1,4}}``, iota
``[3,2]<=[6]``, and named-mesh ``mesh['a'=2,'b'=3] {'a'}`` (with sub-axes ``'a':(1)2``). A collective
in the body of a ``while`` loop counts once per iteration (the loop's ``known_trip_count``; a loop
without one is refused rather than guessed).
"""

from __future__ import annotations

import math
import re

_BYTES = {"f64": 8, "s64": 8, "u64": 8, "c64": 8, "f32": 4, "s32": 4, "u32": 4, "bf16": 2, "f16": 2,
          "s16": 2, "u16": 2, "s8": 1, "u8": 1, "pred": 1}
_INSTRUCTION = re.compile(
    r"=\s*(?P<shape>\([^()]*\)|\w+\[[\d,]*\](?:\{[\d,]*\})?)\s+"
    r"(?P<op>all-gather|all-to-all|collective-permute)(?:-start)?\((?P<rest>.*)$"
)
_ARRAY = re.compile(r"(\w+)\[([\d,]*)\]")


def _bytes(shape: str) -> int:
    total = 0
    for dtype, dims in _ARRAY.findall(shape):
        total += _BYTES.get(dtype, 4) * math.prod(int(d) for d in dims.split(",") if d)
    return total


def _group_size(rest: str, devices: int) -> int:
    if m := re.search(r"replica_groups=\{\{([\d,]*)\}", rest):
        return len(m.group(1).split(","))
    if m := re.search(r"replica_groups=\[(\d+),(\d+)\]<=", rest):
        return int(m.group(2))
    if m := re.search(r"replica_groups=mesh\[([^\]]*)\][^{]*\{([^}]*)\}", rest):
        sizes = {name: int(size) for name, size in re.findall(r"'(\w+)'=(\d+)", m.group(1))}
        group = 1
        for name, sub in re.findall(r"'(\w+)'(?::\(\d+\)(\d+))?", m.group(2)):
            group *= int(sub) if sub else sizes.get(name, 1)
        return group
    return devices


_COMPUTATION = re.compile(r"^(?:ENTRY\s+)?%?(?P<name>[\w.\-]+)\s*\(.*\)\s*->.*\{\s*$")
_WHILE = re.compile(r"\bwhile\(.*\bbody=%?(?P<body>[\w.\-]+)")
_TRIPS = re.compile(r'"known_trip_count":\{"n":"(\d+)"\}')


def _times_run(text: str) -> dict[str, int]:
    """How many times each computation that is a ``while`` body runs per run of the module: its trip
    count, times that of the computation holding the loop."""
    holder, body_of = "", {}
    for line in text.splitlines():
        if m := _COMPUTATION.match(line):
            holder = m.group("name")
        elif m := _WHILE.search(line):
            trips = _TRIPS.search(line)
            if trips is None:
                raise ValueError(f"a while loop without a known trip count: {line.strip()[:200]}")
            body_of[m.group("body")] = (holder, int(trips.group(1)))

    def times(name: str, seen: frozenset[str] = frozenset()) -> int:
        if name not in body_of or name in seen:
            return 1
        outer, trips = body_of[name]
        return trips * times(outer, seen | {name})

    return {name: times(name) for name in body_of}


def received_bytes(text: str, devices: int) -> int:
    """Bytes received over all devices by the collectives of one compiled HLO module, each counted
    as many times as it runs (``_times_run``)."""
    total, times, holder = 0, _times_run(text), ""
    for line in text.splitlines():
        if c := _COMPUTATION.match(line):
            holder = c.group("name")
        m = _INSTRUCTION.search(line)
        if m is None:
            continue
        runs = times.get(holder, 1)
        size, op, rest = _bytes(m.group("shape")), m.group("op"), m.group("rest")
        if op == "collective-permute":
            listed = rest.split("source_target_pairs=", 1)[-1].split("}}", 1)[0] + "}"
            pairs = re.findall(r"\{(\d+),(\d+)\}", listed)
            total += runs * size * sum(1 for src, dst in pairs if src != dst)
        else:
            g = _group_size(rest, devices)
            total += runs * (devices * size * (g - 1) // g)
    return total
