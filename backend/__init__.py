"""The NumPy array level of Linear A: array primitives in linear_ad's rule tables, a tracer, an
executor, and models trained with the calculus's reverse mode (``jvp``, ``unzip``, ``transpose``).

    import backend.numpy as bnp
    from backend import grad, value_and_grad, jvp, linearize, vjp, checkpoint, jit, make_program
"""

from __future__ import annotations

from backend.api import checkpoint, grad, jit, jvp, linearize, make_program, value_and_grad, vjp

__all__ = ["checkpoint", "grad", "jit", "jvp", "linearize", "make_program", "value_and_grad", "vjp"]
