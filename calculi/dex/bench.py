"""Benchmark: the compiled NumPy against hand-written NumPy, and against the reference interpreter.

    OPENBLAS_NUM_THREADS=1 python -m calculi.dex.bench [--scale X] [--small N]

Each example is a Dex function of its inputs, at a size where the work dominates; the peer is the
bulk NumPy one would write by hand. Times are process time, best of seven, in one process; the
table prints each ratio (compiled / hand-written, interpreter / compiled at ``--small``). Process
time sums the time of every thread, and a multi-threaded BLAS spinning on a busy machine blurs the
matrix products (1.3–3.2x on matmul where one thread gives 1.04–1.07x): pin BLAS to one thread, as
above, for figures that compare the code rather than the scheduler.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from calculi.core.files import cli, positive_int
from calculi.core.syntax import Source
from calculi.dex.compile import compile_program
from calculi.dex.parse import parse_program

Array = np.ndarray[Any, Any]


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    program: Callable[[int], str]
    inputs: Callable[[int, np.random.Generator], list[Array]]
    hand: Callable[..., Any]


def _matmul(n: int) -> str:
    return (f"\\a:Fin {n}=>Fin {n}=>Real. \\b:Fin {n}=>Fin {n}=>Real. "
            f"for i:Fin {n}. for k:Fin {n}. sum (for j:Fin {n}. a.i.j * b.j.k)")


def _softmax(n: int) -> str:
    return (f"\\x:Fin {n}=>Fin 64=>Real. for r:Fin {n}. let e = for i:Fin 64. exp x.r.i in "
            f"let t = sum e in for i:Fin 64. e.i / t")


def _layernorm(n: int) -> str:
    return (f"\\x:Fin {n}=>Fin 64=>Real. for r:Fin {n}. let m = sum x.r / 64.0 in "
            f"let c = for j:Fin 64. x.r.j - m in "
            f"let v = sum (for j:Fin 64. c.j * c.j) / 64.0 in for j:Fin 64. c.j / sqrt (v + 0.00001)")


def _conv(n: int) -> str:
    return (f"\\x:Fin {n + 8}=>Real. \\w:Fin 9=>Real. "
            f"for i:Fin {n}. sum (for k:Fin 9. x.((ordinal i + ordinal k)@Fin {n + 8}) * w.k)")


def _histogram(n: int) -> str:
    return (f"\\x:Fin {n}=>Real. snd (run_accum (Fin 64=>Real) \\h. "
            f"for i:Fin {n}. h!((floor (x.i * 64.0) % 64)@Fin 64) += 1.0)")


def _pairwise(n: int) -> str:
    return (f"\\p:Fin {n}=>Fin 3=>Real. for i:Fin {n}. for j:Fin {n}. "
            f"sqrt (sum (for d:Fin 3. (p.i.d - p.j.d) * (p.i.d - p.j.d)))")


def _prefix(n: int) -> str:
    return (f"\\x:Fin {n}=>Real. fst (run_state 0.0 \\s. for i:Fin {n}. "
            f"s := get s + x.i; get s)")


def _mlp(n: int) -> str:
    return (f"\\x:Fin {n}=>Fin 32=>Real. \\w:Fin 64=>Fin 32=>Real. \\v:Fin 64=>Real. "
            f"sum (for b:Fin {n}. let h = for k:Fin 64. "
            f"(let a = sum (for d:Fin 32. w.k.d * x.b.d) in if a < 0.0 then 0.0 else a) in "
            f"let y = sum (for k:Fin 64. v.k * h.k) in y * y) / {n}.0")


def _hist_hand(x: Array) -> Array:
    out: Array = np.bincount(np.floor(x * 64.0).astype(np.int64) % 64, minlength=64)
    return out.astype(np.float64)


def _ln_hand(x: Array) -> Array:
    c = x - x.mean(axis=1, keepdims=True)
    out: Array = c / np.sqrt((c * c).mean(axis=1, keepdims=True) + 1e-5)
    return out


def _sm_hand(x: Array) -> Array:
    e = np.exp(x)
    out: Array = e / e.sum(axis=1, keepdims=True)
    return out


def _mlp_hand(x: Array, w: Array, v: Array) -> float:
    return float(((np.maximum(x @ w.T, 0.0) @ v) ** 2).mean())


def _pair_hand(p: Array) -> Array:
    d = p[:, None, :] - p[None, :, :]
    out: Array = np.sqrt((d * d).sum(axis=2))
    return out


CASES = [
    Case("matmul", _matmul, lambda n, g: [g.random((n, n)), g.random((n, n))], lambda a, b: a @ b),
    Case("softmax", _softmax, lambda n, g: [g.random((n, 64))], _sm_hand),
    Case("layernorm", _layernorm, lambda n, g: [g.random((n, 64))], _ln_hand),
    Case("conv1d", _conv, lambda n, g: [g.random(n + 8), g.random(9)],
         lambda x, w: np.convolve(x, w[::-1], mode="valid")),
    Case("histogram", _histogram, lambda n, g: [g.random(n)], _hist_hand),
    Case("pairwise", _pairwise, lambda n, g: [g.random((n, 3))], _pair_hand),
    Case("prefix_sum", _prefix, lambda n, g: [g.random(n)], np.cumsum),
    Case("mlp_loss", _mlp, lambda n, g: [g.random((n, 32)) - 0.5, g.random((64, 32)) - 0.5,
                                          g.random(64) - 0.5], _mlp_hand),
]

SIZES = {"matmul": 600, "softmax": 20_000, "layernorm": 20_000, "conv1d": 1_000_000,
         "histogram": 1_000_000, "pairwise": 1_000, "prefix_sum": 1_000_000, "mlp_loss": 20_000}
"""Sizes where the work dominates (the leading index set of each example)."""


def best(fn: Callable[[], object], repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def measure(case: Case, n: int, small: int) -> tuple[float, float, float, bool]:
    """(compiled s, hand-written s, interpreter / compiled at ``small``, the two agree)."""
    rng = np.random.default_rng(0)
    compiled = compile_program(parse_program(Source(case.program(n))))
    args = case.inputs(n, rng)
    ours = best(lambda: compiled(*args))
    hand = best(lambda: case.hand(*args))
    agree = bool(np.allclose(np.asarray(compiled(*args)), np.asarray(case.hand(*args)), rtol=1e-9))
    little = compile_program(parse_program(Source(case.program(small))))
    small_args = case.inputs(small, rng)
    fast = best(lambda: little(*small_args))
    slow = best(lambda: little.interpret(small_args), repeat=1)
    return ours, hand, slow / max(fast, 1e-9), agree and little.mode == "numpy"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calculi.dex.bench", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every size by this (0.01 for a quick look)")
    parser.add_argument("--small", type=positive_int, default=16,
                        help="size of the interpreter's runs")
    args = parser.parse_args(argv)
    print(f"{'example':<12} {'n':>8} {'compiled':>10} {'by hand':>10} {'ratio':>7} "
          f"{'interp/compiled (n=' + str(args.small) + ')':>26}  agree")
    for case in CASES:
        n = max(2, int(SIZES[case.name] * args.scale))
        ours, hand, interp, agree = measure(case, n, args.small)
        print(f"{case.name:<12} {n:>8} {ours:>9.4f}s {hand:>9.4f}s {ours / max(hand, 1e-9):>6.2f}x "
              f"{interp:>25.0f}x  {agree}")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli(main))
