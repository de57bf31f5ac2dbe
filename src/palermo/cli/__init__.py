"""palermo.cli."""
