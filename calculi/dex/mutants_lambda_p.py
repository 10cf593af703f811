"""Seeded bugs in the translation of Dex into λp, which the theorem
``dex.effects.lambda_p_handlers`` must kill.

* ``put_as_accum``: ``r := v`` is translated as State's ``r += v``: the new state is the old one
  plus ``v`` (``set (get () ⊕ v)``), not ``v``.
"""

from __future__ import annotations

from calculi.core.mutants import Mutant, patch_entry
from calculi.dex import to_lambda_p
from calculi.dex.syntax import Put


def _put_as_accum(self: to_lambda_p._Translator, e: Put, out: list[str]) -> None:
    plus = to_lambda_p.plus_text(self.checked.refs[id(e)].elem)
    out.append("(dexPut ")
    self.paren(e.ref, out)
    out.append(f" ({plus} (dexGet ")
    self.paren(e.ref, out)
    out.append(") ")
    self.paren(e.value, out)
    out.append("))")


MUTANTS = [
    Mutant("dex.put_as_accum", "dex", "the translation runs State's r := v as r += v",
           lambda: patch_entry(to_lambda_p._RULES, Put, _put_as_accum),
           "dex.effects.lambda_p_handlers"),
]
