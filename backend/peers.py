"""Other AD engines running the same models, for benchmarks and cross-checks.

The models are written against ``backend.numpy``'s names, so a namespace with the same names over
another engine's arrays runs them unchanged: ``PeerNumpy`` maps them onto HIPS autograd
(``autograd.numpy``) and JAX (``jax.numpy``), and ``TorchOps`` gives PyTorch's eager tensors the
NumPy names the models call; the scan and the convolution are plain loops and slices, as one would
write them for those engines. ``running_on(namespace)`` swaps the namespace the models use.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from backend import bench_models
from backend.models import attention, griffin, layers, mlp
from calculi.core.errors import UsageError


def available(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


class PeerNumpy:
    """``backend.numpy``'s model-facing names over another engine's NumPy-like module."""

    def __init__(self, module: Any, stop: Any) -> None:
        self.np = module
        self._stop = stop

    def __getattr__(self, name: str) -> Any:
        return getattr(self.np, name)

    def shape(self, x: Any) -> tuple[int, ...]:
        return tuple(np.shape(x))

    def dtype_of(self, x: Any) -> Any:
        if hasattr(self.np, "dtype_of"):
            return self.np.dtype_of(x)
        return x.dtype if hasattr(x, "dtype") else np.asarray(getattr(x, "_value", x)).dtype

    def logistic(self, x: Any) -> Any:
        return 0.5 * (self.np.tanh(0.5 * x) + 1.0)

    def softplus(self, x: Any) -> Any:
        return self.np.logaddexp(0.0, x)

    def gelu(self, x: Any) -> Any:
        return 0.5 * x * (1.0 + self.np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))

    def rsqrt(self, x: Any) -> Any:
        return 1.0 / self.np.sqrt(x)

    def stop_gradient(self, x: Any) -> Any:
        return self._stop(x)

    def sqrt_bound_derivative(self, x: Any, max_gradient: float) -> Any:
        """``√x`` with the derivative ``1/max(2√x, 1/max_gradient)``: the root's value plus the
        (constant) bounded derivative times ``x − x``, whose value is zero and whose derivative is 1."""
        root = self._stop(self.np.sqrt(x))
        slope = 1.0 / self.np.where(2.0 * root > 1.0 / max_gradient, 2.0 * root, 1.0 / max_gradient)
        return root + slope * (x - self._stop(x))

    def astype(self, x: Any, dtype: Any) -> Any:
        return self.np.astype(x, dtype)

    def checkpoint_name(self, x: Any, name: str) -> Any:
        return x

    def take(self, x: Any, idx: Any, axis: int | None = None) -> Any:
        return self.np.take(x, idx, axis=axis)

    def one_hot(self, idx: Any, n: int, dtype: Any = np.float32) -> Any:
        return self.np.one_hot(idx, n, dtype) if hasattr(self.np, "one_hot") else (
            (self.np.asarray(idx)[..., None] == self.np.arange(n)).astype(dtype))

    def max(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self.np.max(x, axis=axis, keepdims=keepdims)

    def log_softmax(self, x: Any, axis: int = -1) -> Any:
        m = self.stop_gradient(self.np.max(x, axis=axis, keepdims=True))
        return x - m - self.np.log(self.np.sum(self.np.exp(x - m), axis=axis, keepdims=True))

    def softmax(self, x: Any, axis: int = -1) -> Any:
        e = self.np.exp(x - self.stop_gradient(self.np.max(x, axis=axis, keepdims=True)))
        return e / self.np.sum(e, axis=axis, keepdims=True)

    def linear_scan(self, a: Any, x: Any, h0: Any = None) -> Any:
        if h0 is None:
            h = self.np.zeros((x.shape[0], *x.shape[2:]), x.dtype)
        else:  # a NumPy initial state (the models pass one) in the engine's array type
            h = self.np.asarray(h0) if isinstance(h0, np.ndarray) else h0
        out = []
        for t in range(x.shape[1]):
            h = a[:, t] * h + x[:, t]
            out.append(h)
        return self.np.stack(out, axis=1)

    def conv1d(self, x: Any, w: Any) -> Any:
        k, t = w.shape[0], x.shape[1]
        y = x * w[k - 1]
        for lag in range(1, min(k, t)):
            pad = self.np.zeros((x.shape[0], lag, x.shape[2]), x.dtype)
            shifted = self.np.concatenate([pad, x[:, : t - lag]], axis=1)
            y = y + shifted * w[k - 1 - lag]
        return y


class TorchOps:
    """NumPy's names over PyTorch's eager tensors (``axis``/``keepdims`` as ``dim``/``keepdim``,
    ``concatenate`` as ``cat``); NumPy arrays and Python scalars met on the way become tensors of the
    dtype of the tensor they meet. Dtypes are reported as NumPy dtypes, which the models hand back to
    NumPy (``np.zeros(shape, bnp.dtype_of(x))``)."""

    def __init__(self, torch: Any) -> None:
        self.torch = torch

    def __getattr__(self, name: str) -> Any:  # tanh, exp, log, sqrt, square, matmul, einsum, ...
        fn = getattr(self.torch, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            like = next((a for a in args if isinstance(a, self.torch.Tensor)), None)
            return fn(*[self.tensor(a, like) if isinstance(a, np.ndarray) else a for a in args], **kwargs)

        return call

    def tensor(self, x: Any, like: Any = None) -> Any:
        if isinstance(x, self.torch.Tensor):
            return x
        a = np.asarray(x)
        if like is not None and a.dtype.kind == "f" and like.dtype.is_floating_point:
            return self.torch.as_tensor(a, dtype=like.dtype)
        return self.torch.as_tensor(a)

    def torch_dtype(self, dtype: Any) -> Any:
        return dtype if isinstance(dtype, self.torch.dtype) else getattr(self.torch, np.dtype(dtype).name)

    def dtype_of(self, x: Any) -> Any:
        if isinstance(x, self.torch.Tensor):
            return np.dtype(str(x.dtype).removeprefix("torch."))
        return np.asarray(x).dtype

    def asarray(self, x: Any) -> Any:
        return self.tensor(x)

    def astype(self, x: Any, dtype: Any) -> Any:
        return self.tensor(x).to(self.torch_dtype(dtype))

    def zeros(self, shape: Any, dtype: Any = np.float64) -> Any:
        return self.torch.zeros(tuple(shape), dtype=self.torch_dtype(dtype))

    def _reduce(self, fn: Any, x: Any, axis: Any, keepdims: bool) -> Any:
        x = self.tensor(x)
        return fn(x) if axis is None else fn(x, dim=axis, keepdim=keepdims)

    def sum(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self._reduce(self.torch.sum, x, axis, keepdims)

    def mean(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self._reduce(self.torch.mean, x, axis, keepdims)

    def max(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self._reduce(self.torch.amax, x, axis, keepdims)

    def logaddexp(self, x: Any, y: Any) -> Any:
        like = x if isinstance(x, self.torch.Tensor) else y
        return self.torch.logaddexp(self.tensor(x, like), self.tensor(y, like))

    def _join(self, fn: Any, xs: Any, axis: int) -> Any:
        like = next((x for x in xs if isinstance(x, self.torch.Tensor)), None)
        return fn([self.tensor(x, like) for x in xs], dim=axis)

    def concatenate(self, xs: Any, axis: int = 0) -> Any:
        return self._join(self.torch.cat, xs, axis)

    def stack(self, xs: Any, axis: int = 0) -> Any:
        return self._join(self.torch.stack, xs, axis)

    def reshape(self, x: Any, shape: Any) -> Any:
        return self.torch.reshape(self.tensor(x), tuple(shape))

    def where(self, condition: Any, x: Any, y: Any) -> Any:
        like = x if isinstance(x, self.torch.Tensor) else y
        return self.torch.where(self.tensor(condition), self.tensor(x, like), self.tensor(y, like))

    def one_hot(self, idx: Any, n: int, dtype: Any) -> Any:
        return self.torch.nn.functional.one_hot(self.tensor(idx).long(), n).to(self.torch_dtype(dtype))

    @contextmanager
    def mixing(self) -> Iterator[None]:
        """Let NumPy constants meet tensors under the operators (``x1 * cos`` in RoPE), as they do
        with autograd's and JAX's arrays: while active, a NumPy ufunc with a tensor operand runs as
        the torch function of the same name on tensors (``Tensor.__array_ufunc__``)."""
        ops = self

        def array_ufunc(tensor: Any, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
            if method != "__call__" or kwargs:
                return NotImplemented
            fn = getattr(ops.torch, _TORCH_UFUNCS.get(ufunc.__name__, ufunc.__name__), None)
            if fn is None:
                return NotImplemented
            return fn(*[ops.tensor(a, tensor) for a in inputs])

        cls = self.torch.Tensor
        had = "__array_ufunc__" in cls.__dict__
        old = cls.__dict__.get("__array_ufunc__")
        cls.__array_ufunc__ = array_ufunc
        try:
            yield
        finally:
            if had:
                cls.__array_ufunc__ = old
            else:
                del cls.__array_ufunc__


_TORCH_UFUNCS = {"power": "pow", "true_divide": "divide", "greater": "gt", "less": "lt"}


@contextmanager
def running_on(namespace: Any) -> Iterator[None]:
    """Run the models with ``namespace`` in place of ``backend.numpy``."""
    modules = (griffin, attention, layers, mlp, bench_models)
    old = [getattr(m, "bnp") for m in modules]  # noqa: B009  (the models' module attribute)
    for m in modules:
        setattr(m, "bnp", namespace)  # noqa: B010
    try:
        yield
    finally:
        for m, o in zip(modules, old, strict=True):
            setattr(m, "bnp", o)  # noqa: B010


def autograd_numpy() -> PeerNumpy:
    if not available("autograd"):
        raise UsageError("HIPS autograd is not installed: pip install 'calculi[bench]'")
    import autograd.numpy as anp

    return PeerNumpy(anp, lambda x: getattr(x, "_value", x))


def jax_numpy() -> PeerNumpy:
    if not available("jax"):
        raise UsageError("JAX is not installed: pip install 'calculi[jax]'")
    import jax
    import jax.numpy as jnp

    return PeerNumpy(jnp, jax.lax.stop_gradient)


def autograd_value_and_grad(loss: Any) -> Any:
    """The loss and its gradient in the first argument, by HIPS autograd, on the same model code."""
    from autograd import value_and_grad as ag_value_and_grad

    namespace = autograd_numpy()
    vg = ag_value_and_grad(loss)

    def run(*args: Any) -> Any:
        with running_on(namespace):
            return vg(*args)

    return run


def jax_value_and_grad(loss: Any, jit: bool = False) -> Any:
    """The loss and its gradient in the first argument, by JAX, on the same model code (traced once
    per shapes with ``jit``). Call ``jax.config.update("jax_enable_x64", True)`` first for float64."""
    import jax

    namespace = jax_numpy()

    def traced(*args: Any) -> Any:
        with running_on(namespace):
            return loss(*args)

    vg = jax.value_and_grad(traced)
    return jax.jit(vg) if jit else vg


def torch_numpy() -> PeerNumpy:
    if not available("torch"):
        raise UsageError("PyTorch is not installed: pip install 'calculi[torch]'")
    import torch

    return PeerNumpy(TorchOps(torch), lambda x: x.detach())


def torch_value_and_grad(loss: Any) -> Any:
    """The loss and its gradient in the first argument, by PyTorch eager (``torch.autograd.grad``) on
    the same model code: the parameters become leaf tensors with ``requires_grad``, the other
    arguments plain tensors, and the results come back as NumPy arrays."""
    import torch

    from backend.pytree import flatten, unflatten

    namespace = torch_numpy()

    def run(params: Any, *args: Any) -> Any:
        leaves, treedef = flatten(params)
        tensors = [torch.as_tensor(np.asarray(leaf)).requires_grad_(True) for leaf in leaves]
        rest = [torch.as_tensor(np.asarray(a)) if isinstance(a, np.ndarray) else a for a in args]
        with running_on(namespace), namespace.np.mixing():
            value = loss(unflatten(treedef, list(tensors)), *rest)
        grads = torch.autograd.grad(value, tensors, allow_unused=True)
        out = [np.zeros_like(leaf) if g is None else g.numpy() for leaf, g in zip(leaves, grads, strict=True)]
        return value.detach().numpy(), unflatten(treedef, out)

    return run
