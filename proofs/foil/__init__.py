"""The foil's claims as properties (reference note §3, P1–P13), over generated terms.

Every substitution is compared with the de Bruijn oracle or stated up to α; terms come from
``calculi.foil.strategies`` (well-scoped by construction, full of shadowing and repeated raw
names) and counterexamples print in the calculus's own syntax. Importing this package registers
the theorems in a fixed order: substitution and scopes first, then α, normal forms and NbE.
"""

from __future__ import annotations

import importlib

ORDER = ("substitution", "normalisation")

for _module in ORDER:
    importlib.import_module(f"{__name__}.{_module}")
