"""Adam on pytrees of NumPy arrays, and .npz checkpoints that resume without losing a step.

Adam (Kingma & Ba)::

    m ← β1 m + (1−β1) g      v ← β2 v + (1−β2) g²
    θ ← θ − lr · (m / (1−β1^t)) / (√(v / (1−β2^t)) + ε)

A step whose loss or gradient is not finite (NaN or ±∞) is skipped: parameters and moments stay as
they were, ``skipped`` counts it and ``last_skipped`` says so; t counts the steps taken. The global
norm clip then only ever sees finite gradients.

A checkpoint holds the parameters, the optimizer moments, the step count, the data sampler's RNG
state and the run's configuration; loading it and continuing gives the same parameters, bit for
bit, as never having stopped.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backend.pytree import PyTree, flatten, named_leaves, tree_map, unflatten
from calculi.core.errors import UsageError


def finite(grads: PyTree, loss: float | None = None) -> bool:
    """Whether the loss (if given) and every gradient entry are finite numbers."""
    if loss is not None and not math.isfinite(float(loss)):
        return False
    return all(bool(np.all(np.isfinite(g))) for g in flatten(grads)[0])


def global_norm(grads: PyTree) -> float:
    """``√(Σ g²)`` over all leaves, in float64 and scaled by the largest entry (no overflow)."""
    leaves = [np.asarray(g, np.float64) for g in flatten(grads)[0]]
    top = max((float(np.max(np.abs(g))) for g in leaves if g.size), default=0.0)
    if top == 0.0:
        return 0.0
    return top * math.sqrt(sum(float(np.sum(np.square(g / top))) for g in leaves))


@dataclass
class Adam:
    lr: float = 3e-3
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    clip: float = 1.0  # global gradient-norm clip (0: off)
    step: int = 0  # steps seen, taken or skipped
    m: PyTree = None
    v: PyTree = None
    history: list[float] = field(default_factory=list)
    skipped: int = 0  # steps skipped for a loss or gradient that was not finite
    last_skipped: bool = False

    def update(self, params: PyTree, grads: PyTree, loss: float | None = None) -> PyTree:
        """The parameters after one step; ``params`` themselves when the step is skipped. The state
        changes only once the step is computed (an interruption leaves it whole)."""
        if not finite(grads, loss):
            self.step, self.skipped, self.last_skipped = self.step + 1, self.skipped + 1, True
            return params
        m = self.m if self.m is not None else tree_map(np.zeros_like, params)
        v = self.v if self.v is not None else tree_map(np.zeros_like, params)
        if self.clip > 0:
            norm = global_norm(grads)
            if norm > self.clip:
                grads = tree_map(lambda g: g * (self.clip / norm), grads)
        b1, b2, t = self.b1, self.b2, self.step + 1 - self.skipped
        m = tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
        v = tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
        c1, c2 = 1 - b1**t, 1 - b2**t

        def move(p: Any, m: Any, v: Any) -> Any:
            return (p - self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)).astype(p.dtype)

        new = tree_map(move, params, m, v)
        self.m, self.v, self.step, self.last_skipped = m, v, self.step + 1, False
        return new

def save(path: str, params: PyTree, opt: Adam, rng: np.random.Generator, config: dict[str, Any]) -> None:
    """Write a checkpoint atomically (a temporary file, then a rename)."""
    arrays: dict[str, Any] = {f"params/{k}": v for k, v in named_leaves(params)}
    if opt.m is not None:
        arrays |= {f"m/{k}": v for k, v in named_leaves(opt.m)}
        arrays |= {f"v/{k}": v for k, v in named_leaves(opt.v)}
    meta = {"step": opt.step, "skipped": opt.skipped, "rng": rng.bit_generator.state, "config": config,
            "history": opt.history,
            "adam": {"lr": opt.lr, "b1": opt.b1, "b2": opt.b2, "eps": opt.eps, "clip": opt.clip}}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    tmp = path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def load(path: str, like: PyTree) -> tuple[PyTree, Adam, np.random.Generator, dict[str, Any]]:
    """Read a checkpoint into the structure of ``like`` (parameters of the same model)."""
    try:
        data = np.load(path)
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot read checkpoint {path}: {err}") from None
    with data:
        meta = json.loads(bytes(data["meta"]).decode())
        names = [k for k, _ in named_leaves(like)]
        _, treedef = flatten(like)

        def tree(prefix: str) -> PyTree:
            missing = [n for n in names if f"{prefix}/{n}" not in data]
            if missing:
                raise UsageError(f"checkpoint {path} does not match the model: no {prefix}/{missing[0]}")
            by_name = {n: data[f"{prefix}/{n}"] for n in names}
            return unflatten(treedef, [by_name[n] for n in _leaf_order(like)])

        params = tree("params")
        opt = Adam(**meta["adam"], step=meta["step"], history=list(meta["history"]),
                   skipped=meta.get("skipped", 0))
        if "m/" + names[0] in data:
            opt.m, opt.v = tree("m"), tree("v")
    rng = np.random.default_rng()
    rng.bit_generator.state = meta["rng"]
    return params, opt, rng, meta["config"]


def _leaf_order(tree: PyTree) -> list[str]:
    """Leaf names in ``flatten`` order (sorted dict keys, list order), matching ``named_leaves``."""
    return [k for k, _ in named_leaves(tree)]
