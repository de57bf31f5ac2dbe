"""palermo.store."""
