"""Composed transformations: ``python -m backend.bench_second_order [--quick]``; peers in one process.

1. The Hessian-vector product of the digits MLP's loss, ``jvp(grad loss)`` (forward over reverse),
   against JAX with ``jax.jit`` around the same composition, JAX without jit, and HIPS autograd's
   ``hessian_vector_product``, each running the very same model code (``backend.peers``), float64.
2. Per-example gradients at batch 128, ``vmap(grad(loss), in_axes=(None, 0, 0))``, against the
   Python loop over the examples and ``jax.vmap``.

Each peer's answer is checked against ours first; ratios are printed, no time is asserted.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import backend
from backend import data, peers
from backend.bench_workloads import interleaved, row, warm
from backend.jacobians import hvp
from backend.models import mlp
from backend.pytree import flatten, unflatten


def _digits(n: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        d = data.digits()
        return d.x_train[:n].astype(np.float64), d.y_train[:n]
    except Exception:  # scikit-learn missing: random images of the same shape
        rng = np.random.default_rng(0)
        return rng.standard_normal((n, 64)), rng.integers(0, 10, n)


def _peer_hvps(loss: Callable[..., Any], x: Any, y: Any) -> dict[str, Callable[[Any, Any], Any]]:
    out: dict[str, Callable[[Any, Any], Any]] = {}
    if peers.available("jax"):
        import jax

        jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]
        namespace = peers.jax_numpy()

        def lj(p: Any) -> Any:
            with peers.running_on(namespace):
                return loss(p, x, y)

        def jax_hvp(p: Any, v: Any) -> Any:
            return jax.jvp(jax.grad(lj), (p,), (v,))[1]

        compiled = jax.jit(jax_hvp)
        out["jax.jit(jvp(grad))"] = lambda p, v: jax.block_until_ready(  # type: ignore[no-untyped-call]
            compiled(p, v))  # (its dispatch is asynchronous)
        out["jax jvp(grad), no jit"] = jax_hvp
    if peers.available("autograd"):
        from autograd import hessian_vector_product

        anp = peers.autograd_numpy()

        def la(p: Any) -> Any:
            with peers.running_on(anp):
                return loss(p, x, y)

        def autograd_hvp(p: Any, v: Any) -> Any:
            product = hessian_vector_product(_on_vector(la, p))
            return _tree_like(product(_vector(p), _vector(v)), p)

        out["autograd hessian_vector_product"] = autograd_hvp
    return out


def _vector(tree: Any) -> Any:
    return np.concatenate([np.ravel(a) for a in flatten(tree)[0]])


def _tree_like(flat: Any, like: Any, stack: Any = np) -> Any:
    leaves, tree = flatten(like)
    out, at = [], 0
    for a in leaves:
        n = int(np.size(a))
        out.append(stack.reshape(flat[at: at + n], np.shape(a)))
        at += n
    return unflatten(tree, out)


def _on_vector(loss: Callable[[Any], Any], like: Any) -> Callable[[Any], Any]:
    """``loss`` of a parameter tree shaped like ``like``, as a function of one flat vector."""
    import autograd.numpy as anp

    return lambda theta: loss(_tree_like(theta, like, anp))


def mlp_hvp(n: int, hidden: int, rounds: int, turn: float) -> None:
    x, y = _digits(n)
    params = mlp.init([64, hidden, 10], seed=0, dtype=np.float64)
    leaves, tree = flatten(params)
    rng = np.random.default_rng(1)
    v = unflatten(tree, [rng.standard_normal(np.shape(a)) for a in leaves])
    print(f"\nHessian-vector product of the MLP 64-{hidden}-10 loss on {n} digits (float64, process time); "
          "ratios to ours")

    def product(p: Any, t: Any, xs: Any, ys: Any) -> Any:
        return hvp(lambda q: mlp.loss(q, xs, ys), (p,), (t,))

    jitted = backend.jit(product)
    ours = "ours: jit(jvp(grad(loss)))"
    calls: dict[str, Callable[[], Any]] = {
        ours: lambda: jitted(params, v, x, y),
        "ours: jvp(grad(loss)), traced per call": lambda: product(params, v, x, y)}
    for name, f in _peer_hvps(mlp.loss, x, y).items():
        calls[name] = functools.partial(f, params, v)
    results, failed = warm(calls)
    want = [np.asarray(a) for a in flatten(results[ours])[0]]
    for name, got in results.items():
        gap = max(float(np.max(np.abs(np.asarray(a) - b)) / (1e-12 + np.abs(b).max()))
                  for a, b in zip(flatten(got)[0], want, strict=True))
        if gap > 1e-8:
            failed[name] = f"disagrees with ours (relative gap {gap:.2g})"
    times = interleaved({k: f for k, f in calls.items() if k not in failed}, rounds, turn,
                        time.process_time)
    for name, seconds in times.items():
        row(name, seconds, times[ours])
    for name, why in failed.items():
        print(f"  {name:<44} {why}")


def per_example(n: int, hidden: int, rounds: int, turn: float) -> None:
    """Per-example gradients ``vmap(grad(loss), in_axes=(None, 0, 0))`` against the loop of one
    compiled gradient over the examples and ``jax.jit(jax.vmap(jax.grad))`` (target: ≥ 10× the loop)."""
    x, y = _digits(n)
    params = mlp.init([64, hidden, 10], seed=0, dtype=np.float64)
    print(f"\nPer-example gradients of the MLP 64-{hidden}-10 at batch {n} (float64, process time); "
          "ratios to vmap")

    def example_loss(p: Any, xi: Any, yi: Any) -> Any:
        return mlp.loss(p, xi[None], yi[None])

    batched = backend.jit(backend.vmap(backend.grad(example_loss), in_axes=(None, 0, 0)))
    one = backend.jit(backend.grad(example_loss))
    vm = "ours: jit(vmap(grad(loss)))"
    calls: dict[str, Callable[[], Any]] = {
        vm: lambda: batched(params, x, y),
        "ours: loop of jit(grad(loss))": lambda: [one(params, x[b], y[b]) for b in range(n)]}
    if peers.available("jax"):
        import jax

        namespace = peers.jax_numpy()

        def lj(p: Any, xi: Any, yi: Any) -> Any:
            with peers.running_on(namespace):
                return example_loss(p, xi, yi)

        jitted = jax.jit(jax.vmap(jax.grad(lj), in_axes=(None, 0, 0)))
        calls["jax.jit(vmap(grad))"] = lambda: jax.block_until_ready(  # type: ignore[no-untyped-call]
            jitted(params, x, y))
    results, failed = warm(calls)
    want = [np.asarray(a) for a in flatten(results[vm])[0]]
    loop = results["ours: loop of jit(grad(loss))"]
    gap = max(float(np.max(np.abs(want[k][b] - np.asarray(flatten(loop[b])[0][k])))) for b in range(n)
              for k in range(len(want)))
    print(f"  vmap against the loop: largest gap {gap:.1e}")
    times = interleaved({k: f for k, f in calls.items() if k not in failed}, rounds, turn,
                        time.process_time)
    for name, seconds in times.items():
        row(name, seconds, times[vm])
    for name, why in failed.items():
        print(f"  {name:<44} {why}")
    ratio = times["ours: loop of jit(grad(loss))"] / times[vm]
    print(f"  vmap is {ratio:.1f}x the loop (target >= 10x): {'held' if ratio >= 10 else 'NOT held'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m backend.bench_second_order")
    ap.add_argument("--quick", action="store_true", help="a small batch, few rounds (seconds)")
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads for every engine (default 1)")
    args = ap.parse_args(argv)
    if peers.available("threadpoolctl"):
        importlib.import_module("threadpoolctl").threadpool_limits(args.threads)
        print(f"BLAS threads: {args.threads} (every engine in this process; process time counts each "
              "thread, and idle BLAS threads spin)")
    else:
        print("threadpoolctl not installed: BLAS uses its default threads (set OPENBLAS_NUM_THREADS)")
    rounds, turn = (3, 0.05) if args.quick else (7, 0.2)
    mlp_hvp(128 if args.quick else 1437, 32 if args.quick else 128, rounds, turn)
    per_example(128, 32 if args.quick else 128, rounds, turn)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
