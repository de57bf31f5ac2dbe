"""Vendored assets: every file matches the SHA-256 recorded in VENDORED.md, and no page loads a CDN."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import palermo.web

WEB = Path(palermo.web.__file__).parent
VENDOR = WEB / "static" / "vendor"
ROW = re.compile(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$")


def _recorded() -> dict[str, str]:
    rows = (ROW.match(line) for line in (VENDOR / "VENDORED.md").read_text().splitlines())
    return {m.group(1): m.group(2) for m in rows if m}


def test_every_vendored_file_is_recorded() -> None:
    files = {p.name for p in VENDOR.iterdir() if p.name != "VENDORED.md"}
    assert files == set(_recorded())


def test_every_vendored_file_matches_its_recorded_hash() -> None:
    for name, digest in _recorded().items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_templates_load_no_remote_scripts_or_styles() -> None:
    for template in (WEB / "templates").rglob("*.html"):
        text = template.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', text), template.name


def test_versions_in_file_names_match_the_record() -> None:
    record = (VENDOR / "VENDORED.md").read_text()
    assert "| htmx.org | 2.0.11 |" in record
    assert "| cytoscape | 3.35.0 |" in record
