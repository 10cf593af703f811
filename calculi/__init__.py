"""calculi: executable calculi and their theorems."""
