"""Field encryption: AES-256-GCM with per-cell associated data, master-key re-wrapping."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from palermo.errors import ConfigurationError, IntegrityError
from palermo.security.crypto import NONCE_BYTES, field_aad, open_sealed, seal
from palermo.settings import ensure_master_key
from palermo.workspace import Workspace

KEY = bytes(range(32))


def test_round_trip_with_the_same_cell() -> None:
    aad = field_aad("party_identities", "legal_name", 7)
    assert open_sealed(KEY, seal(KEY, b"secret", aad), aad) == b"secret"


def test_ciphertext_moved_to_another_column_fails() -> None:
    blob = seal(KEY, b"secret", field_aad("party_identities", "legal_name", 7))
    with pytest.raises(IntegrityError):
        open_sealed(KEY, blob, field_aad("party_identities", "address", 7))


def test_nonces_do_not_repeat() -> None:
    aad = field_aad("t", "c", 1)
    nonces = {seal(KEY, b"x", aad)[1 : 1 + NONCE_BYTES] for _ in range(20_000)}
    assert len(nonces) == 20_000


def test_rewrap_under_a_new_master_key_keeps_identities(
    workspace: Workspace, case_ref: str, tmp_path: Path
) -> None:
    new_key = tmp_path / "keys2" / "master.key"
    ensure_master_key(new_key, workspace=workspace.path)
    victim = workspace.parties.list(case_ref, role="victim")[0]
    workspace.keys.rewrap(new_key)
    reopened = Workspace.open(
        workspace.path, database_url=workspace.database_url, master_key_file=new_key, law=workspace.law
    )
    try:
        assert reopened.parties.reveal_identity(victim.id, user="a").legal_name == "Zqxwyvna Canarytest"
    finally:
        reopened.close()


def test_old_master_key_is_refused_after_rewrap(workspace: Workspace, case_ref: str, tmp_path: Path) -> None:
    new_key = tmp_path / "keys2" / "master.key"
    ensure_master_key(new_key, workspace=workspace.path)
    victim = workspace.parties.list(case_ref, role="victim")[0]
    workspace.keys.rewrap(new_key)
    stale = Workspace.open(workspace.path, database_url=workspace.database_url, law=workspace.law)
    try:
        with pytest.raises(ConfigurationError, match="wrapped by master key"):
            stale.parties.reveal_identity(victim.id, user="a")
    finally:
        stale.close()


def test_master_key_file_has_256_bits_of_randomness(tmp_path: Path) -> None:
    a, b = tmp_path / "a.key", tmp_path / "b.key"
    ensure_master_key(a, workspace=tmp_path / "ws")
    ensure_master_key(b, workspace=tmp_path / "ws")
    assert len(a.read_bytes()) == 32 and a.read_bytes() != b.read_bytes() and os.stat(a).st_mode & 0o077 == 0


def test_rewrap_re_seals_two_factor_secrets(workspace: Workspace, tmp_path: Path) -> None:
    import pyotp

    workspace.users.add("tess", "correct horse battery staple 42", "analyst")
    secret = workspace.users.enrol_totp("tess")
    new_key = tmp_path / "keys2" / "master.key"
    ensure_master_key(new_key, workspace=workspace.path)
    workspace.keys.rewrap(new_key)
    code = pyotp.TOTP(secret).now()
    # this workspace object moved to the new key too, and so does a fresh open with the new key file
    assert workspace.users.authenticate("tess", "correct horse battery staple 42", code).username == "tess"
    reopened = Workspace.open(
        workspace.path, database_url=workspace.database_url, master_key_file=new_key, law=workspace.law
    )
    try:
        later = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))  # the next step: no replay
        assert (
            reopened.users.authenticate("tess", "correct horse battery staple 42", later).username == "tess"
        )
    finally:
        reopened.close()


def test_a_plain_text_secret_is_never_sealed_under_a_stale_master_key(
    workspace: Workspace, case_ref: str, tmp_path: Path
) -> None:
    import sqlalchemy as sa

    workspace.users.add("tess", "correct horse battery staple 42", "analyst")
    new_key = tmp_path / "keys2" / "master.key"
    ensure_master_key(new_key, workspace=workspace.path)
    workspace.keys.rewrap(new_key)
    with workspace.ctx.db.engine.begin() as conn:  # a secret as Palermo stored it before revision 0005
        conn.execute(sa.text("UPDATE users SET totp_secret = 'JBSWY3DPEHPK3PXP' WHERE username = 'tess'"))

    def plain() -> str | None:
        with workspace.ctx.db.engine.connect() as conn:
            value = conn.execute(sa.text("SELECT totp_secret FROM users WHERE username = 'tess'")).scalar()
        return None if value is None else str(value)

    Workspace.open(workspace.path, database_url=workspace.database_url, law=workspace.law).close()  # old key
    assert plain() == "JBSWY3DPEHPK3PXP"
    Workspace.open(
        workspace.path, database_url=workspace.database_url, master_key_file=new_key, law=workspace.law
    ).close()
    assert plain() is None
