"""palermo.analytics."""
