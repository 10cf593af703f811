"""Linear A: linear types, JVP, unzip, transpose, and reverse mode as their composition.

From "You Only Linearize Once: Tangents Transpose to Gradients" (Radul, Paszke, Frostig,
Johnson, Maclaurin, POPL 2023) and "Decomposing reverse-mode automatic differentiation"
(LAFI 2021). Start with ``primitives.py`` (the rule tables) and ``ad.py`` (the passes).
"""
