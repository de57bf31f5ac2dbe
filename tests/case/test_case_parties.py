"""Cases and parties on a real workspace (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from palermo.errors import InputError, NotFoundError
from palermo.store.tables import Case, PartyIdentity
from palermo.workspace import Workspace


def test_case_create_then_get_returns_same_case(workspace: Workspace) -> None:
    created = workspace.cases.create("HT-7", "Ring at 5th street", "zz")
    assert workspace.cases.get("HT-7") == created


def test_case_list_is_sorted_by_reference(workspace: Workspace) -> None:
    workspace.cases.create("B-2", "second", "zz")
    workspace.cases.create("A-1", "first", "zz")
    assert [c.reference for c in workspace.cases.list()] == ["A-1", "B-2"]


def test_duplicate_case_reference_is_input_error(workspace: Workspace) -> None:
    workspace.cases.create("HT-7", "one", "zz")
    with pytest.raises(InputError, match="already exists"):
        workspace.cases.create("HT-7", "two", "zz")


def test_unknown_case_names_the_field(workspace: Workspace) -> None:
    with pytest.raises(NotFoundError) as info:
        workspace.parties.add_victim("NOPE", "V9")
    assert info.value.location == "case"


def test_victim_read_model_has_pseudonym_and_no_identity(workspace: Workspace, case_ref: str) -> None:
    victim = workspace.parties.list(case_ref, role="victim")[0]
    dumped = victim.model_dump_json()
    assert victim.label == "V1" and victim.has_identity and "Canarytest" not in dumped


def test_identity_is_stored_encrypted(workspace: Workspace, case_ref: str) -> None:
    with workspace.ctx.db.transaction() as session:
        blob = session.scalars(select(PartyIdentity.legal_name)).one()
    assert blob is not None and b"Canarytest" not in blob


def test_reveal_identity_decrypts_and_audits_without_values(workspace: Workspace, case_ref: str) -> None:
    victim = workspace.parties.list(case_ref, role="victim")[0]
    identity = workspace.parties.reveal_identity(victim.id, user="advocate.a")
    last = workspace.audit.events()[-1]
    assert identity.legal_name == "Zqxwyvna Canarytest"
    assert (last.action, last.actor, last.object_id) == ("party.identity.read", "advocate.a", str(victim.id))
    assert "Canarytest" not in str(last.to_dict())


def test_ciphertext_moved_to_another_row_does_not_decrypt(workspace: Workspace, case_ref: str) -> None:
    other = workspace.parties.add_victim(case_ref, "V2", legal_name="Other Person")
    first = workspace.parties.list(case_ref, role="victim")[0]
    with workspace.ctx.db.transaction() as session:
        blob = session.get(PartyIdentity, first.id).legal_name  # type: ignore[union-attr]
        session.get(PartyIdentity, other.id).legal_name = blob  # type: ignore[union-attr]
    with pytest.raises(Exception, match="does not authenticate"):
        workspace.parties.reveal_identity(other.id, user="advocate.a")


def test_rotating_the_case_key_keeps_identities_readable(workspace: Workspace, case_ref: str) -> None:
    victim = workspace.parties.list(case_ref, role="victim")[0]
    workspace.keys.rotate(case_ref)
    assert workspace.parties.reveal_identity(victim.id, user="a").legal_name == "Zqxwyvna Canarytest"


def test_shredding_the_case_key_makes_identity_unrecoverable(workspace: Workspace, case_ref: str) -> None:
    victim = workspace.parties.list(case_ref, role="victim")[0]
    workspace.keys.shred(case_ref)
    with pytest.raises(Exception, match="crypto-shredded"):
        workspace.parties.reveal_identity(victim.id, user="a")


def test_protected_values_follow_the_identity_version_and_end_with_a_shred(
    workspace: Workspace, case_ref: str
) -> None:
    """A reader that keeps the decrypted values for redaction knows from the version, read without
    decrypting, when to read them again; a shred changes it, and nothing of hers is read after."""
    audited = len(workspace.audit.events(case_ref))
    version = workspace.parties.identity_version(case_ref)
    assert len(workspace.audit.events(case_ref)) == audited  # nothing decrypted, nothing audited
    held = workspace.parties.protected_values(case_ref, user="web", purpose="redaction")
    assert held.version == version and "Zqxwyvna Canarytest" in held
    assert "Canarytest" not in repr(held) and len(workspace.audit.events(case_ref)) == audited + 1
    workspace.parties.add_defendant(case_ref, "D-9")
    assert workspace.parties.identity_version(case_ref) == version
    workspace.keys.shred(case_ref)
    assert workspace.parties.identity_version(case_ref) != version
    after = workspace.parties.protected_values(case_ref, user="web", purpose="redaction")
    assert list(after) == [] and after.version == workspace.parties.identity_version(case_ref)


def test_failed_audit_write_fails_the_action(workspace: Workspace) -> None:
    with workspace.ctx.db.transaction() as session:  # the audit sink breaks (fault injection)
        session.execute(text("ALTER TABLE audit_events RENAME TO audit_events_gone"))
    try:
        with pytest.raises(DBAPIError):
            workspace.cases.create("HT-9", "never stored", "zz")
        with workspace.ctx.db.transaction() as session:
            assert session.scalars(select(Case.reference)).all() == []
    finally:
        with workspace.ctx.db.transaction() as session:
            session.execute(text("ALTER TABLE audit_events_gone RENAME TO audit_events"))
