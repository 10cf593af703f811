"""PartIR: SPMD partitioning by tactics kept apart from the model, with predictable propagation.

PartIR:Core is an array program (einsum, elementwise, reductions, broadcast, reshape, transpose, a
gather ``take``, windows ``strided_slice``/``pad``, the recurrence ``scan``, ``max``) plus ``loop``
over a mesh axis (``#tile<d>`` or ``#sum``), ``slice`` and ``atomic``. Tactics (``ManualPartition``,
``Replicate``, ``AutomaticPartition``) tile values; propagation spreads each tiling by one rule per
primitive; lowering gives per-device programs whose resharding is synthesised by
``calculi.redistribution``.
"""
