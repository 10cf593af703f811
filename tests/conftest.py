"""Test configuration: Hypothesis profiles are loaded once here; run-time foil checks are on."""

from __future__ import annotations

import os

os.environ.setdefault("FOIL_CHECKS", "1")

from hypothesis import settings

import proofs.profiles  # noqa: F401  (registers the profiles)
from calculi.redistribution.engine import request_devices

# Whichever test starts JAX first, it starts with the fake CPU devices the engine theorems need
# (with one device they would hold vacuously).
request_devices()

settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
