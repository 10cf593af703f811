"""Theorems of PartIR (tactics, propagation, lowering, simulator) on generated programs and schedules."""

from __future__ import annotations

import importlib

ORDER = ("paper", "steps", "bridge", "coverage")

for _module in ORDER:
    importlib.import_module(f"{__name__}.{_module}")
