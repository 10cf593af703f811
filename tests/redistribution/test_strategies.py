"""The generators draw on small meshes too: every one keeps to ``max_devices`` and passes Hypothesis's
health checks (no filtering, no empty choice) down to the fewest devices it documents."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calculi.redistribution import strategies
from calculi.redistribution.subaxes_strategies import sub_problems, sub_walks
from calculi.redistribution.syntax import Mesh

GENERATORS: dict[str, tuple[Callable[[int], st.SearchStrategy[object]], int]] = {
    "problems": (lambda n: strategies.problems(n), 2),
    "general_problems": (lambda n: strategies.general_problems(n), 2),
    "uneven_problems": (lambda n: strategies.uneven_problems(n), 2),
    "hard_problems": (lambda n: strategies.hard_problems(n), 2),
    "flat_problems": (lambda n: strategies.flat_problems(n), 2),
    "weighted_problems": (strategies.weighted_problems, 2),
    "walks": (lambda n: strategies.walks(n), 2),
    "rewrite_sites": (lambda n: strategies.rewrite_sites(max_devices=n), 4),
    "sub_problems": (lambda n: sub_problems(n).map(lambda pair: pair[1]), 2),
    "sub_walks": (lambda n: sub_walks(n).map(lambda sub: sub.walk), 2),
}


@pytest.mark.parametrize(("name", "max_devices"), [
    (name, n) for name, (_, fewest) in sorted(GENERATORS.items()) for n in (2, 3, 4) if n >= fewest])
def test_generators_keep_to_their_device_budget(name: str, max_devices: int) -> None:
    build, _ = GENERATORS[name]

    @settings(max_examples=20, database=None, deadline=None)
    @given(build(max_devices))
    def draws(value: object) -> None:
        mesh = getattr(value, "mesh", None)
        assert isinstance(mesh, Mesh), value
        assert 2 <= mesh.device_count <= max_devices, f"{value}: {mesh.device_count} devices"

    draws()
