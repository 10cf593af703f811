"""The NumPy array level of Linear A."""
