"""palermo.security."""
