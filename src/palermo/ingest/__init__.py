"""Ingest: evidence files in, statements with provenance out (the DuckDB analytics tables).

``base`` defines adapters and their registry (entry-point group ``palermo.adapters``), ``schema``
the tables, ``service.ingest`` the atomic, idempotent import; ``bank``, ``cdr``, ``phone``, ``ads``,
``ftm`` and ``mapping`` are the built-in adapters, ``normalise`` the identifier normalisation.
Modules are imported on demand so that reading the schema does not load every adapter.
"""
