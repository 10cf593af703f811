"""Train the models: ``python -m backend.train griffin|mlp [options]``.

A progress bar shows the loss; ``--checkpoint FILE`` saves an .npz every ``--save-every`` steps and
at the end (or on Ctrl-C), and ``--resume`` continues from it without losing or repeating a step
(the optimizer moments and the data sampler's RNG state are in the checkpoint). The gradient is
Linear A's: ``backend.value_and_grad`` traces the loss once, then JVP, unzip and transpose.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TextIO

import numpy as np

from backend import data, optim
from backend.models import griffin, mlp, stream
from calculi.core.errors import CalculusError, UsageError


class Progress:
    """A one-line progress bar (redrawn in place on a terminal, a line per tenth otherwise)."""

    def __init__(self, total: int, start: int = 0, out: TextIO = sys.stderr, width: int = 30) -> None:
        self.total, self.start, self.out, self.width = total, start, out, width
        self.t0 = time.perf_counter()
        self.tty = out.isatty()
        self.last_tenth = -1

    def update(self, step: int, **fields: float) -> None:
        frac = step / max(self.total, 1)
        rate = (step - self.start) / max(time.perf_counter() - self.t0, 1e-9)
        bar = "#" * round(frac * self.width)
        info = " ".join(f"{k} {v:.4f}" for k, v in fields.items())
        line = f"[{bar:<{self.width}}] {step}/{self.total} {info} ({rate:.2f} step/s)"
        if self.tty:
            self.out.write("\r" + line)
            self.out.flush()
        elif int(frac * 10) != self.last_tenth or step == self.total:
            self.last_tenth = int(frac * 10)
            self.out.write(line + "\n")

    def close(self) -> None:
        if self.tty:
            self.out.write("\n")


def grad_function(loss: Callable[..., Any]) -> Callable[..., tuple[Any, Any]]:
    """The loss and its gradient in the first argument, by Linear A's reverse mode."""
    from backend.api import value_and_grad

    return value_and_grad(loss)


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> dict[str, Any]:
    dtype = np.dtype(args.dtype)
    if args.model == "griffin":
        text = data.pydoc_text()
        cfg = griffin.preset(args.preset, len(text.vocab))
        params = griffin.init(cfg, args.seed, dtype)
        config = {"model": "griffin", "griffin": asdict(cfg), "vocab": text.vocab}

        def loss(p: Any, x: Any, y: Any) -> Any:
            return griffin.loss(p, x, y, cfg)

        def batch(rng: np.random.Generator) -> tuple[Any, Any]:
            return data.windows(text.train, args.batch, args.seq, rng)

        vrng = np.random.default_rng(12345)
        valid = [data.windows(text.valid, args.batch, args.seq, vrng) for _ in range(args.eval_batches)]

        def evaluate(p: Any) -> dict[str, float]:
            return {"valid_loss": float(np.mean([float(griffin.loss(p, x, y, cfg)) for x, y in valid]))}

        baseline = {"unigram_loss": data.unigram_loss(text.train, text.valid, len(text.vocab))}
    else:
        digits = data.digits(dtype=dtype)
        params = mlp.init([64, args.hidden, 10], args.seed, dtype)
        config = {"model": "mlp", "hidden": args.hidden}

        def loss(p: Any, x: Any, y: Any) -> Any:
            return mlp.loss(p, x, y)

        def batch(rng: np.random.Generator) -> tuple[Any, Any]:
            idx = rng.integers(0, len(digits.y_train), size=args.batch)
            return digits.x_train[idx], digits.y_train[idx]

        def evaluate(p: Any) -> dict[str, float]:
            return {"test_accuracy": mlp.accuracy(p, digits.x_test, digits.y_test),
                    "test_loss": float(mlp.loss(p, digits.x_test, digits.y_test))}

        baseline = {}
    opt = optim.Adam(lr=args.lr)
    rng = np.random.default_rng(args.seed)
    if args.resume:
        if not args.checkpoint or not os.path.exists(args.checkpoint):
            raise UsageError("--resume needs an existing --checkpoint FILE")
        params, opt, rng, saved = optim.load(args.checkpoint, params)
        if saved != config:
            raise UsageError(f"checkpoint {args.checkpoint} is of another model or configuration")
        print(f"resumed from {args.checkpoint} at step {opt.step}", file=out)
    step_fn = grad_function(loss)
    bar = Progress(args.steps, opt.step)
    try:
        while opt.step < args.steps:
            x, y = batch(rng)
            value, grads = step_fn(params, x, y)
            params = opt.update(params, grads)
            opt.history.append(float(value))
            bar.update(opt.step, loss=float(np.mean(opt.history[-20:])))
            if args.checkpoint and args.save_every and opt.step % args.save_every == 0:
                optim.save(args.checkpoint, params, opt, rng, config)
    except KeyboardInterrupt:
        print(f"\ninterrupted at step {opt.step}", file=out)
    finally:
        bar.close()
        if args.checkpoint:
            optim.save(args.checkpoint, params, opt, rng, config)
    result = {"step": opt.step, "train_loss": float(np.mean(opt.history[-20:])) if opt.history else None,
              **evaluate(params), **baseline}
    print(json.dumps(result), file=out)
    if args.model == "griffin" and args.sample:
        prompt = text.encode("The ")
        tokens = stream.sample(params, cfg, prompt, args.sample, np.random.default_rng(0), 0.8)
        print(text.decode(prompt) + text.decode(np.fromiter(tokens, np.int64)), file=out)
    return result


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m backend.train", description=__doc__.split("\n")[0])
    ap.add_argument("model", choices=["griffin", "mlp"])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=128, help="window length (griffin)")
    ap.add_argument("--preset", default="small", choices=sorted(griffin.PRESETS))
    ap.add_argument("--hidden", type=int, default=128, help="hidden width (mlp)")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint", help=".npz file to save to (and resume from)")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--save-every", type=int, default=50)
    ap.add_argument("--eval-batches", type=int, default=4)
    ap.add_argument("--sample", type=int, default=200, help="characters to sample after training")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        run(args)
    except CalculusError as err:
        print(err.render(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
