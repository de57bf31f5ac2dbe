"""At rest: a workspace folder only its owner can enter, files only its owner can read."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from palermo.law.library import LawLibrary
from palermo.workspace import Workspace


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def ws_path(tmp_path: Path, key_file: Path, test_law: LawLibrary) -> Path:
    old = os.umask(0o022)  # the usual default, which would otherwise give 0755 folders and 0644 files
    try:
        ws = Workspace.init(tmp_path / "ws", master_key_file=key_file, law=test_law)
        ws.cases.create("HT-1", "Test ring", "zz")
        ws.evidence.add("HT-1", key_file.parent / "exhibit.txt", source="phone", acquired_by="Det. Ada")
        ws.close()
    finally:
        os.umask(old)
    return tmp_path / "ws"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "exhibit.txt").write_text("chat log: meet at 9\n")
    return tmp_path / "keys" / "master.key"


def test_workspace_folders_are_owner_only(ws_path: Path) -> None:
    assert (_mode(ws_path), _mode(ws_path / "evidence")) == (0o700, 0o700)


@pytest.mark.parametrize("name", ["palermo.db", "analytics.duckdb", "settings.toml"])
def test_workspace_files_are_owner_read_write_only(ws_path: Path, name: str) -> None:
    assert _mode(ws_path / name) == 0o600


def test_evidence_blobs_are_owner_read_only(ws_path: Path) -> None:
    blobs = [p for p in (ws_path / "evidence").rglob("*") if p.is_file()]
    assert [_mode(p) for p in blobs] == [0o400]


def test_workspace_with_private_files_opens_and_reads(ws_path: Path, key_file: Path) -> None:
    with Workspace.open(ws_path, master_key_file=key_file) as ws:
        assert [i.original_filename for i in ws.evidence.list("HT-1")] == ["exhibit.txt"]
