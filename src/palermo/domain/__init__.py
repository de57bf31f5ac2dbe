"""palermo.domain."""
