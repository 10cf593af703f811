"""Baselines beside the foil, for comparison only (tests and ``python -m calculi.foil.bench``).

* ``naive``: named substitution with no renaming at all; it captures, on purpose.
* ``debruijn``: de Bruijn indices, where α-equivalence is equality: the oracle.
* ``rapier``: the foil's algorithm on the same terms without the type machinery (raw ``int``
  names, ``int`` bit sets, ``dict`` substitutions, no continuations or evidence).
* ``always_rename``: the same traversal renaming every binder (the "sledgehammer").
"""
