"""Golden: every X.lam of data/lambda-n-ways normalises to its X.nf.lam up to α.

The default tier runs every pair except the random ones in full, and a fixed subset of each
random file (the first 30 of the terms that normalise in well under a second here); some random
terms duplicate large arguments under normal order without sharing and take tens of seconds each,
so the complete random files run in the slow tier (``pytest -m slow``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from calculi.core.syntax import Source
from calculi.foil import alpha_equiv, normalize, parse_file
from calculi.foil.parse import parse_source, split_terms
from calculi.foil.syntax import Expr

DATA = Path(__file__).resolve().parents[2] / "data" / "lambda-n-ways"
FIXED = ["capture10", "constructed20", "onesubst", "twosubst", "threesubst", "foursubst", "t1", "t2", "t3"]
RANDOM = ["random15", "random16", "random17", "random18", "random19"]

# Per random file: the indices (from 0, in file order) of the default-tier subset.
SUBSET = {
    "random15": [2, 3, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 21, 22, 23, 27, 28, 29, 30, 33,
                 34, 35, 40, 41, 42, 43],
    "random16": [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 12, 14, 15, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 29,
                 30, 32, 33, 34, 35],
    "random17": [0, 1, 2, 3, 4, 5, 6, 9, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23, 24, 25, 27, 28, 30, 33, 34,
                 36, 38, 39, 42, 44],
    "random18": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 19, 20, 21, 22, 23, 24, 25, 27,
                 29, 31, 32, 33, 34],
    "random19": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 21, 22, 23, 25, 26,
                 27, 29, 30, 32, 35],
}


@cache
def pairs(name: str) -> list[tuple[Expr[Any], Expr[Any]]]:
    terms = parse_file((DATA / f"{name}.lam").read_text(), f"{name}.lam")
    normal = parse_file((DATA / f"{name}.nf.lam").read_text(), f"{name}.nf.lam")
    assert len(terms) == len(normal), name
    return list(zip(terms, normal, strict=True))


@cache
def chunks(filename: str) -> list[tuple[int, str]]:
    return split_terms((DATA / filename).read_text())


def pair(name: str, index: int) -> tuple[Expr[Any], Expr[Any]]:
    """The ``index``-th pair of a file, parsing only that term and its normal form."""
    out = []
    for filename in (f"{name}.lam", f"{name}.nf.lam"):
        lineno, chunk = chunks(filename)[index]
        out.append(parse_source(Source(chunk, filename, first_line=lineno)))
    return out[0], out[1]


def test_the_data_is_the_repository_copy() -> None:
    assert (DATA / "LICENSE").is_file() and (DATA / "README.md").is_file()
    assert sorted(p.name[: -len(".nf.lam")] for p in DATA.glob("*.nf.lam")) == sorted(FIXED + RANDOM)
    assert len(pairs("capture10")) == 9 and len(pairs("onesubst")) == 100


@pytest.mark.parametrize("name", FIXED)
def test_every_term_normalises_to_its_golden(name: str) -> None:
    for index, (term, expected) in enumerate(pairs(name)):
        assert alpha_equiv(normalize(term), expected), f"{name} #{index + 1}"


@pytest.mark.parametrize("name", RANDOM)
def test_random_subset(name: str) -> None:
    for index in SUBSET[name]:
        term, expected = pair(name, index)
        assert alpha_equiv(normalize(term), expected), f"{name} #{index + 1}"


@pytest.mark.slow
@pytest.mark.parametrize("name", RANDOM)
def test_random_in_full(name: str) -> None:
    for index, (term, expected) in enumerate(pairs(name)):
        assert alpha_equiv(normalize(term), expected), f"{name} #{index + 1}"
