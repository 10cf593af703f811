"""Hypothesis profiles, registered once: ``dev`` (fast), ``ci`` (seeded, no deadline), ``thorough``."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

_COMMON = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=False,
    database=None,
)

CI_EXAMPLES = 60
"""Examples a theorem under ci; a theorem's own ``max_examples`` is scaled from it (``registry.scaled``)."""

settings.register_profile("dev", _COMMON, max_examples=20)
settings.register_profile("ci", _COMMON, max_examples=CI_EXAMPLES)
settings.register_profile("thorough", _COMMON, max_examples=1000)

PROFILES = ("dev", "ci", "thorough")


def settings_for(profile: str) -> settings:
    return settings.get_profile(profile)
