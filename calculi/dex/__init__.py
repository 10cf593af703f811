"""Dex: typed index sets, pointful tables built with ``for``, effect rows, and a compiler to NumPy."""
