"""One primitive, one object: each array primitive is defined once, every table is keyed by that object,
and a missing row is found (the coverage theorem ``backend.tables.complete`` reads ``checks.coverage_gaps``).
The functions of ``backend.numpy`` have NumPy's signatures and defaults; the modules import one way.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

import backend.numpy as bnp
import backend.primitives as P
import backend.rules  # noqa: F401  (the rule tables)
import backend.structural as S
from backend import checks, lprims, strategies
from backend.dispatch import bind
from calculi.core.mutants import patch_entry
from calculi.linear_ad.primitives import PRIMITIVES, impl_rules, jvp_rules, transpose_rules, typing_rules
from calculi.linear_ad.types import REAL

ROOT = Path(__file__).resolve().parents[2]


def test_the_tables_are_complete() -> None:
    assert checks.coverage_gaps() == []


def test_a_missing_jvp_row_is_found() -> None:
    saved = jvp_rules.pop(P.tanh_p)
    try:
        assert checks.coverage_gaps() == ["tanh (nonlinear) has no JVP rule"]
    finally:
        jvp_rules[P.tanh_p] = saved


def test_a_missing_transpose_or_strategy_row_is_found() -> None:
    saved = transpose_rules.pop(S.reduce_sumL_p)
    try:
        assert checks.coverage_gaps() == ["reduce_sumL (linear) has no transpose rule"]
    finally:
        transpose_rules[S.reduce_sumL_p] = saved
    saved_generators = dict(strategies.GENERATORS)
    del strategies.GENERATORS[P.log1p_p]
    try:
        assert checks.coverage_gaps() == [
            "log1p (nonlinear) is drawn by no strategy (backend.strategies.GENERATORS)"]
    finally:
        strategies.GENERATORS.clear()
        strategies.GENERATORS.update(saved_generators)  # in their order: the theorems run in it


def test_a_new_primitive_without_rules_is_found() -> None:
    p = lprims.define("unruly", np.negative, P.same, kind=lprims.NONLINEAR, fresh=True)
    try:
        gaps = checks.coverage_gaps()
        assert "unruly (nonlinear) is drawn by no strategy (backend.strategies.GENERATORS)" in gaps
        assert "unruly (nonlinear) has no JVP rule" in gaps
    finally:
        for table in (lprims.IMPLS, lprims.SHAPES, lprims.KINDS, typing_rules, impl_rules):
            del table[p]
        del lprims.PRIMS["unruly"], PRIMITIVES["unruly"]
        lprims.FRESH.discard(p)


def test_each_primitive_is_one_object_named_once() -> None:
    assert all(lprims.PRIMS[p.name] is p for p in lprims.KINDS)
    assert all(PRIMITIVES[p.name] is p for p in lprims.KINDS)  # the parser reads the same objects
    before = PRIMITIVES["tanh"]
    with pytest.raises(ValueError, match="defined twice"):
        lprims.define("tanh", np.tanh, P.same, kind=lprims.NONLINEAR, fresh=True)
    assert PRIMITIVES["tanh"] is before and typing_rules[before]([REAL], [], {}) == REAL  # refused: untouched
    with patch_entry(lprims.IMPLS, P.tanh_p, lambda x: x + 1):  # bind reads the object's row
        assert bind(P.tanh_p, np.zeros(2)).tolist() == [1.0, 1.0]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_modules_import_one_way() -> None:
    """dispatch knows nothing of numpy; numpy knows nothing of nn; the primitives know no rules."""
    assert not {m for m in _imports(ROOT / "backend/dispatch.py") if m.startswith("backend.numpy")}
    for f in (ROOT / "backend/numpy").glob("*.py"):
        assert "backend.nn" not in _imports(f), f.name
    for name in ("primitives", "structural", "indexing", "contractions", "lprims", "ltypes"):
        assert not {m for m in _imports(ROOT / f"backend/{name}.py") if m.startswith(("backend.rules",
                                                                                        "backend.numpy"))}


SIGNATURES = ["sum", "mean", "max", "min", "prod", "var", "std", "argmax", "argmin", "cumsum", "sort",
              "argsort", "any", "all", "reshape", "ravel", "squeeze", "expand_dims", "transpose", "swapaxes",
              "moveaxis", "broadcast_to", "concatenate", "stack", "split", "array_split", "tile", "repeat",
              "pad", "flip", "roll", "take", "take_along_axis", "where", "clip", "round", "einsum", "dot",
              "outer", "tensordot", "diagonal", "trace", "tril", "triu", "diff", "average", "count_nonzero",
              "zeros_like", "ones_like", "full_like"]


@pytest.mark.parametrize("name", SIGNATURES)
def test_signatures_and_defaults_are_numpys(name: str) -> None:
    """Each parameter NumPy has and backend.numpy takes is at NumPy's position, with NumPy's default."""
    ours = inspect.signature(getattr(bnp, name)).parameters
    theirs = inspect.signature(getattr(np, name)).parameters
    positional = [p for p in theirs.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    mine = [p for p in ours.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    for a, b in zip(mine, positional, strict=False):
        assert a.name == b.name or name == "where", (name, a.name, b.name)
    for p in ours.values():
        q = theirs.get(p.name)
        if q is None or q.default is inspect.Parameter.empty:
            continue
        default = q.default if not repr(q.default).startswith("<no value>") else p.default
        assert p.default == default or (p.default is None and "no value" in repr(q.default)), (name, p.name)


def test_linalg_norm_and_nn_names() -> None:
    x = np.arange(6.0).reshape(2, 3)
    for ord_, axis in [(None, None), (1, 0), (np.inf, 1), (-np.inf, None), (2, 1), (0, 1), (3, 0),
                       ("fro", None), (1, None), (np.inf, None), (-1, (1, 0))]:
        np.testing.assert_allclose(bnp.linalg.norm(x, ord_, axis), np.linalg.norm(x, ord_, axis))
    import backend.nn as nn

    assert nn.softmax is bnp.softmax and nn.sqrt_bound_derivative is bnp.sqrt_bound_derivative
