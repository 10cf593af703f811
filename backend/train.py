"""Train the models: ``python -m backend.train griffin|mlp [options]``.

Progress (loss, speed, time left) goes to stderr: a bar on a terminal, a plain line now and then
otherwise (CI logs). ``--checkpoint FILE`` saves an .npz every ``--save-every`` steps and at the end;
Ctrl-C saves and exits with status 130. ``--resume`` continues from the checkpoint without losing or
repeating a step (the optimizer moments and the data sampler's RNG state are in it). A step whose
loss or gradient is not finite is skipped and reported. The gradient is Linear A's:
``backend.value_and_grad`` traces the loss once, then JVP, unzip and transpose.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TextIO

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

from backend import data, optim
from backend.models import griffin, mlp, stream
from calculi.core.errors import CalculusError, UsageError

INTERRUPTED = 130  # the shell's status for a run stopped by SIGINT


class Progress:
    """Training progress on ``out``: a rich bar with the time left on a terminal; otherwise a plain
    line at the first step, at each tenth of the run, at the end and at least every ``every`` seconds."""

    def __init__(self, total: int, start: int = 0, out: TextIO = sys.stderr, every: float = 60.0) -> None:
        self.total, self.start, self.out, self.every = total, start, out, every
        self.t0 = self.last_time = time.perf_counter()
        self.last_tenth = -1
        self.bar: RichProgress | None = None
        if out.isatty():
            console = Console(file=out)
            self.bar = RichProgress(TextColumn("training"), BarColumn(), MofNCompleteColumn(),
                                    TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                                    TextColumn("eta"), TimeRemainingColumn(), console=console)
            self.task = self.bar.add_task("train", total=total, completed=start, info="")
            self.bar.start()

    def update(self, step: int, **fields: float) -> None:
        info = " ".join(f"{k} {v:.4f}" for k, v in fields.items())
        if self.bar is not None:
            self.bar.update(self.task, completed=step, info=info)
            return
        now = time.perf_counter()
        tenth = int(10 * step / max(self.total, 1))
        if step - self.start == 1 or tenth != self.last_tenth or step >= self.total or \
                now - self.last_time >= self.every:
            self.last_tenth, self.last_time = tenth, now
            rate = (step - self.start) / max(now - self.t0, 1e-9)
            eta = _duration((self.total - step) / rate) if rate > 0 else "?"
            self.out.write(f"step {step}/{self.total} {info} ({rate:.2f} step/s, eta {eta})\n")
            self.out.flush()

    def message(self, text: str) -> None:
        """A line above the bar (or among the plain lines)."""
        if self.bar is not None:
            self.bar.console.print(text, markup=False, highlight=False)
        else:
            self.out.write(text + "\n")
            self.out.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _duration(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def grad_function(loss: Callable[..., Any]) -> Callable[..., tuple[Any, Any]]:
    """The loss and its gradient in the first argument, by Linear A's reverse mode."""
    from backend.api import value_and_grad  # the tracing machinery loads only when training starts

    return value_and_grad(loss)


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> dict[str, Any]:
    """Train as ``args`` say; the result line (JSON) goes to ``out``, progress and notes to ``err``.
    Ctrl-C saves the checkpoint (if any) and raises ``KeyboardInterrupt`` again, saying where."""
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
        print(f"resumed from {args.checkpoint} at step {opt.step}", file=err)
        if opt.step >= args.steps:
            print(f"the checkpoint is already at step {opt.step}, --steps is {args.steps}: no step to take "
                  f"(give a larger --steps to train on)", file=err)
    if opt.step < args.steps:
        params = _train(args, params, opt, rng, config, grad_function(loss), batch, err)
    result = {"step": opt.step, "skipped": opt.skipped, "train_loss": _recent(opt.history),
              **evaluate(params), **baseline}
    print(json.dumps(result), file=out)
    if args.model == "griffin" and args.sample:
        prompt = text.encode("The ")
        tokens = stream.sample(params, cfg, prompt, args.sample, np.random.default_rng(0), 0.8)
        print(text.decode(prompt) + text.decode(np.fromiter(tokens, np.int64)), file=out)
    return result


def _train(args: argparse.Namespace, params: Any, opt: optim.Adam, rng: np.random.Generator,
           config: dict[str, Any], step_fn: Callable[..., tuple[Any, Any]],
           batch: Callable[[np.random.Generator], tuple[Any, Any]], err: TextIO) -> Any:
    """The training loop up to ``args.steps``, saving as asked; the final parameters."""
    bar = Progress(args.steps, opt.step, err)
    interrupted = False
    try:
        while opt.step < args.steps:
            taken, drawn = opt.step, rng.bit_generator.state
            x, y = batch(rng)
            value, grads = step_fn(params, x, y)
            params = opt.update(params, grads, float(value))
            opt.history.append(float(value))
            if opt.last_skipped:
                bar.message(f"step {opt.step}: the loss ({float(value):.4g}) or its gradient is not finite; "
                            f"step skipped, parameters unchanged ({opt.skipped} skipped so far)")
            bar.update(opt.step, loss=_recent(opt.history) or math.nan)
            if args.checkpoint and args.save_every and opt.step % args.save_every == 0:
                optim.save(args.checkpoint, params, opt, rng, config)
    except KeyboardInterrupt:
        interrupted = True
        if opt.step == taken:  # the batch of the step not taken is drawn again on resuming
            rng.bit_generator.state = drawn
    finally:
        if args.checkpoint:
            optim.save(args.checkpoint, params, opt, rng, config)
        bar.close()
    if interrupted:
        saved = f"; checkpoint saved to {args.checkpoint}" if args.checkpoint else "; nothing saved"
        raise KeyboardInterrupt(f"interrupted at step {opt.step}{saved}")
    return params


def _recent(history: list[float]) -> float | None:
    """The mean of the last 20 finite losses (None before the first)."""
    finite = [v for v in history[-20:] if math.isfinite(v)]
    return float(np.mean(finite)) if finite else None


# -- the command line ----------------------------------------------------------------------------

def _number(kind: type[int] | type[float], least: float, strict: bool = False) -> Callable[[str], Any]:
    """An argparse type: a ``kind`` number ≥ ``least`` (> when ``strict``); argparse names the option."""
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'a whole' if kind is int else 'a'} number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
        if value < least or (strict and value == least):
            raise argparse.ArgumentTypeError(f"must be {'>' if strict else '≥'} {least:g}, not {text}")
        return value

    return parse


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m backend.train", description=__doc__.split("\n")[0],
                                 epilog="Exit status: 0 done, 1 bad input (a message), 2 bad options, "
                                        "130 interrupted (after saving the checkpoint).")
    positive, natural = _number(int, 1), _number(int, 0)
    ap.add_argument("model", choices=["griffin", "mlp"], help="what to train: the Griffin language model "
                    "on Python's own documentation, or an MLP on the digits images")
    ap.add_argument("--steps", type=positive, default=300, help="optimizer steps in all, counting those "
                    "of a resumed checkpoint (default: %(default)s)")
    ap.add_argument("--batch", type=positive, default=16, help="examples per step (default: %(default)s)")
    ap.add_argument("--seq", type=positive, default=128, help="window length in characters, griffin "
                    "(default: %(default)s)")
    ap.add_argument("--preset", default="small", choices=sorted(griffin.PRESETS),
                    help="griffin model size (default: %(default)s)")
    ap.add_argument("--hidden", type=positive, default=128, help="hidden width, mlp (default: %(default)s)")
    ap.add_argument("--lr", type=_number(float, 0.0, strict=True), default=3e-3,
                    help="Adam's learning rate, > 0 (default: %(default)s)")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                    help="parameter and activation type (default: %(default)s)")
    ap.add_argument("--seed", type=natural, default=0,
                    help="initialisation and data seed (default: %(default)s)")
    ap.add_argument("--checkpoint", metavar="FILE", help=".npz file to save to and resume from "
                    "(default: none, nothing saved)")
    ap.add_argument("--resume", action="store_true", help="continue from --checkpoint (default: off)")
    ap.add_argument("--save-every", type=natural, default=50, metavar="N", help="save the checkpoint every N "
                    "steps, 0 for only at the end (default: %(default)s)")
    ap.add_argument("--eval-batches", type=positive, default=4, metavar="N",
                    help="batches for the final evaluation, griffin (default: %(default)s)")
    ap.add_argument("--sample", type=natural, default=200, metavar="N",
                    help="characters to sample after training, griffin; 0 for none (default: %(default)s)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        run(args)
    except CalculusError as err:
        print(err.render(), file=sys.stderr)
        return 1
    except KeyboardInterrupt as stop:
        print(str(stop) or "interrupted", file=sys.stderr)
        return INTERRUPTED
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
