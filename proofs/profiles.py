"""Hypothesis profiles, registered once: ``dev`` (fast), ``ci`` (seeded, no deadline), ``thorough``."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

_COMMON = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=False,
    database=None,
)

settings.register_profile("dev", _COMMON, max_examples=20)
settings.register_profile("ci", _COMMON, max_examples=60)
settings.register_profile("thorough", _COMMON, max_examples=1000)

PROFILES = ("dev", "ci", "thorough")


def settings_for(profile: str) -> settings:
    return settings.get_profile(profile)
