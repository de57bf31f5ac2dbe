"""palermo.ingest."""
