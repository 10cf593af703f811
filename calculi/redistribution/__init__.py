"""Array redistribution: distributed array types, typed collectives, memory-efficient synthesis.

The calculus of Rink, Paszke, Vytiniotis and Schmid, "Memory-efficient array redistribution through
portable collective communication": meshes ``x=2,y=3``, types ``[3{x}6, 4]``, the collectives
``DynSlice``, ``AllGather``, ``AllToAll`` and ``AllPermute`` with their typing rules and costs, the
synthesis of redistributions by normalising rewrites, a NumPy mesh simulator and a JAX engine.
"""
