"""``palermo party reveal``: only an account allowed to read victim identity, on its own case, may."""

from __future__ import annotations

import sys

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from palermo.cli.main import app, run
from palermo.store.tables import AuditEvent
from palermo.workspace import Workspace

PASSWORD = "correct horse battery staple 42"


def _reveal(ws: Workspace, user: str) -> tuple[int, str]:
    victim = ws.parties.list("HT-1", role="victim")[0]
    result = CliRunner().invoke(app, ["party", "reveal", str(victim.id), "-u", user, "-w", str(ws.path)])
    return result.exit_code, result.output


def _last_read(ws: Workspace) -> tuple[str, str]:
    with ws.ctx.db.read() as session:
        event = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "party.identity.read")
            .order_by(AuditEvent.seq.desc())
        ).first()
        assert event is not None
        return event.actor, event.outcome


def test_unknown_user_is_refused_and_the_attempt_audited(workspace: Workspace, case_ref: str) -> None:
    code, output = _reveal(workspace, "ANYTHING")
    assert (code, "Canarytest" in output) == (1, False)
    assert _last_read(workspace) == ("ANYTHING", "failure")


def test_role_without_victim_identity_is_refused(workspace: Workspace, case_ref: str) -> None:
    workspace.users.add("analyst.a", PASSWORD, "analyst")
    workspace.users.add_member(case_ref, "analyst.a")
    assert _reveal(workspace, "analyst.a")[0] == 1


def test_prosecutor_outside_the_case_is_refused(workspace: Workspace, case_ref: str) -> None:
    workspace.users.add("prosecutor.p", PASSWORD, "prosecutor")
    assert _reveal(workspace, "prosecutor.p")[0] == 1


def test_deactivated_advocate_is_refused(workspace: Workspace, case_ref: str) -> None:
    workspace.users.add("advocate.a", PASSWORD, "victim_advocate")
    workspace.users.add_member(case_ref, "advocate.a")
    workspace.users.deactivate("advocate.a")
    assert _reveal(workspace, "advocate.a")[0] == 1


def test_advocate_of_the_case_sees_the_identity_and_is_audited(workspace: Workspace, case_ref: str) -> None:
    workspace.users.add("advocate.a", PASSWORD, "victim_advocate")
    workspace.users.add_member(case_ref, "advocate.a")
    code, output = _reveal(workspace, "advocate.a")
    assert (code, "Canarytest" in output) == (0, True)
    assert _last_read(workspace) == ("advocate.a", "success")


def _case_cli(ws: Workspace, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``palermo case …`` as the console script runs it (errors mapped to their exit codes)."""
    sys.argv = ["palermo", "case", *args, "-w", str(ws.path)]
    try:
        run()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out + err


def test_shred_asks_for_the_reference_twice_then_no_identity_can_be_read(
    workspace: Workspace, case_ref: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, crypto-shredding (MP-02) had no command: only the Python API could erase a case's
    identities. A mistyped confirmation shreds nothing; a shred is audited and nobody reads past it."""
    monkeypatch.setattr(sys, "argv", [])  # restored after the test; run() reads it
    workspace.users.add("advocate.a", PASSWORD, "victim_advocate")
    workspace.users.add_member(case_ref, "advocate.a")
    code, output = _case_cli(workspace, capsys, "shred", case_ref, "--confirm", case_ref + "x")
    assert code == 2 and "--confirm must repeat the case reference" in output
    assert _reveal(workspace, "advocate.a")[0] == 0  # nothing was shredded
    code, output = _case_cli(workspace, capsys, "shred", case_ref, "--confirm", case_ref, "--json")
    assert code == 0 and '"keys_deleted": 1' in output
    code, output = _reveal(workspace, "advocate.a")
    assert code != 0 and "Canarytest" not in output
    assert any(e.action == "case.key.shred" for e in workspace.audit.events(case_ref))


def test_rotate_key_keeps_identities_readable_under_a_new_key(
    workspace: Workspace, case_ref: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", [])  # restored after the test; run() reads it
    workspace.users.add("advocate.a", PASSWORD, "victim_advocate")
    workspace.users.add_member(case_ref, "advocate.a")
    code, output = _case_cli(workspace, capsys, "rotate-key", case_ref, "--json")
    assert code == 0 and '"rotated": 1' in output
    assert any(e.action.startswith("case.key.rotate") for e in workspace.audit.events(case_ref))
    code, output = _reveal(workspace, "advocate.a")
    assert code == 0 and "Canarytest" in output
