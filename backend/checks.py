"""Numerical oracles for the theorems: complex-step and central-difference derivatives, the
dot-product test of a transpose, and finite-difference gradients of whole models; and the rows
missing from the rule tables (``coverage_gaps``).

    complex step:        f'(x)·t ≈ Im f(x + i h t) / h          (h = 1e−20; exact for analytic f)
    central difference:  f'(x)·t ≈ (f(x + εt) − f(x − εt)) / 2ε
    dot-product test:    ⟨c, L t⟩ = ⟨Lᵀ c, t⟩
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

import backend
import backend.numpy
from backend.dispatch import bind
from backend.lprims import DIFFERENTIATED, IMPLS, KINDS, SOURCE, TANGENT, type_of
from backend.ltypes import ArrayType
from backend.primitives import convert_p, stop_gradient_p
from backend.pytree import PyTree, flatten, unflatten
from backend.strategies import GENERATORS, Case
from calculi.linear_ad.primitives import jvp_rules, transpose_rules

Array = np.ndarray[Any, Any]


def primitive_function(case: Case) -> tuple[Callable[..., Any], list[Array]]:
    """``f(*differentiable args)`` applying the case's primitive, the other arguments captured. A case
    with no differentiable argument (``one_hot`` of integers) takes its arguments as floats, made its
    dtypes in the program (``stop_gradient``, ``convert``), as a user's integer argument is traced: so
    that the primitive is traced too (a primitive of constants alone is evaluated at once)."""
    fixed = list(case.args)
    slots = [i for i, d in enumerate(case.diff) if d]
    if not slots:
        def carried(*xs: Any) -> Any:
            args = [bind(convert_p, bind(stop_gradient_p, x), dtype=a.dtype.name)
                    for x, a in zip(xs, fixed, strict=True)]
            return bind(case.prim, *args, **case.params)

        carried.__name__ = case.name
        return carried, [a.astype(np.float64) for a in fixed]

    def f(*xs: Any) -> Any:
        args: list[Any] = list(fixed)
        for i, x in zip(slots, xs, strict=True):
            args[i] = x
        return bind(case.prim, *args, **case.params)

    f.__name__ = case.name
    return f, [case.args[i] for i in slots]


def coverage_gaps() -> list[str]:
    """The rows missing from the tables: every primitive a user applies (``KINDS`` says which) is
    drawn by a strategy and has a JVP rule, ``const`` has a JVP rule, and every linear primitive has a
    transpose rule."""
    gaps = []
    for p, kind in KINDS.items():
        if kind in DIFFERENTIATED and p not in GENERATORS:
            gaps.append(f"{p.name} ({kind}) is drawn by no strategy (backend.strategies.GENERATORS)")
        if kind in (*DIFFERENTIATED, SOURCE) and p not in jvp_rules:
            gaps.append(f"{p.name} ({kind}) has no JVP rule")
        if kind == TANGENT and p not in transpose_rules:
            gaps.append(f"{p.name} (linear) has no transpose rule")
    gaps += [f"a strategy draws {p.name}, which is not an array primitive a user applies"
             for p in GENERATORS if KINDS.get(p) not in DIFFERENTIATED]
    return gaps


def shape_gap(case: Case) -> str | None:
    """Where the primitive's shape rule and its implementation disagree on the case (None: they agree)."""
    params = dict(case.params)
    want = type_of(case.prim, tuple(ArrayType.of(a) for a in case.args), params)
    got = ArrayType.of(IMPLS[case.prim](*case.args, **params))
    if want == got:
        return None
    return f"{case.show()}: the shape rule says {want}, the implementation gives {got}"


def tangents_for(primals: Sequence[Array], seed: int = 1) -> list[Array]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(np.shape(x)) for x in primals]


def complex_step(f: Callable[..., Any], primals: Sequence[Array], tangents: Sequence[Array],
                 h: float = 1e-20) -> Array:
    shifted = [np.asarray(x, complex) + 1j * h * np.asarray(t)
               for x, t in zip(primals, tangents, strict=True)]
    return np.imag(np.asarray(f(*shifted))) / h


def central_difference(f: Callable[..., Any], primals: Sequence[Array], tangents: Sequence[Array],
                       eps: float = 1e-6) -> Array:
    up = [x + eps * t for x, t in zip(primals, tangents, strict=True)]
    down = [x - eps * t for x, t in zip(primals, tangents, strict=True)]
    return (np.asarray(f(*up), float) - np.asarray(f(*down), float)) / (2 * eps)  # type: ignore[no-any-return]


def shared_extremum(x: Array, t: Array, axes: Sequence[int], lowest: bool = False) -> Array:
    """The tangent of ``max`` (``min`` when ``lowest``) over ``axes`` at ``x`` along ``t``, as JAX
    defines it: the mean of ``t`` over the k elements that attain the extremum (1/k each)."""
    axes = tuple(axes)
    hit = x == (np.min if lowest else np.max)(x, axis=axes, keepdims=True)
    return np.sum(np.where(hit, t, 0.0), axis=axes) / np.sum(hit, axis=axes)  # type: ignore[no-any-return]


def ties(x: Array, axes: Sequence[int]) -> int:
    """The most elements that attain the maximum or the minimum of one group of ``x`` over ``axes``."""
    axes = tuple(axes)
    x = np.asarray(x)
    most = [np.sum(x == f(x, axis=axes, keepdims=True), axis=axes) for f in (np.max, np.min)]
    return int(max(np.max(m, initial=0) for m in most))


def vdot(a: PyTree, b: PyTree) -> float:
    return float(sum(np.vdot(np.asarray(x, float), np.asarray(y, float))
                     for x, y in zip(flatten(a)[0], flatten(b)[0], strict=True)))


def dot_product_gap(f: Callable[..., Any], primals: Sequence[Array], seed: int = 2) -> tuple[float, float]:
    """``(⟨c, L t⟩, ⟨Lᵀ c, t⟩)`` for L = the linearization of ``f`` at ``primals`` (from
    ``backend.linearize``) and Lᵀ its transpose (from ``backend.vjp``), at random t and c."""
    rng = np.random.default_rng(seed)
    out, f_lin = backend.linearize(f, *primals)
    t = [rng.standard_normal(np.shape(x)) for x in primals]
    c = rng.standard_normal(np.shape(out))
    lt = f_lin(*t)
    _, f_vjp = backend.vjp(f, *primals)
    ltc = f_vjp(c)
    return vdot(c, lt), vdot(ltc, tuple(t))


def fd_gradient(loss: Callable[..., Any], params: PyTree, args: Sequence[Any], picks: int,
                seed: int = 0, eps: float = 1e-6) -> list[tuple[float, float]]:
    """``picks`` coordinates per parameter leaf: (central difference, backend.grad) pairs."""
    rng = np.random.default_rng(seed)
    grads = backend.grad(loss)(params, *args)
    leaves, tree = flatten(params)
    g_leaves = flatten(grads)[0]
    pairs = []
    for i, leaf in enumerate(leaves):
        for j in rng.choice(leaf.size, min(picks, leaf.size), replace=False):
            up = [x.copy() for x in leaves]
            down = [x.copy() for x in leaves]
            up[i].flat[j] += eps
            down[i].flat[j] -= eps
            hi, lo = float(loss(unflatten(tree, up), *args)), float(loss(unflatten(tree, down), *args))
            fd = (hi - lo) / (2 * eps)
            pairs.append((fd, float(g_leaves[i].flat[j])))
    return pairs


def involution_gap(f: Callable[..., Any], primals: Sequence[Array], seed: int = 3) -> float:
    """The largest difference between L t and (Lᵀ)ᵀ t, where Lᵀᵀ is linear_ad's transpose applied
    twice to the linear half of ``f``'s unzipped JVP."""
    from backend.api import build
    from backend.executor import Compiled
    from calculi.linear_ad.check import check_program
    from calculi.linear_ad.syntax import Program
    from calculi.linear_ad.transpose import transpose_name, transpose_program

    p = build(f, primals, tuple(range(len(primals))), "transpose")
    lin, lin_t = p.names["lin"], p.names["transpose"]
    twice = transpose_program(check_program(p.programs["transpose"]), lin_t)
    back_name = transpose_name(lin_t)
    whole = Program(p.programs["unzip"].defs + tuple(d for d in twice.defs if d.name == back_name))
    compiled = Compiled(whole)
    xs = [np.asarray(x) for x in primals]
    feeds = p.feeds(primals)
    values = compiled.run(p.names["nonlin"], xs, feeds=feeds)
    tape = values[p.n_out]
    rng = np.random.default_rng(seed)
    t = [rng.standard_normal(np.shape(x)) for x in xs]
    once = compiled.run(lin, [tape], t, feeds=feeds)
    back = compiled.run(back_name, [tape], t, feeds=feeds)
    return max((float(np.max(np.abs(np.asarray(a) - np.asarray(b)), initial=0.0))
                for a, b in zip(once, back, strict=True)), default=0.0)


def reuse_gap(f: Callable[..., Any], args: Sequence[Any], argnums: int | Sequence[int] = 0) -> list[str]:
    """What differs between ``f``'s value and gradient compiled with buffer reuse (``out=``, at
    every size and at the default sizes) and without it; the transposed half runs twice on one
    tape, so a buffer overwritten too early, or an overwritten input or tape entry, shows. Empty
    when everything agrees bit for bit."""
    from backend.api import build, diff_leaves
    from backend.executor import Compiled

    p = build(f, args, argnums, "transpose")
    xs, _, _ = diff_leaves(args, argnums)
    feeds = p.feeds(args)
    copies = [x.copy() for x in xs + feeds]

    def gradient(compiled: Compiled) -> tuple[Sequence[Any], ...]:
        values = compiled.run(p.names["nonlin"], xs, feeds=feeds)
        ct = [np.ones_like(np.asarray(v)) for v in values[: p.n_out]]
        tape = values[p.n_out]
        return (values[: p.n_out], compiled.run(p.names["transpose"], [tape], ct, feeds=feeds),
                compiled.run(p.names["transpose"], [tape], ct, feeds=feeds))

    program, typing = p.compiled.typing.program, p.compiled.typing
    value, grad, again = gradient(Compiled(program, typing, out_min_size=1))
    plain_value, plain_grad, _ = gradient(Compiled(program, typing, out_min_size=None))
    default_value, default_grad, _ = gradient(p.compiled)

    def same(a: Sequence[Any], b: Sequence[Any]) -> bool:
        return all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))

    checks = {"the value differs without reuse": same(value, plain_value),
              "the gradient differs without reuse": same(grad, plain_grad),
              "a second transposed call on the same tape differs": same(grad, again),
              "the default compilation differs": same(value, default_value) and same(grad, default_grad),
              "an input was overwritten": same(xs + feeds, copies)}
    return [problem for problem, ok in checks.items() if not ok]


# -- calls of transformed functions against NumPy ------------------------------------------------

def _rebuild(leaf: Any, value: Array) -> Any:
    """``value`` as a leaf of the kind of ``leaf``: a Python float, a NumPy scalar or an array."""
    if isinstance(leaf, np.generic):
        return type(leaf)(value)
    return float(value) if isinstance(leaf, float) else value


def _tree_gaps(got: PyTree, want: PyTree, what: str, tol: float | None = None) -> list[str]:
    """Same structure and leaves close to ``want``'s, relative to its largest element (``tol``; by
    default 2e-5 where float32 is involved, else 1e-10, and the dtypes equal)."""
    (a, sa), (b, sb) = flatten(got), flatten(want)
    if sa != sb:
        return [f"{what}: the structure {sa}, not {sb}"]
    out = []
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        x, y = np.asarray(x), np.asarray(y)
        if tol is None and x.dtype != y.dtype:
            out.append(f"{what}: leaf {i} has dtype {x.dtype}, NumPy's {y.dtype}")
        rtol = tol if tol is not None else 2e-5 if np.dtype(np.float32) in (x.dtype, y.dtype) else 1e-10
        scale = max(1.0, float(np.max(np.abs(y), initial=0.0)))
        if x.shape != y.shape or not np.allclose(x, y, rtol=rtol, atol=rtol * scale):
            out.append(f"{what}: leaf {i} is {x.tolist()}, not {y.tolist()}")
    return out


@dataclass
class _Probe:
    """One call of a ``Call``: its arguments, the differentiated ones, a random direction ``t`` in them,
    and NumPy's function ``ref``."""

    args: tuple[Any, ...]
    nums: tuple[int, ...]
    ref: Callable[..., Any]
    t: list[Array]

    @property
    def diff(self) -> tuple[Any, ...]:
        return tuple(self.args[i] for i in self.nums)

    def at(self, eps: float) -> tuple[Any, ...]:
        """The arguments moved by ``eps·t`` in the differentiated ones."""
        leaves, structure = flatten(self.diff)
        moved = iter(unflatten(structure, [_rebuild(x, np.asarray(x) + eps * t)
                                           for x, t in zip(leaves, self.t, strict=True)]))
        return tuple(next(moved) if i in self.nums else a for i, a in enumerate(self.args))

    def slope(self, read: Callable[[Any], Any], eps: float = 1e-6) -> Any:
        """The central difference of ``read(ref(args))`` along ``t``, leaf by leaf."""
        up, down = flatten(read(self.ref(*self.at(eps)))), flatten(read(self.ref(*self.at(-eps))))
        return unflatten(up[1], [(np.asarray(a, float) - np.asarray(b, float)) / (2 * eps)
                                 for a, b in zip(up[0], down[0], strict=True)])


def _shape_gaps(got: PyTree, like: PyTree, what: str) -> list[str]:
    """``got`` has the structure of ``like`` and leaves of its shapes."""
    (a, sa), (b, sb) = flatten(got), flatten(like)
    if sa != sb or [np.shape(x) for x in a] != [np.shape(x) for x in b]:
        return [f"{what}: {sa} of shapes {[np.shape(x) for x in a]}, not {sb} of {[np.shape(x) for x in b]}"]
    return []


def _derivative_gaps(got: float, fd: float, what: str) -> list[str]:
    return [] if abs(got - fd) <= 1e-6 * (1.0 + abs(got) + abs(fd)) else [
        f"{what}: {got}, the central difference {fd}"]


def call_gaps(call: Any) -> list[str]:
    """Where a ``backend.strategies_programs.Call`` differs from its oracles at either of its two
    calls: values (and dtypes) from NumPy running the function eagerly; derivatives from central
    differences of NumPy's function along a random direction t (⟨∇f, t⟩, ⟨Jᵀc, t⟩ and J t)."""
    from backend.strategies_programs import GLOBAL, program

    rng = np.random.default_rng(0)
    f, ref = program(call, backend.numpy), program(call, np)
    single = isinstance(call.argnums, int)
    nums = (call.argnums,) if single else tuple(call.argnums)
    jitted, grad = backend.jit(f), backend.grad(f, call.argnums)
    value_and_grad = backend.value_and_grad(f, call.argnums)
    gaps: list[str] = []
    for k, (args, captured) in enumerate(((call.args, call.captured), (call.again, call.rebound))):
        GLOBAL["g"] = captured
        what, want = f"call {k + 1}: {call.how}", ref(*args)
        p = _Probe(args, nums, ref, [rng.standard_normal(np.shape(x)) for x in flatten(
            tuple(args[i] for i in nums))[0]])
        if call.how == "jit":
            gaps += _tree_gaps(jitted(*args), want, what)
        elif call.how in ("grad", "value_and_grad"):
            if call.how == "grad":
                g = grad(*args)
            else:
                value, g = value_and_grad(*args)
                gaps += _tree_gaps(value, want, f"{what}'s value")
            gaps += _shape_gaps(g, p.diff[0] if single else p.diff, f"{what}'s gradient")
            gaps += _derivative_gaps(vdot(g, p.t), float(p.slope(lambda out: out)), f"{what}: ⟨∇f, t⟩")
        elif call.how == "vjp":
            out, f_vjp = backend.vjp(f, *args, argnums=call.argnums)
            gaps += _tree_gaps(out, want, f"{what}'s value")
            leaves, structure = flatten(want)
            c = unflatten(structure, [rng.standard_normal(np.shape(x)) for x in leaves])
            gaps += _shape_gaps(f_vjp(c), p.diff[0] if single else p.diff, f"{what}'s cotangent")
            gaps += _derivative_gaps(vdot(f_vjp(c), p.t), float(p.slope(partial(vdot, c))),
                                     f"{what}: ⟨Jᵀc, t⟩")
        else:
            def g(*primals: Any, args: tuple[Any, ...] = args) -> Any:
                given = iter(primals)
                return f(*(next(given) if i in nums else a for i, a in enumerate(args)))

            out, tangent = backend.jvp(g, p.diff, tuple(unflatten(flatten(p.diff)[1], p.t)))
            gaps += _tree_gaps(out, want, f"{what}'s value")
            gaps += _tree_gaps(tangent, p.slope(lambda out: out), f"{what}'s tangent", tol=1e-6)
    return gaps
