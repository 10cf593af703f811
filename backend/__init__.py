"""The NumPy array level of Linear A: array primitives in linear_ad's rule tables, a tracer, an
executor, and models trained with the calculus's reverse mode (``jvp``, ``unzip``, ``transpose``).

    import backend.numpy as bnp
    from backend import grad, value_and_grad, jvp, linearize, vjp, checkpoint, jit, make_program
    from backend import jacfwd, jacrev, hessian, vmap, partition

Transformations nest in any order (``grad(grad(f))``, ``jit(grad(f))``, ``jvp(grad(f), …)``).
"""

from __future__ import annotations

from backend.api import checkpoint, grad, jit, jvp, linearize, make_program, value_and_grad, vjp
from backend.batching import vmap
from backend.jacobians import hessian, jacfwd, jacrev
from backend.partition import partition

__all__ = ["checkpoint", "grad", "hessian", "jacfwd", "jacrev", "jit", "jvp", "linearize", "make_program",
           "partition", "value_and_grad", "vjp", "vmap"]
