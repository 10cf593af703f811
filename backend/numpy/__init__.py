"""NumPy-named array functions that run eagerly on arrays or trace into Linear A programs.

``import backend.numpy as bnp`` and write a model once: ``bnp.tanh(x @ w + b)`` runs NumPy at once on
arrays, and records primitives when ``backend.grad`` (or ``make_program``) traces it. Every function
has NumPy's signature and defaults and reduces to the primitives of ``backend.primitives``,
``backend.structural``, ``backend.indexing`` and ``backend.contractions`` through ``bind``;
broadcasting is made explicit with ``broadcast`` so that its transpose (a sum) appears in the
program. Python scalars take the dtype of the array they meet (float32 stays float32).

| module           | what                                                                        |
| ---------------- | --------------------------------------------------------------------------- |
| ``_ufuncs``      | elementwise arithmetic, transcendental functions, comparisons, ``where``    |
| ``_shapes``      | reshape, transpose, broadcast, concatenate, stack, split …                  |
| ``_indexing``    | ``x[index]`` (NumPy's rules), ``take``, ``take_along_axis``, ``x.at[i]``    |
| ``_rearrange``   | flip, roll, repeat, tile, pad, tril, triu, diff                             |
| ``_reductions``  | sum, mean, max, min, prod, var, std, argmax, cumsum, sort …                 |
| ``_linalg``      | einsum, matmul (``@``), dot, outer, tensordot, diagonal, trace              |
| ``linalg``       | ``bnp.linalg.norm``                                                         |
| ``_nn``          | activations, softmax, logsumexp, ``linear_scan``, ``conv1d``,                |
|                  | ``sqrt_bound_derivative`` (also in ``backend.nn``)                          |

Importing this package gives traced values their operators and methods (``backend.numpy._methods``).
What NumPy computes with a shape that depends on the values (``nonzero``, ``unique``, ``x[mask]``
with a traced mask) runs on arrays only, and says so while tracing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from backend.dispatch import Traced
from backend.numpy import _methods
from backend.numpy import linalg as linalg
from backend.numpy._core import astype as astype
from backend.numpy._core import dtype_of as dtype_of
from backend.numpy._core import ndim as ndim
from backend.numpy._core import shape as shape
from backend.numpy._core import size as size
from backend.numpy._indexing import *  # noqa: F403
from backend.numpy._indexing import At as At
from backend.numpy._indexing import IndexUpdate as IndexUpdate
from backend.numpy._indexing import at as at
from backend.numpy._linalg import *  # noqa: F403
from backend.numpy._nn import *  # noqa: F403
from backend.numpy._rearrange import *  # noqa: F403
from backend.numpy._reductions import *  # noqa: F403
from backend.numpy._shapes import *  # noqa: F403
from backend.numpy._ufuncs import *  # noqa: F403

float16, float32, float64 = np.float16, np.float32, np.float64
int8, int16, int32, int64 = np.int8, np.int16, np.int32, np.int64
uint8, bool_, intp = np.uint8, np.bool_, np.intp
complex64, complex128 = np.complex64, np.complex128
dtype, finfo, iinfo = np.dtype, np.finfo, np.iinfo
pi, e, inf, nan = math.pi, math.e, math.inf, math.nan
newaxis = None
ndarray = np.ndarray

# constants: arrays made from values known before tracing
zeros = np.zeros
ones = np.ones
full = np.full
empty = np.empty
arange = np.arange
linspace = np.linspace
eye = np.eye
identity = np.identity
tri = np.tri
meshgrid = np.meshgrid
indices = np.indices


def asarray(a: Any, dtype: Any = None, order: Any = None) -> Any:
    """``a`` as an array: a traced value stays traced (converted to ``dtype`` if given)."""
    if isinstance(a, Traced):
        return a if dtype is None else astype(a, dtype)
    return np.asarray(a, dtype, order)


def array(object: Any, dtype: Any = None, *, copy: bool = True) -> Any:
    if isinstance(object, Traced):
        return object if dtype is None else astype(object, dtype)
    return np.array(object, dtype, copy=copy)


def zeros_like(a: object, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None) -> Any:
    """Zeros of ``a``'s shape and dtype (a constant, also when ``a`` is traced)."""
    return full_like(a, 0, dtype, order, subok, shape)


def ones_like(a: object, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None) -> Any:
    return full_like(a, 1, dtype, order, subok, shape)


def full_like(a: object, fill_value: Any, dtype: Any = None, order: str = "K", subok: bool = True,
              shape: Any = None) -> Any:
    return np.full(shape if shape is not None else _shape_of(a), fill_value,
                   dtype if dtype is not None else dtype_of(a))


def empty_like(a: object, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None) -> Any:
    return full_like(a, 0, dtype, order, subok, shape)


_shape_of = shape

_methods.attach(Traced)
