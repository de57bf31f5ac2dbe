"""palermo.reports."""
