"""palermo.scenario."""
