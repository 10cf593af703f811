"""Timing in turns, target verdicts, and the workload rows (2c, 2d) of ``python -m backend.bench``.

Each workload (``backend.bench_models``) runs once on every engine, the backend's loss and gradient
are checked against JAX's, and then the engines take turns round after round, each keeping its best
time, so that a noisy stretch of a shared machine falls on every peer alike. Every row is printed,
slow or failing: a failure or a missing engine says so in its row. The targets: the backend at
least 3x as fast as HIPS autograd, at most 1.2x PyTorch eager's time, at most 5 µs per primitive of
a small-array gradient.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import backend
from backend import bench_models, peers
from backend.pytree import flatten
from calculi.linear_ad.syntax import Expr, Prim, children

AUTOGRAD_TARGET = 3.0  # the backend at least this many times faster than HIPS autograd
TORCH_TARGET = 1.2  # the backend at most this many times slower than PyTorch eager
PRIMITIVE_TARGET = 5e-6  # seconds per primitive of a small-array gradient
AGREEMENT = 1e-4  # largest relative difference of float32 gradients that agree
OURS = "backend.value_and_grad"
SLOW_CALL, SLOW_TURNS = 1.0, 3  # seconds a call; turns a slower callable takes


def row(name: str, seconds: float, base: float | None = None, unit: str = "ms", scale: float = 1e3) -> None:
    ratio = f"{seconds / base:8.2f}x" if base else " " * 9
    print(f"  {name:<44} {seconds * scale:10.2f} {unit}  {ratio}")


def faster(theirs: float, ours: float) -> str:
    """``N x faster`` or ``N x slower``, read from the backend's side."""
    return f"{theirs / ours:.2f}x faster" if theirs >= ours else f"{ours / theirs:.2f}x slower"


def versus_autograd(theirs: float, ours: float, per: str = "") -> str:
    held = theirs >= AUTOGRAD_TARGET * ours
    return (f"→ backend is {faster(theirs, ours)} than autograd{per} "
            f"(target ≥ {AUTOGRAD_TARGET:g}x faster: {verdict(held)})")


def versus_torch(theirs: float, ours: float, per: str = "") -> str:
    held = ours <= TORCH_TARGET * theirs
    return (f"→ backend is {faster(theirs, ours)} than torch eager{per} "
            f"(target ≤ {TORCH_TARGET:g}x its time: {verdict(held)})")


def verdict(held: bool) -> str:
    return "met" if held else "NOT MET"


def workloads(rounds: int, turn: float) -> None:
    """2c and 2d: the attention block and the RNN against every peer."""
    rng = np.random.default_rng(0)
    b, t, d, heads, steps = 8, 64, 64, 4, 50
    params = bench_models.attention_init(d, heads)
    print(f"\n2c. attention block (pre-norm, {heads} heads, causal, GeLU MLP), B={b}, T={t}, D={d}: "
          f"one loss-and-gradient step (float32), {size(params):,} parameters")
    step_rows(bench_models.attention_loss, (params, rng.standard_normal((b, t, d)).astype(np.float32)),
              rounds, turn)
    params = bench_models.rnn_init(d, d)
    print(f"\n2d. RNN h_t = tanh(x_t W + h_t-1 U + b), {steps} steps by a Python loop, B={b}, D={d}: "
          f"one loss-and-gradient step (float32), {size(params):,} parameters")
    step_rows(bench_models.rnn_loss, (params, rng.standard_normal((b, steps, d)).astype(np.float32)),
              rounds, turn)


def size(params: Any) -> int:
    return sum(int(np.size(p)) for p in flatten(params)[0])


def step_rows(loss: Callable[..., Any], args: tuple[Any, ...], rounds: int, turn: float,
              before: dict[str, Callable[[], Any]] | None = None, base: str = OURS) -> dict[str, float]:
    """One loss-and-gradient step of ``loss`` at ``args`` on the backend and every peer (and the
    callables ``before``, first): each runs once (compiling, tracing), the backend's result is
    checked against JAX's, then all are timed in turns; ratios are to the row ``base``. Every row is
    printed, a failure or a missing engine saying so in its row. The best times, by row."""
    calls, failed = _peer_calls(loss)
    runs = dict(before or {}) | {name: functools.partial(f, *args) for name, f in calls.items()}
    results, errors = warm(runs)
    failed |= errors
    _check_gradient(results)
    times = interleaved({name: runs[name] for name in results}, rounds, turn)
    ours, reference = times.get(OURS), times.get(base, times.get(OURS))
    for name in runs:
        if name not in times:
            print(f"  {name:<44} {failed[name]}")
            continue
        seconds = times[name]
        row(name, seconds, reference if name != base else None)
        if name == OURS:
            n = _primitives(loss, *args)
            print(f"    {n} primitives in the traced forward pass: {seconds / n * 1e6:.2f} µs per primitive")
        elif ours and name.startswith("autograd"):
            print(f"    {versus_autograd(seconds, ours)}")
        elif ours and name.startswith("torch"):
            print(f"    {versus_torch(seconds, ours)}")
    for name, why in failed.items():
        if name not in runs:
            print(f"  {name:<44} {why}")
    return times


def warm(calls: dict[str, Callable[[], Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    """Each callable called once (compiling, tracing): the results by name, and why the others failed."""
    results: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for name, f in calls.items():
        try:
            results[name] = f()
        except Exception as err:  # an engine that cannot run the model: its row says why
            failed[name] = f"failed: {type(err).__name__}: {str(err)[:60]}"
    return results, failed


def interleaved(calls: dict[str, Callable[[], Any]], rounds: int, turn: float,
                clock: Callable[[], float] = time.perf_counter) -> dict[str, float]:
    """The fastest call of each callable (already warm), in seconds of ``clock``: the callables take
    turns round after round, each turn about ``turn`` seconds of calls timed one by one, so that a
    noisy stretch of a shared machine falls on every peer alike and each keeps its quietest moment. A
    callable slower than ``SLOW_CALL`` takes at most ``SLOW_TURNS`` turns."""
    best_of: dict[str, float] = {}
    number: dict[str, int] = {}
    for name, f in calls.items():
        t = clock()
        f()
        best_of[name] = clock() - t
        number[name] = max(1, int(turn / max(best_of[name], 1e-9)))
    turns = {name: rounds if best_of[name] < SLOW_CALL else min(rounds, SLOW_TURNS) for name in calls}
    for i in range(rounds):
        for name, f in calls.items():
            if i >= turns[name]:
                continue
            fastest = best_of[name]
            for _ in range(number[name]):
                t = clock()
                f()
                fastest = min(fastest, clock() - t)
            best_of[name] = fastest
    return best_of


def _primitives(f: Callable[..., Any], *args: Any) -> int:
    """The primitives of ``f``'s traced program (its forward pass)."""
    stack: list[Expr] = [d.body for d in backend.make_program(f)(*args).program.defs]
    count = 0
    while stack:
        e = stack.pop()
        count += isinstance(e, Prim)
        stack.extend(children(e))
    return count


def _peer_calls(loss: Callable[..., Any]) -> tuple[dict[str, Callable[..., Any]], dict[str, str]]:
    """Loss-and-gradient callables by row name, and the rows of engines not installed."""
    calls: dict[str, Callable[..., Any]] = {OURS: backend.value_and_grad(loss)}
    missing: dict[str, str] = {}
    if peers.available("autograd"):
        calls["autograd on the same model code"] = peers.autograd_value_and_grad(loss)
    else:
        missing["autograd"] = "not installed: pip install 'calculi[bench]'"
    if not peers.available("jax"):
        missing["jax"] = "not installed: pip install 'calculi[jax]'"
    else:
        from jax import block_until_ready  # an optional engine: imported only when installed

        for jit in (False, True):
            vg = peers.jax_value_and_grad(loss, jit=jit)
            label = "jax jit(value_and_grad)" if jit else "jax value_and_grad (no jit)"
            calls[label] = functools.partial(_blocked_call, block_until_ready, vg)
    if peers.available("torch"):
        calls["torch eager on the same model code"] = peers.torch_value_and_grad(loss)
    else:
        missing["torch eager"] = "not installed: pip install 'calculi[torch]'"
    return calls, missing


def _blocked_call(block: Callable[[Any], Any], vg: Callable[..., Any], *args: Any) -> Any:
    return block(vg(*args))


def _check_gradient(results: dict[str, Any]) -> None:
    """The backend's loss and gradient against JAX's (autograd's without JAX): the largest difference
    of a leaf relative to the leaf's largest magnitude."""
    peer = next((name for name in ("jax jit(value_and_grad)", "jax value_and_grad (no jit)",
                                   "autograd on the same model code") if name in results), None)
    if OURS not in results or peer is None:
        print("  gradient unchecked: the backend or every reference engine failed or is missing")
        return
    ours, theirs = flatten(results[OURS])[0], flatten(results[peer])[0]
    diff = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) / max(float(np.max(np.abs(b))), 1e-30)
               for a, b in zip(ours, theirs, strict=True))
    held = "agree" if diff <= AGREEMENT else "DISAGREE: the timings below are of a wrong answer"
    print(f"  loss and gradient vs {peer.split(' on ')[0]}: max relative difference {diff:.1e} "
          f"(tolerance {AGREEMENT:g}): {held}")
