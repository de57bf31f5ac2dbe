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


PASSWORD = "correct horse battery staple 42"


def test_a_secret_sealed_under_another_key_fails_sign_in_like_a_wrong_code(
    workspace: Workspace, case_ref: str, tmp_path: Path
) -> None:
    """Never an error of its own: a 409 naming the account would tell who exists and has 2FA."""
    import pyotp

    from palermo.errors import AccessDenied

    workspace.users.add("tess", PASSWORD, "analyst")
    secret = workspace.users.enrol_totp("tess")
    other_key = tmp_path / "other" / "master.key"
    ensure_master_key(other_key, workspace=workspace.path)
    foreign = Workspace.open(
        workspace.path, database_url=workspace.database_url, master_key_file=other_key, law=workspace.law
    )
    try:
        with pytest.raises(AccessDenied):
            foreign.users.authenticate("tess", PASSWORD, pyotp.TOTP(secret).now())
        with pytest.raises(AccessDenied):
            foreign.users.authenticate("tess", "a wrong password 123", pyotp.TOTP(secret).now())
        assert [e.outcome for e in foreign.audit.events() if e.action == "login"][-2:] == [
            "failure",
            "failure",
        ]
        with pytest.raises(ConfigurationError, match="another master key"):
            foreign.users.enrol_totp("tess")  # would seal under a key the workspace's own cannot open
    finally:
        foreign.close()
    assert workspace.users.authenticate("tess", PASSWORD, pyotp.TOTP(secret).now()).username == "tess"


def test_rewrap_goes_ahead_when_a_secret_cannot_be_opened_and_that_account_fails_closed(
    workspace: Workspace, tmp_path: Path
) -> None:
    import pyotp
    import sqlalchemy as sa

    from palermo.errors import AccessDenied

    workspace.users.add("tess", PASSWORD, "analyst")
    workspace.users.add("uma", PASSWORD, "analyst")
    tess = workspace.users.enrol_totp("tess")
    uma = workspace.users.enrol_totp("uma")
    with workspace.ctx.db.engine.begin() as conn:  # uma's blob damaged (or sealed under a lost key)
        blob = conn.execute(sa.text("SELECT totp_sealed FROM users WHERE username = 'uma'")).scalar_one()
        conn.execute(
            sa.text("UPDATE users SET totp_sealed = :b WHERE username = 'uma'"),
            {"b": bytes(blob)[:-1] + bytes([bytes(blob)[-1] ^ 1])},
        )
    new_key = tmp_path / "keys2" / "master.key"
    ensure_master_key(new_key, workspace=workspace.path)
    workspace.keys.rewrap(new_key)
    rewrap = [e for e in workspace.audit.events() if e.action == "master_key.rewrap"][-1]
    assert (rewrap.detail or {})["user_secrets_unreadable"] == 1
    assert workspace.users.authenticate("tess", PASSWORD, pyotp.TOTP(tess).now()).username == "tess"
    with pytest.raises(AccessDenied):
        workspace.users.authenticate("uma", PASSWORD, pyotp.TOTP(uma).now())


def test_a_failed_rewrap_leaves_the_workspace_on_its_old_key(
    workspace: Workspace, case_ref: str, tmp_path: Path
) -> None:
    """The transaction fails after every key was re-wrapped (its audit record is refused by the
    database): nothing is committed, so the workspace must go on with the old key."""
    import sqlalchemy as sa

    before = workspace.keys.keyring.master.key_id
    with workspace.ctx.db.engine.begin() as conn:
        if workspace.ctx.db.dialect == "sqlite":
            conn.execute(
                sa.text(
                    "CREATE TRIGGER refuse_rewrap BEFORE INSERT ON audit_events "
                    "WHEN NEW.action = 'master_key.rewrap' BEGIN SELECT RAISE(ABORT, 'audit down'); END"
                )
            )
        else:
            conn.execute(
                sa.text(
                    "CREATE FUNCTION refuse_rewrap() RETURNS trigger AS $$ BEGIN "
                    "IF NEW.action = 'master_key.rewrap' THEN RAISE EXCEPTION 'audit down'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                sa.text(
                    "CREATE TRIGGER refuse_rewrap BEFORE INSERT ON audit_events "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_rewrap()"
                )
            )
    new_key = tmp_path / "keys2" / "master.key"
    ensure_master_key(new_key, workspace=workspace.path)
    try:
        with pytest.raises(Exception, match="audit down"):
            workspace.keys.rewrap(new_key)
    finally:  # the PostgreSQL schema is shared by the worker's later tests
        with workspace.ctx.db.engine.begin() as conn:
            if workspace.ctx.db.dialect == "sqlite":
                conn.execute(sa.text("DROP TRIGGER refuse_rewrap"))
            else:
                conn.execute(sa.text("DROP TRIGGER refuse_rewrap ON audit_events"))
                conn.execute(sa.text("DROP FUNCTION refuse_rewrap()"))
    assert workspace.keys.keyring.master.key_id == before  # it used to switch before the commit
    victim = workspace.parties.list(case_ref, role="victim")[0]
    assert workspace.parties.reveal_identity(victim.id, user="a").legal_name == "Zqxwyvna Canarytest"


def test_one_unreadable_secret_left_by_a_rewrap_does_not_block_enrolment(
    workspace: Workspace, tmp_path: Path
) -> None:
    """The recorded master key id decides, not the key ids found on stored secrets."""
    import pyotp
    import sqlalchemy as sa

    workspace.users.add("tess", PASSWORD, "analyst")
    workspace.users.add("uma", PASSWORD, "analyst")
    workspace.users.enrol_totp("uma")
    with workspace.ctx.db.engine.begin() as conn:  # uma's secret under a key nobody has any more
        conn.execute(
            sa.text("UPDATE users SET totp_sealed = :b WHERE username = 'uma'"), {"b": b"0123456789abcdef:x"}
        )
    new_key = tmp_path / "keys2" / "master.key"
    ensure_master_key(new_key, workspace=workspace.path)
    workspace.keys.rewrap(new_key)
    uma = workspace.users.enrol_totp("uma")  # what the rewrap's log tells the operator to do
    tess = workspace.users.enrol_totp("tess")
    assert workspace.users.authenticate("uma", PASSWORD, pyotp.TOTP(uma).now()).username == "uma"
    assert workspace.users.authenticate("tess", PASSWORD, pyotp.TOTP(tess).now()).username == "tess"


def test_a_new_workspace_records_its_master_key_so_a_foreign_key_file_cannot_enrol(
    workspace: Workspace, tmp_path: Path
) -> None:
    other_key = tmp_path / "other" / "master.key"
    ensure_master_key(other_key, workspace=workspace.path)
    workspace.users.add("tess", PASSWORD, "analyst")
    foreign = Workspace.open(
        workspace.path, database_url=workspace.database_url, master_key_file=other_key, law=workspace.law
    )
    try:
        with pytest.raises(ConfigurationError, match="another master key"):
            foreign.users.enrol_totp("tess")
    finally:
        foreign.close()


def test_a_shred_is_listed_beside_the_master_key_file(workspace: Workspace, case_ref: str) -> None:
    """MP-02: backups made before a shred still hold the key; the list outside the workspace lets a restore
    of one shred it again even when the workspace itself is lost."""
    from palermo.security.crypto import read_shreds, shred_list_file

    key_file = workspace.settings.master_key_file
    before = read_shreds(key_file) or []
    workspace.keys.shred(case_ref)
    entries = read_shreds(key_file)
    assert entries is not None and len(entries) == len(before) + 1
    entry = entries[-1]
    genesis = workspace.audit.events()[0]
    shred_event = next(e for e in reversed(workspace.audit.events()) if e.action == "case.key.shred")
    assert (entry["case"], entry["versions"], entry["audit_seq"]) == (case_ref, [1], shred_event.seq)
    assert entry["case_id"] == shred_event.case_id and entry["by"] == workspace.actor
    assert isinstance(entry["workspace_genesis"], str) and genesis.seq == 1
    assert shred_list_file(key_file).stat().st_mode & 0o777 == 0o600
    assert not shred_list_file(key_file).is_relative_to(workspace.path)


def test_a_shred_whose_list_cannot_be_written_is_undone(
    workspace: Workspace, case_ref: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import palermo.workspace as workspace_module

    def full_disk(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(workspace_module, "record_shred", full_disk)
    victim = workspace.parties.list(case_ref, role="victim")[0]
    with pytest.raises(OSError, match="No space"):
        workspace.keys.shred(case_ref)
    assert workspace.parties.reveal_identity(victim.id, user="a").legal_name == "Zqxwyvna Canarytest"
    assert "case.key.shred" not in [e.action for e in workspace.audit.events()]


def test_rewrap_carries_the_shred_list_to_the_new_master_key(
    workspace: Workspace, case_ref: str, tmp_path: Path
) -> None:
    from palermo.security.crypto import read_shreds

    workspace.keys.shred(case_ref)
    new_key = tmp_path / "keys2" / "master.key"
    ensure_master_key(new_key, workspace=workspace.path)
    workspace.keys.rewrap(new_key)
    assert read_shreds(new_key) == read_shreds(workspace.settings.master_key_file)
    assert [e["case"] for e in read_shreds(new_key) or []][-1:] == [case_ref]
