"""The case-store CLI end to end: exit codes 0/1/2, --json output, nothing stored on bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from palermo.cli.main import run

OFFENCE = "zz-sex-trafficking"


class Cli:
    """Runs ``palermo`` in-process as the console script does, returning (exit code, stdout, stderr)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], ws: Path) -> None:
        self.monkeypatch, self.capsys = monkeypatch, capsys
        monkeypatch.setenv("PALERMO_WORKSPACE", str(ws))
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

    def json(self, *args: str) -> object:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)


def make_cli(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: str | None,
) -> Cli:
    """A workspace made by ``palermo init`` with one case, a defendant (1) and a minor victim V1 (2)."""
    run_cli = Cli(monkeypatch, capsys, tmp_path / "ws")
    init_args = ["init", str(tmp_path / "ws")] + (["--database-url", database_url] if database_url else [])
    assert run_cli(*init_args)[0] == 0
    assert run_cli("case", "create", "HT-1", "--title", "Ring", "-j", "zz")[0] == 0
    assert run_cli("party", "add", "HT-1", "-r", "defendant", "-l", "D. Roe")[0] == 0
    assert (
        run_cli(
            "party",
            "add",
            "HT-1",
            "-r",
            "victim",
            "-l",
            "V1",
            "--age",
            "16",
            "--legal-name",
            "Zqxwyvna Canarytest",
        )[0]
        == 0
    )
    return run_cli


@pytest.fixture
def cli(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    """The CLI on a SQLite workspace (the services below it run on both backends in the other tests)."""
    return make_cli(tmp_path, monkeypatch, capsys, None)


@pytest.fixture
def exhibit(tmp_path: Path) -> Path:
    path = tmp_path / "chat.txt"
    path.write_text("we meet at 9, bring the girls\n")
    return path


def test_case_list_json(cli: Cli) -> None:
    assert [c["reference"] for c in cli.json("case", "list")] == ["HT-1"]  # type: ignore[union-attr,index]


def test_party_list_shows_pseudonym_never_the_name(cli: Cli) -> None:
    code, out, _ = cli("party", "list", "HT-1")
    assert code == 0 and "V1" in out and "Canarytest" not in out


def test_charge_add_materialises_elements(cli: Cli) -> None:
    charge = cli.json("charge", "add", "HT-1", "-o", OFFENCE, "-d", "D. Roe", "-v", "V1", "-n", "1")
    required = {e["element_key"]: e["required"] for e in charge["elements"]}  # type: ignore[index]
    assert required == {"act": True, "commerce": True, "means": False, "commercial_sex": True}


def test_matrix_and_gaps_after_a_link_on_each_backend(
    tmp_path: Path,
    key_file: Path,
    database_url: str | None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    exhibit: Path,
) -> None:
    cli = make_cli(tmp_path, monkeypatch, capsys, database_url)
    charge = cli.json("charge", "add", "HT-1", "-o", OFFENCE, "-d", "1", "-v", "2", "-n", "1")
    act = charge["elements"][0]["id"]  # type: ignore[index]
    (item,) = cli.json("evidence", "add", "HT-1", str(exhibit), "-s", "phone", "-a", "Det. Ada")  # type: ignore[misc]
    assert cli("proof", "link", str(act), str(item["id"]), "-p", "line:1")[0] == 0
    matrix = cli.json("proof", "matrix", "HT-1")
    assert matrix["charges"][0]["elements"][0]["status"] == "weak"  # type: ignore[index]
    assert {g["element_key"] for g in cli.json("proof", "gaps", "HT-1")} == {  # type: ignore[union-attr,index]
        "act",
        "commerce",
        "commercial_sex",
    }


def test_lead_accept_via_cli(cli: Cli, exhibit: Path) -> None:
    charge = cli.json("charge", "add", "HT-1", "-o", OFFENCE, "-d", "1", "-v", "2", "-n", "1")
    element = charge["elements"][3]["id"]  # type: ignore[index]
    (item,) = cli.json("evidence", "add", "HT-1", str(exhibit), "-s", "phone", "-a", "Ada")  # type: ignore[misc]
    lead = cli.json(
        "lead",
        "add",
        "HT-1",
        "--summary",
        "ad payment",
        "--origin",
        "indicator:AD_PAY",
        "--evidence",
        str(item["id"]),
        "--locator",
        "line:1",
        "--element",
        str(element),
    )
    link = cli.json("lead", "accept", str(lead["id"]), "--author", "prosecutor.p")  # type: ignore[index]
    assert (link["lead_id"], link["accepted_by"]) == (lead["id"], "prosecutor.p")  # type: ignore[index]


@pytest.mark.parametrize(
    "args",
    [
        ("evidence", "add", "HT-1", "/nonexistent/file.txt", "-s", "x", "-a", "y"),
        ("party", "add", "NOPE", "-r", "victim", "-l", "V9"),
        ("charge", "add", "HT-1", "-o", "zz-unknown", "-d", "1", "-v", "2", "-n", "1"),
        ("charge", "add", "HT-1", "-o", OFFENCE, "-d", "1", "-v", "3", "-n", "1"),
        (
            "party",
            "add",
            "HT-1",
            "-r",
            "victim",
            "-l",
            "V-X",
            "--legal-name",
            "Qq Canary",
            "--date-of-birth",
            "x",
        ),
        ("party", "add", "HT-1", "-r", "victim", "-l", "V-X", "--date-of-birth", "2030-02-31"),
    ],
    ids=[
        "missing-file",
        "unknown-case",
        "unknown-offence",
        "tier-needs-age",
        "dob-not-a-date",
        "dob-impossible",
    ],
)
def test_bad_input_exits_2_and_stores_nothing(cli: Cli, args: tuple[str, ...]) -> None:
    assert cli("party", "add", "HT-1", "-r", "victim", "-l", "V-no-age")[0] == 0  # party 3, no age
    before = cli.json("case", "show", "HT-1")
    code, _, err = cli(*args)
    assert code == 2 and "error:" in err
    assert cli.json("case", "show", "HT-1") == before
    assert cli.json("charge", "list", "HT-1") == []


def test_link_to_another_cases_evidence_exits_2(cli: Cli, exhibit: Path) -> None:
    charge = cli.json("charge", "add", "HT-1", "-o", OFFENCE, "-d", "1", "-v", "2", "-n", "1")
    cli("case", "create", "OTHER", "--title", "other", "-j", "zz")
    (item,) = cli.json("evidence", "add", "OTHER", str(exhibit), "-s", "x", "-a", "y")  # type: ignore[misc]
    code, _, err = cli("proof", "link", str(charge["elements"][0]["id"]), str(item["id"]))  # type: ignore[index]
    assert code == 2 and "another case" in err
    assert cli.json("proof", "matrix", "HT-1")["gaps"][0]["status"] == "open"  # type: ignore[index]


def test_evidence_verify_exits_1_on_tampered_file(cli: Cli, exhibit: Path, tmp_path: Path) -> None:
    (item,) = cli.json("evidence", "add", "HT-1", str(exhibit), "-s", "x", "-a", "y")  # type: ignore[misc]
    stored = tmp_path / "ws" / "evidence" / item["sha256"][:2] / item["sha256"][2:4] / item["sha256"]
    stored.chmod(0o644)
    stored.write_bytes(stored.read_bytes().replace(b"9", b"8"))
    code, _, err = cli("evidence", "verify")
    assert code == 1 and "modified" in err


def test_custody_transfer_then_verify_exits_0(cli: Cli, exhibit: Path) -> None:
    (item,) = cli.json("evidence", "add", "HT-1", str(exhibit), "-s", "x", "-a", "Ada")  # type: ignore[misc]
    assert cli("evidence", "transfer", str(item["id"]), "--to", "Lab", "--purpose", "exam")[0] == 0
    assert cli("evidence", "custody", str(item["id"]), "--verify")[0] == 0
    assert len(cli.json("evidence", "custody", str(item["id"]))) == 2  # type: ignore[arg-type]


def test_identity_can_be_entered_at_a_hidden_prompt(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["Qqprompt Canaryname", "2008-01-01", "", ""])
    monkeypatch.setattr("typer.prompt", lambda *a, **k: next(answers))
    party = cli.json("party", "add", "HT-1", "-r", "victim", "-l", "V-P", "--ask-identity")
    assert party["has_identity"] and "Qqprompt" not in json.dumps(party)  # type: ignore[index]
