"""``palermo audit checkpoint|verify|list`` end to end, on SQLite and PostgreSQL (H-02, AU-06, AU-10).

The attack: someone with the database file drops the delete trigger and removes the newest events,
perhaps writing new ones in their place. The chain alone still verifies; a checkpoint held outside
must not.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from palermo.cli.main import run
from palermo.domain.chain import REWRITTEN
from palermo.workspace import Workspace


class Cli:
    """Runs ``palermo`` in-process as the console script does, returning (exit code, stdout, stderr)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], ws: Path) -> None:
        self.monkeypatch, self.capsys = monkeypatch, capsys
        monkeypatch.setenv("PALERMO_WORKSPACE", str(ws))
        monkeypatch.setenv("PALERMO_USER", "officer.cli")
        monkeypatch.setenv("COLUMNS", "200")

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.monkeypatch.setattr(sys, "argv", ["palermo", *args])
        try:
            run()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def cli(workspace: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """A workspace on each backend with four audited case creations (seq 1-4)."""
    for i in range(4):
        workspace.cases.create(f"A-{i}", f"case {i}", "zz")
    return Cli(monkeypatch, capsys, workspace.path)


def cut_tail(ws: Workspace, from_seq: int) -> None:
    with ws.ctx.db.transaction() as session:
        suffix = "" if ws.ctx.db.dialect == "sqlite" else " ON audit_events"
        session.execute(text(f"DROP TRIGGER audit_events_no_delete{suffix}"))
        session.execute(text("DELETE FROM audit_events WHERE seq >= :seq"), {"seq": from_seq})


def test_checkpoint_writes_the_head_including_its_own_event(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "held" / "checkpoint.json"
    out.parent.mkdir()
    code, stdout, err = cli("audit", "checkpoint", "--case", "A-2", "--out", str(out), "--json")
    assert code == 0, err
    printed = json.loads(stdout)
    assert printed == json.loads(out.read_text())
    assert {k: printed[k] for k in ("seq", "count", "case")} == {"seq": 5, "count": 5, "case": "A-2"}
    assert set(printed) == {"workspace", "seq", "hash", "at", "count", "case"}
    code, stdout, _ = cli("audit", "list", "--json")
    last = json.loads(stdout)[-1]
    assert (last["seq"], last["action"], last["actor"]) == (5, "audit.checkpoint", "officer.cli")


def test_intact_log_passes_its_checkpoint(cli: Cli, tmp_path: Path) -> None:
    held = tmp_path / "checkpoint.json"
    assert cli("audit", "checkpoint", "--out", str(held))[0] == 0
    cli("case", "create", "B-1", "--title", "later", "-j", "zz")
    code, stdout, err = cli("audit", "verify", "--checkpoint", str(held))
    assert code == 0, err
    assert stdout.strip().startswith("audit log intact: 6 events") and "holds checkpoint 5" in stdout
    assert len(stdout.strip().splitlines()) == 1


def test_removed_tail_is_named_by_verify_with_a_checkpoint(
    cli: Cli, workspace: Workspace, tmp_path: Path
) -> None:
    held = tmp_path / "checkpoint.json"
    assert cli("audit", "checkpoint", "--out", str(held))[0] == 0
    cut_tail(workspace, 4)
    assert cli("audit", "verify")[0] == 0  # the chain alone cannot tell
    code, _, err = cli("audit", "verify", "--checkpoint", str(held))
    assert code == 1
    assert "entry 5: missing" in err and "chain holds 3 entries, the checkpoint recorded 5" in err


def test_forged_tail_fails_verify_with_a_checkpoint(cli: Cli, workspace: Workspace, tmp_path: Path) -> None:
    held = tmp_path / "checkpoint.json"
    assert cli("audit", "checkpoint", "--out", str(held))[0] == 0
    cut_tail(workspace, 3)
    for i in range(3):  # new, correctly chained rows in place of the removed ones
        workspace.cases.create(f"F-{i}", "forged", "zz")
    assert cli("audit", "verify")[0] == 0
    code, stdout, err = cli("audit", "verify", "--checkpoint", str(held), "--json")
    assert code == 1
    report = json.loads(stdout)
    assert report["ok"] is False
    assert report["problems"] == [f"entry 5: {REWRITTEN}"]
    assert "history rewritten" in err


def test_list_is_oldest_first_and_audited(cli: Cli) -> None:
    code, stdout, err = cli("audit", "list", "--limit", "2", "--json")
    assert code == 0, err
    assert [e["seq"] for e in json.loads(stdout)] == [3, 4]
    code, stdout, _ = cli("audit", "list", "--case", "A-1", "--json")
    events = json.loads(stdout)
    assert [e["action"] for e in events] == ["case.create"]
    code, stdout, _ = cli("audit", "list")
    assert code == 0
    for column in ("seq", "actor", "action", "object", "outcome", "detail"):
        assert column in stdout
    assert "audit.read" in stdout and '"events": 2' in stdout and "case:2" in stdout
    actions = [e["action"] for e in json.loads(cli("audit", "list", "--json")[1])]
    assert actions == ["case.create"] * 4 + ["audit.read"] * 3


def test_bad_checkpoint_file_is_bad_input(cli: Cli, tmp_path: Path) -> None:
    held = tmp_path / "checkpoint.json"
    held.write_text('{"seq": 5, "hash": "nope", "count": 5}')
    code, _, err = cli("audit", "verify", "--checkpoint", str(held))
    assert code == 2 and "checkpoint.json: hash" in err
    held.write_text("{")
    code, _, err = cli("audit", "verify", "--checkpoint", str(held))
    assert code == 2 and "not valid JSON" in err
    code, _, err = cli("audit", "list", "--case", "NOPE")
    assert code == 2


def test_a_listing_shows_stored_text_as_written_never_as_markup(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events cannot change: an actor named like Rich markup must neither break every later listing
    nor be shown as something other than what is stored."""
    monkeypatch.setenv("PALERMO_USER", "[/x]")
    assert cli("case", "create", "M-1", "--title", "odd actor", "-j", "zz")[0] == 0
    monkeypatch.setenv("PALERMO_USER", "[red on red]hidden")
    assert cli("case", "create", "M-2", "--title", "odd actor", "-j", "zz")[0] == 0
    code, stdout, err = cli("audit", "list")
    assert code == 0, err
    assert "[/x]" in stdout and "[red on red]hidden" in stdout


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[" * 100_000, "not a checkpoint"),
        ('{"seq": ' + "9" * 5000 + ', "count": 1, "hash": "' + "0" * 64 + '"}', "not a checkpoint"),
    ],
)
def test_a_malformed_checkpoint_is_bad_input_not_a_crash(
    cli: Cli, tmp_path: Path, content: str, problem: str
) -> None:
    held = tmp_path / "checkpoint.json"
    held.write_text(content, encoding="utf-8")
    code, _, err = cli("audit", "verify", "--checkpoint", str(held))
    assert code == 2 and problem in err and "Traceback" not in err


def test_a_checkpoint_saved_with_a_byte_order_mark_is_read(cli: Cli, tmp_path: Path) -> None:
    held = tmp_path / "checkpoint.json"
    code, stdout, _ = cli("audit", "checkpoint", "--json")
    held.write_text("\ufeff" + stdout, encoding="utf-8")
    code, stdout, err = cli("audit", "verify", "--checkpoint", str(held))
    assert code == 0, err
