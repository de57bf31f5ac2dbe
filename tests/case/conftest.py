"""Case-store fixtures (workspace on SQLite and PostgreSQL), loaded from tests/store/workspace_fixtures.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "palermo_workspace_fixtures", Path(__file__).resolve().parents[1] / "store" / "workspace_fixtures.py"
)
assert _spec is not None and _spec.loader is not None
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)

test_law = _fixtures.test_law
key_file = _fixtures.key_file
database_url = _fixtures.database_url
fresh_database_url = _fixtures.fresh_database_url
worker_database_url = _fixtures.worker_database_url
workspace = _fixtures.workspace
case_ref = _fixtures.case_ref
exhibit_files = _fixtures.exhibit_files
OFFENCE = _fixtures.OFFENCE
TEST_LAW = _fixtures.TEST_LAW
