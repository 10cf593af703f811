"""Transformed functions called with the arguments users pass: pytrees (tuples, lists, dicts,
namedtuples, ``None`` among them) of arrays that broadcast, Python floats and ints and NumPy scalars,
with arrays closed over and read through a global; each value against NumPy running the function
eagerly, each derivative against central differences of NumPy's function.

Registered after the per-primitive theorems: the mutants it kills die sooner at ``backend.calls``, so
that a mutant hunt reaches this theorem only when everything before it has passed.
"""

from __future__ import annotations

from backend import checks
from backend.strategies import show_case
from backend.strategies_programs import Call, calls
from proofs.backend import YOLO
from proofs.registry import theorem


@theorem("backend.transforms.agree_with_numpy", paper=YOLO, section="§ tracing", label="derived",
         statement="grad, value_and_grad, jvp, vjp and jit of a function whose pytree arguments (tuples, "
                   "lists, dicts, namedtuples, None among them) hold arrays of shapes that broadcast, Python "
                   "floats and ints and NumPy scalars, and which reads a closed-over and a global array, "
                   "called twice (new values; the global rebound or not): each value equals NumPy's running "
                   "the function eagerly, dtype included, and each derivative the central difference of "
                   "NumPy's function along a random direction (1e-6)",
         given={"call": calls()}, show=show_case, max_examples=25)
def _(call: Call) -> None:
    gaps = checks.call_gaps(call)
    assert not gaps, "; ".join(gaps[:4])
