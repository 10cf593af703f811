"""Benchmarks: ``python -m backend.bench [--quick]``; peers run in the same process, ratios printed.

1. Per-primitive overhead of a small-array gradient (a chain of ``sin``), µs per primitive, against
   plain NumPy's forward pass and, when installed, HIPS autograd, JAX (with and without jit) and
   PyTorch eager on the CPU.
2. One training step (loss and gradient) of the MLP, of the Griffin model at two sizes, of an
   attention block and of a 50-step RNN (``backend.bench_models``), against HIPS autograd, JAX (with
   and without jit) and PyTorch eager running the very same model code (``backend.peers``); the
   last two check the gradient against JAX's first and time the engines in turns
   (``backend.bench_workloads``). Each row against autograd or PyTorch says whether its target holds.
3. Peak memory and time of the Griffin step saving everything and saving only block boundaries.
4. Tokens per second and peak memory of streaming through the model at T = 10^3 … 10^6: sampling
   token by token with the compiled decode step, and scoring a long stream chunk by chunk.

Timings are the best of several rounds in which the engines take turns, so that a noisy stretch of
the shared machine falls on all alike; read ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import math
import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import backend
import backend.numpy as bnp
from backend import data, peers, policies
from backend.bench_workloads import (
    OURS,
    PRIMITIVE_TARGET,
    interleaved,
    row,
    step_rows,
    verdict,
    versus_autograd,
    versus_torch,
    warm,
    workloads,
)
from backend.models import griffin, mlp, stream


def best(f: Callable[[], Any], repeat: int = 5, number: int = 1) -> float:
    """Best wall time of ``number`` calls, over ``repeat`` runs, in seconds per call."""
    f()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            f()
        times.append((time.perf_counter() - t) / number)
    return min(times)


def overhead(rounds: int, turn: float, n: int = 50) -> None:
    print(f"\n1. overhead: gradient of a chain of {n} sin on a 1-element array (µs per primitive)")
    x = np.array([0.3])

    def chain(v: Any, lib: Any = bnp) -> Any:
        for _ in range(n):
            v = lib.sin(v)
        return lib.sum(v)

    g = backend.grad(chain)
    calls: dict[str, Callable[[], Any]] = {"numpy forward (no gradient)": lambda: chain(x, np),
                                           "backend.grad (compiled once)": lambda: g(x)}
    if peers.available("autograd"):
        import autograd
        import autograd.numpy as anp

        calls["autograd.grad"] = functools.partial(autograd.grad(lambda v: chain(v, anp)), x)
    if peers.available("jax"):
        import jax
        import jax.numpy as jnp

        jg = jax.grad(lambda v: chain(v, jnp))
        xj = jnp.array(0.3)
        calls["jax.grad (no jit)"] = lambda: jg(xj).block_until_ready()
        jj = jax.jit(jg)
        calls["jax.jit(jax.grad)"] = lambda: jj(xj).block_until_ready()
    if peers.available("torch"):
        import torch

        def torch_grad() -> Any:
            v = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
            chain(v, torch).backward()
            return v.grad

        calls["torch eager backward"] = torch_grad
    results, failed = warm(calls)
    base = "numpy forward (no gradient)"
    timed = interleaved({name: calls[name] for name in results}, rounds, turn)
    times = {name: seconds / n for name, seconds in timed.items()}
    forward, ours = times[base], times.get("backend.grad (compiled once)", math.inf)
    for name in calls:
        if name in failed:
            print(f"  {name:<44} {failed[name]}")
            continue
        seconds = times[name]
        row(name, seconds, forward if name != base else None, "µs", 1e6)
        if name.startswith("backend"):
            held = verdict(ours <= PRIMITIVE_TARGET)
            print(f"  → target ≤ {PRIMITIVE_TARGET * 1e6:g} µs per primitive: {held}")
        elif name.startswith("autograd"):
            print(f"  {versus_autograd(seconds, ours, ' per primitive')}")
        elif name.startswith("torch"):
            print(f"  {versus_torch(seconds, ours, ' per primitive')}")
    for engine in ("autograd", "jax", "torch"):
        if not peers.available(engine):
            print(f"  ({engine} not installed)")


def mlp_step(rounds: int, turn: float) -> None:
    try:
        d = data.digits()
    except Exception as err:  # scikit-learn missing: say so and go on
        print(f"\n2a. MLP: skipped: {err}")
        return
    x = np.concatenate([d.x_train, d.x_test])
    y = np.concatenate([d.y_train, d.y_test])
    params = mlp.init([64, 128, 10])
    print(f"\n2a. MLP 64-128-10 on all {len(y):,} digits: one loss-and-gradient step (float32)")
    hand = "hand-written NumPy backprop"
    step_rows(mlp.loss, (params, x, y), rounds, turn,
              before={hand: functools.partial(_mlp_by_hand, params, x, y)}, base=hand)


def _mlp_by_hand(p: dict[str, Any], x: Any, y: Any) -> Any:
    w1, b1, w2, b2 = p["layer0"]["w"], p["layer0"]["b"], p["layer1"]["w"], p["layer1"]["b"]
    h = np.tanh(x @ w1 + b1)
    z = h @ w2 + b2
    z = z - z.max(1, keepdims=True)
    pz = np.exp(z)
    pz /= pz.sum(1, keepdims=True)
    loss = -np.log(pz[np.arange(len(y)), y]).mean()
    dz = pz
    dz[np.arange(len(y)), y] -= 1
    dz /= len(y)
    dh = (dz @ w2.T) * (1 - h * h)
    return loss, (x.T @ dh, dh.sum(0), h.T @ dz, dz.sum(0))


def griffin_steps(sizes: list[tuple[str, int, int]], rounds: int, turn: float) -> None:
    text = data.pydoc_text()
    for name, b, t in sizes:
        cfg = griffin.preset(name, len(text.vocab))
        params = griffin.init(cfg)
        x, y = data.windows(text.train, b, t, np.random.default_rng(0))

        def loss(p: Any, a: Any, c: Any, cfg: griffin.GriffinConfig = cfg) -> Any:
            return griffin.loss(p, a, c, cfg)

        print(f"\n2b. Griffin, {name} preset, {griffin.count(params):,} parameters, B={b}, T={t}: "
              "one loss-and-gradient step (float32)")
        times = step_rows(loss, (params, x, y), rounds, turn)
        if OURS in times:
            flops = 6 * griffin.count(params) * b * t
            print(f"  backend: {flops / times[OURS] / 1e9:.1f} GFLOP/s (6N per token)")


def memory(t: int, repeat: int, preset: str = "medium") -> None:
    print(f"\n3. checkpointing: the Griffin step over T = {t} ({preset} preset, B = 1)")
    text = data.pydoc_text()
    cfg = griffin.preset(preset, len(text.vocab))
    params = griffin.init(cfg)
    x, y = data.windows(text.train, 1, t, np.random.default_rng(0))

    def loss(p: Any, a: Any, c: Any) -> Any:
        return griffin.loss(p, a, c, cfg)

    results = {}
    for name in ("everything_saveable", "blocks", "nothing_saveable"):
        vg = backend.value_and_grad(backend.checkpoint(loss, policies.POLICIES[name]))
        seconds = best(functools.partial(vg, params, x, y), repeat)
        tracemalloc.start()
        vg(params, x, y)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        results[name] = (seconds, peak)
    base_s, base_m = results["everything_saveable"]
    for name, (seconds, peak) in results.items():
        print(f"  {name:<22} {seconds * 1e3:9.1f} ms ({seconds / base_s:.2f}x time)   "
              f"peak {peak / 2**20:8.1f} MiB ({base_m / peak:.2f}x less)")


def generation(lengths: list[int], sample_limit: int, score_limit: int | None = None) -> None:
    """Sampling token by token (one compiled ``decode`` step per token) and scoring chunk by chunk, at
    each length. Sampling rows give the process's peak resident memory during the row (Linux's
    VmHWM, reset before each row) and its growth over the row's start: tracemalloc hooks every
    allocation and would slow the per-token loop about tenfold. Scoring rows give tracemalloc's peak."""
    print("\n4. streaming with a fixed-size state (small preset)")
    text = data.pydoc_text()
    cfg = griffin.preset("small", len(text.vocab))
    params = griffin.init(cfg)
    print(f"  state: {stream.state_bytes(griffin.init_state(cfg, 1)):,} bytes, whatever the length")
    list(stream.sample(params, cfg, text.train[:8], 2, np.random.default_rng(0)))  # compile the step
    for n in lengths:
        if n <= sample_limit:
            start = _reset_peak_rss()
            t = time.perf_counter()
            for _ in stream.sample(params, cfg, text.train[:8], n, np.random.default_rng(0)):
                pass
            dt = time.perf_counter() - t
            peak = _peak_rss()
            print(f"  sample  T = {n:>9,}: {n / dt:10.0f} tokens/s, peak RSS {peak / 2**20:7.1f} MiB "
                  f"({(peak - start) / 2**20:+.2f} MiB over the start)")
        if score_limit is not None and n > score_limit:
            continue
        tracemalloc.start()
        t = time.perf_counter()
        loss, count = stream.score_stream(params, cfg, stream.chunks(text.valid, 128, n))
        dt = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"  stream  T = {n:>9,}: {count / dt:10.0f} tokens/s, peak {peak / 2**20:6.2f} MiB "
              f"(loss {loss:.3f})")


def _peak_rss() -> int:
    """The process's peak resident memory in bytes (VmHWM; ``ru_maxrss`` where /proc is missing)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _reset_peak_rss() -> int:
    """Reset the peak to the current resident memory where Linux allows it; the bytes it starts at."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass
    return _peak_rss()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m backend.bench", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few repeats (seconds)")
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads for every engine (default 1)")
    ap.add_argument("--sample-limit", type=int, default=None, metavar="N",
                    help="sample token by token only up to T = N in section 4 (default: every length, "
                         "10^6 included: most of an hour on 2 cores; --quick: 1000)")
    args = ap.parse_args(argv)
    if peers.available("threadpoolctl"):
        importlib.import_module("threadpoolctl").threadpool_limits(args.threads)
        print(f"BLAS threads: {args.threads} (every engine in this process)")
    else:
        print("threadpoolctl not installed: BLAS uses its default threads (set OPENBLAS_NUM_THREADS)")
    if peers.available("torch"):
        importlib.import_module("torch").set_num_threads(args.threads)  # torch's own intra-op pool
    rounds, turn = (5, 0.05) if args.quick else (9, 0.2)
    overhead(rounds, turn)
    mlp_step(rounds, turn)
    griffin_steps([("tiny", 4, 64)] if args.quick else [("tiny", 8, 128), ("small", 8, 256)], rounds, turn)
    workloads(rounds, turn)
    memory(*((256, 1, "small") if args.quick else (4096, 2, "medium")))
    lengths = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000, 1_000_000]
    limit = args.sample_limit if args.sample_limit is not None else 1_000 if args.quick else lengths[-1]
    generation(lengths, limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
