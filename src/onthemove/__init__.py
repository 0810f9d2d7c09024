"""onthemove."""
