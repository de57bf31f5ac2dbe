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
    from palermo.security.crypto import read_shred_list

    instance = (read_shreds(new_key) or [])[-1]["instance"]
    carried = read_shred_list(new_key)
    assert carried is not None and carried.complete_after(instance) == 0  # the old list knew it all


def test_a_first_shred_under_a_key_without_a_list_starts_it_from_that_shred(
    workspace: Workspace, case_ref: str
) -> None:
    """Review 2 HIGH 2: a key from before lists gets one on its first shred, saying from which audit seq
    it is complete, never that it always was."""
    from palermo.security.crypto import read_shred_list, shred_list_file

    key_file = workspace.settings.master_key_file
    shred_list_file(key_file).unlink()
    workspace.keys.shred(case_ref)
    listed = read_shred_list(key_file)
    assert listed is not None
    shred = listed.shreds[-1]
    assert [(s["instance"], s["audit_seq"]) for s in listed.starts] == [
        (shred["instance"], shred["audit_seq"] - 1)
    ]
    assert listed.complete_after(shred["instance"]) == shred["audit_seq"] - 1
    assert listed.complete_after("another-copy") is None
    assert shred["instance"] == shred["workspace_genesis"]  # never restored: the original instance


def test_a_torn_last_line_is_ignored_and_the_next_shred_starts_on_a_new_line(
    workspace: Workspace, case_ref: str
) -> None:
    """Review 2 MED 3: a crash mid-append leaves a last line without its newline; it must neither block
    every restore nor swallow the next shred's line."""
    from palermo.security.crypto import read_shreds, shred_list_file

    key_file = workspace.settings.master_key_file
    with shred_list_file(key_file).open("a", encoding="utf-8") as fh:
        fh.write('{"kind": "shred", "case_id": 9, "vers')
    assert read_shreds(key_file) == []  # the torn shred never committed: ignored, not an error
    workspace.keys.shred(case_ref)
    entries = read_shreds(key_file)
    assert entries is not None and [e["case"] for e in entries] == [case_ref]
    from palermo.security.crypto import read_shred_list

    after = read_shred_list(key_file)
    assert after is not None and after.torn  # still said, as ignored: not taken for damage


def test_a_shred_list_that_cannot_be_written_is_a_clear_error_naming_it(
    workspace: Workspace, case_ref: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 2 MED-LOW 4: a master key on a read-only mount: a ConfigurationError naming the list, not a
    bare OSError traceback; and the shred is undone."""
    import errno

    import palermo.security.crypto as crypto
    from palermo.security.crypto import shred_list_file

    real_open = os.open

    def read_only(path: object, flags: int, *args: object) -> int:
        if str(path).endswith(".shredded") and flags & (os.O_WRONLY | os.O_RDWR):
            raise OSError(errno.EROFS, "Read-only file system")
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(crypto.os, "open", read_only)
    with pytest.raises(ConfigurationError, match="must be writable") as caught:
        workspace.keys.shred(case_ref)
    assert caught.value.location == str(shred_list_file(workspace.settings.master_key_file))
    assert "case.key.shred" not in [e.action for e in workspace.audit.events()]


def test_a_shred_list_readable_by_others_is_made_owner_only(workspace: Workspace, case_ref: str) -> None:
    """Review 2 LOW 8: the list says which cases were shredded; one found 0644 is tightened to 0600."""
    from palermo.security.crypto import shred_list_file

    path = shred_list_file(workspace.settings.master_key_file)
    path.chmod(0o644)
    workspace.keys.shred(case_ref)
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_new_shred_list_is_made_durable_in_its_folder(
    workspace: Workspace, case_ref: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 2 LOW 8: a list created by a shred is fsync'd *and* so is the folder holding its name."""
    import stat

    import palermo.security.crypto as crypto
    from palermo.security.crypto import shred_list_file

    shred_list_file(workspace.settings.master_key_file).unlink()
    is_folder: list[bool] = []  # one entry per fsync: was the descriptor a folder's?
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        is_folder.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(crypto.os, "fsync", spy)  # the os module itself: settings.fsync_folder sees it too
    workspace.keys.shred(case_ref)
    assert any(is_folder), f"no folder was fsync'd, only {len(is_folder)} file(s)"
