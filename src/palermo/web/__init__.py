"""palermo.web."""
