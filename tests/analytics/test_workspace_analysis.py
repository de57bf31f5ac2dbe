"""The analysis through the front door (``ws.analytics``) and the CLI, on a real workspace.

A demo case (case store on SQLite, exhibits with custody) is built from a generated scenario and its
exhibits imported once per module; the tests check leads, idempotency and the commands.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from palermo.cli.main import run
from palermo.workspace import Workspace

from .conftest import ingested_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("ws")
    key = root / "master.key"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PALERMO_MASTER_KEY_FILE", str(key))
        ws, _scenario, case_ref = ingested_demo(root, key)
        analytics = ws.analytics
        first = analytics.analyze(case_ref)
        second = analytics.analyze(case_ref)
        leads = ws.leads.list(case_ref)
        # a workspace whose leads were recorded under the hit ids of before ids were keyed
        con = analytics.connect()
        for hit in first.indicator_hits:
            legacy = (
                "hit:"
                + hashlib.sha1(f"{case_ref}|{hit.indicator_id}|{hit.subject}".encode()).hexdigest()[:12]
            )
            con.execute("UPDATE indicator_leads SET hit_id = ? WHERE hit_id = ?", [legacy, hit.hit_id])
        third = analytics.analyze(case_ref)
        led = {r[0] for r in con.execute("SELECT hit_id FROM indicator_leads").fetchall()}
        analytics.close()
        ws.close()
    yield {
        "root": root,
        "key": key,
        "case": case_ref,
        "first": first,
        "second": second,
        "third": third,
        "led": led,
        "leads": leads,
    }


def test_indicator_hits_become_leads(demo: dict[str, Any]) -> None:
    origins = {lead.origin for lead in demo["leads"]}
    assert {f"indicator:{h.indicator_id}" for h in demo["first"].indicator_hits} <= origins


def test_rerunning_the_analysis_creates_no_duplicate_leads(demo: dict[str, Any]) -> None:
    assert demo["second"].summary["leads_created"] == 0


def test_leads_recorded_under_unkeyed_hit_ids_are_not_proposed_again(demo: dict[str, Any]) -> None:
    assert demo["third"].summary["leads_created"] == 0
    assert demo["led"] == {h.hit_id for h in demo["first"].indicator_hits}


def test_each_lead_points_at_an_exhibit_and_a_row(demo: dict[str, Any]) -> None:
    indicator_leads = [lead for lead in demo["leads"] if lead.origin.startswith("indicator:")]
    assert indicator_leads and all(lead.evidence_id and lead.locator for lead in indicator_leads)


def test_leads_are_proposals_awaiting_review(demo: dict[str, Any]) -> None:
    assert {lead.status for lead in demo["leads"] if lead.origin.startswith("indicator:")} == {"proposed"}


class Cli:
    def __init__(self, demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
        self.capsys, self.monkeypatch = capsys, monkeypatch
        monkeypatch.setenv("PALERMO_WORKSPACE", str(demo["root"] / "ws"))
        monkeypatch.setenv("PALERMO_MASTER_KEY_FILE", str(demo["key"]))
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
def cli(demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Cli:
    return Cli(demo, monkeypatch, capsys)


def test_cli_analyze_json_lists_key_players(cli: Cli, demo: dict[str, Any]) -> None:
    code, out, _ = cli("analyze", demo["case"], "--json", "--top", "3")
    assert code == 0 and len(json.loads(out)["key_players"]) == 3


def test_cli_analyze_prints_key_players_for_people(cli: Cli, demo: dict[str, Any]) -> None:
    code, out, _ = cli("analyze", demo["case"])
    assert code == 0 and "Key players" in out and "suspected controller" in out


def test_cli_explain_shows_locators_of_an_edge(cli: Cli, demo: dict[str, Any]) -> None:
    edges = json.loads(cli("analyze", demo["case"], "--json")[1])["summary"]["edges"]
    assert edges > 0
    hit = demo["first"].indicator_hits[0]
    code, out, _ = cli("analyze", demo["case"], "--explain", hit.hit_id, "--json")
    assert code == 0 and json.loads(out)["statements"][0]["locator"]


def test_cli_explain_unknown_id_exits_2(cli: Cli, demo: dict[str, Any]) -> None:
    code, _, err = cli("analyze", demo["case"], "--explain", "e:000000000000")
    assert code == 2 and "e:000000000000" in err


def test_cli_analyze_unknown_case_exits_2(cli: Cli) -> None:
    assert cli("analyze", "NO-SUCH-CASE")[0] == 2


def test_cli_export_graphml_is_readable(cli: Cli, demo: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "net.graphml"
    assert (
        cli(
            "export",
            "graph",
            demo["case"],
            "--recipient",
            "test desk",
            "--format",
            "graphml",
            "--out",
            str(out),
        )[0]
        == 0
    )
    assert nx.read_graphml(out).number_of_edges() > 0


def test_cli_export_gexf_is_readable(cli: Cli, demo: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "net.gexf"
    assert (
        cli(
            "export", "graph", demo["case"], "--recipient", "test desk", "--format", "gexf", "--out", str(out)
        )[0]
        == 0
    )
    assert nx.read_gexf(out).number_of_nodes() > 0


def test_cli_export_ftm_writes_entities_and_links(cli: Cli, demo: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "net.ftm.json"
    assert (
        cli(
            "export", "graph", demo["case"], "--recipient", "test desk", "--format", "ftm", "--out", str(out)
        )[0]
        == 0
    )
    schemata = {json.loads(line)["schema"] for line in out.read_text(encoding="utf-8").splitlines()}
    assert {"LegalEntity", "Payment", "Call"} <= schemata


def test_cli_export_ftm_stream_keeps_row_provenance_on_every_entity(
    cli: Cli, demo: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "case.ftm.json"
    assert cli("export", "ftm", demo["case"], "--recipient", "test desk", str(out))[0] == 0
    entities = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    people = [e for e in entities if e["schema"] == "Person"]
    assert people, "contacts from the phone extractions become Person entities"
    assert all(any("evidence:" in n for n in p["properties"].get("notes", [])) for p in people)


def test_graph_export_redacts_possible_victims_by_default(
    cli: Cli, demo: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "net.graphml"
    assert (
        cli(
            "export",
            "graph",
            demo["case"],
            "--recipient",
            "test desk",
            "--format",
            "graphml",
            "--out",
            str(out),
        )[0]
        == 0
    )
    victims = [a for _, a in nx.read_graphml(out).nodes(data=True) if a.get("role") == "possible_victim"]
    assert victims and all(not a.get("phones") and "redacted" in a["label"] for a in victims)


def test_cli_export_unknown_format_exits_2(cli: Cli, demo: dict[str, Any], tmp_path: Path) -> None:
    assert (
        cli(
            "export",
            "graph",
            demo["case"],
            "--recipient",
            "test desk",
            "--format",
            "png",
            "--out",
            str(tmp_path / "x"),
        )[0]
        == 2
    )


def test_network_is_cytoscape_ready(demo: dict[str, Any]) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PALERMO_MASTER_KEY_FILE", str(demo["key"]))
        ws = Workspace.open(demo["root"] / "ws")
        analytics = ws.analytics
        try:
            net = analytics.network(demo["case"], {"ring_only": True})
        finally:
            analytics.close()
            ws.close()
    ids = {n["data"]["id"] for n in net["nodes"]}
    assert net["nodes"] and all(n["data"]["ring"] for n in net["nodes"])
    assert all(e["data"]["source"] in ids and e["data"]["target"] in ids for e in net["edges"])


def test_every_export_is_audited_with_its_digest_and_private(
    cli: Cli, demo: dict[str, Any], tmp_path: Path
) -> None:
    """An export leaves the protected system: who wrote which file is in the case's audit trail, with
    a digest that tells a leaked copy apart from any other, and the file is its owner's alone."""
    import hashlib
    import stat

    from palermo.workspace import Workspace

    for command, out in (("graph", tmp_path / "net.gexf"), ("ftm", tmp_path / "case.json")):
        args = ("--out", str(out)) if command == "graph" else (str(out),)
        assert cli("export", command, demo["case"], "--recipient", "test desk", *args)[0] == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        ws = Workspace.open(demo["root"] / "ws")
        try:
            event = [e for e in ws.audit.events(demo["case"]) if e.action == f"export.{command}"][-1]
        finally:
            ws.close()
        assert event.detail["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
        assert event.detail["file"] == out.name and event.detail["items"] > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.json", "net.gexf"]  # no temporary left


def _marking(demo: dict[str, Any]) -> Any:
    from palermo.ingest.marking import ExportMarking

    return ExportMarking("RESTRICTED", "test handling", "test desk", demo["case"], "gexf")


def test_an_export_whose_audit_record_fails_leaves_no_file(demo: dict[str, Any], tmp_path: Path) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from palermo.cli.export import audited_export
    from palermo.workspace import Workspace

    out = tmp_path / "net.gexf"
    marking = _marking(demo)
    ws = Workspace.open(demo["root"] / "ws")
    try:
        with ws.ctx.db.transaction() as session:  # the audit sink breaks (fault injection)
            session.execute(text("ALTER TABLE audit_events RENAME TO audit_events_gone"))
        try:
            with (
                pytest.raises(DBAPIError),
                audited_export(ws, demo["case"], "graph", out, {}, marking) as temp,
            ):
                temp.write_text(f"<gexf>{marking.export_id}</gexf>", encoding="utf-8")
        finally:
            with ws.ctx.db.transaction() as session:
                session.execute(text("ALTER TABLE audit_events_gone RENAME TO audit_events"))
    finally:
        ws.close()
    assert list(tmp_path.iterdir()) == []


def test_an_export_is_private_while_written_and_keeps_the_name_it_was_given(
    cli: Cli, demo: dict[str, Any], tmp_path: Path
) -> None:
    """Owner-only from the first byte (not after a chmod), compressed when the name asks for it, written
    through a link the analyst made, and refused, with nothing recorded, when the target is a folder."""
    import gzip
    import stat

    from palermo.cli.export import audited_export
    from palermo.workspace import Workspace

    ws = Workspace.open(demo["root"] / "ws")
    marking = _marking(demo)
    try:
        with audited_export(ws, demo["case"], "graph", tmp_path / "net.gexf", {}, marking) as temp:
            assert stat.S_IMODE(temp.stat().st_mode) == 0o600 and temp.name.startswith(".net.gexf.")
            temp.write_text(f"<gexf>{marking.export_id}</gexf>", encoding="utf-8")
        before = len(ws.audit.events(demo["case"]))
    finally:
        ws.close()
    packed = tmp_path / "net.graphml.gz"
    assert (
        cli(
            "export", "graph", demo["case"], "--recipient", "test desk", "-f", "graphml", "--out", str(packed)
        )[0]
        == 0
    )
    assert gzip.decompress(packed.read_bytes()).startswith(b"<?xml")
    (tmp_path / "kept").mkdir()
    link = tmp_path / "latest.gexf"
    link.symlink_to(tmp_path / "kept" / "net.gexf")
    assert cli("export", "graph", demo["case"], "--recipient", "test desk", "--out", str(link))[0] == 0
    assert link.is_symlink() and (tmp_path / "kept" / "net.gexf").stat().st_size > 0
    code, _, err = cli("export", "ftm", demo["case"], "--recipient", "test desk", str(tmp_path / "kept"))
    assert code == 2 and "not a regular file" in err
    ws = Workspace.open(demo["root"] / "ws")
    try:
        exports = [e for e in ws.audit.events(demo["case"])[before:] if e.action.startswith("export.")]
    finally:
        ws.close()
    assert [e.detail["file"] for e in exports] == ["net.graphml.gz", "net.gexf"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept", "latest.gexf", "net.gexf", "net.graphml.gz"]


def _export(cli: Cli, demo: dict[str, Any], fmt: str, out: Path, *extra: str) -> dict[str, Any]:
    args = (
        ("ftm", demo["case"], str(out))
        if fmt == "stream"
        else ("graph", demo["case"], "-f", fmt, "--out", str(out))
    )
    code, printed, err = cli("export", *args, *extra, "--json")
    assert code == 0, err
    return dict(json.loads(printed))


def _marking_in(fmt: str, out: Path) -> dict[str, Any]:
    """The marking as a reader of each format finds it."""
    if fmt == "gexf":
        from xml.etree import ElementTree

        meta = ElementTree.parse(out).getroot().find("{http://www.gexf.net/1.2draft}meta")
        assert meta is not None
        found = json.loads(meta.findtext("{http://www.gexf.net/1.2draft}description") or "")
        assert meta.findtext("{http://www.gexf.net/1.2draft}keywords") == found["classification"]
        return dict(found)
    if fmt == "graphml":
        graph = nx.read_graphml(out).graph
        return {
            k: graph[k] for k in ("marking", "classification", "handling", "recipient", "export_id", "case")
        }
    from followthemoney import model

    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    note = model.get_proxy(first)  # a valid FtM entity, as Aleph will read it
    assert note.schema.name == "Note" and note.id and note.id.startswith("palermo-marking-")
    assert "TLP:AMBER+STRICT" in note.get("keywords") and "Europol liaison [AWF-7]" in note.caption
    return dict(json.loads(note.first("summary") or ""))


@pytest.mark.parametrize("fmt", ["gexf", "graphml", "ftm", "stream"])
def test_every_export_is_marked_with_classification_recipient_and_its_own_id(
    cli: Cli, demo: dict[str, Any], tmp_path: Path, fmt: str
) -> None:
    """MP-03: a copy found anywhere says, by machine, how it is to be handled and whom it was given to,
    and its export id (in the audit trail with the digest) tells it apart from every other export."""
    out = tmp_path / f"case.{fmt}"
    said = _export(
        cli, demo, fmt, out, "--recipient", "Europol liaison [AWF-7]", "--classification", "TLP:AMBER+STRICT"
    )
    marked = _marking_in(fmt, out)
    assert marked["marking"] == "palermo-export-marking/1" and marked["case"] == demo["case"]
    assert marked["recipient"] == said["recipient"] == "Europol liaison [AWF-7]"
    assert marked["classification"] == "TLP:AMBER+STRICT" and "victims" in marked["handling"]
    assert marked["export_id"] == said["export_id"]
    ws = Workspace.open(demo["root"] / "ws")
    try:
        event = [e for e in ws.audit.events(demo["case"]) if e.action.startswith("export.")][-1]
    finally:
        ws.close()
    assert (
        event.detail["export_id"] == said["export_id"]
        and event.detail["recipient"] == "Europol liaison [AWF-7]"
    )
    assert event.detail["classification"] == "TLP:AMBER+STRICT"
    again = _export(cli, demo, fmt, tmp_path / f"again.{fmt}", "--recipient", "Europol liaison [AWF-7]")
    assert again["export_id"] != said["export_id"] and again["classification"] == "RESTRICTED"


def test_the_ftm_marking_is_not_counted_and_the_stream_still_reads(
    cli: Cli, demo: dict[str, Any], tmp_path: Path
) -> None:
    from followthemoney import model

    out = tmp_path / "case.ftm.json"
    said = _export(cli, demo, "stream", out, "--recipient", "test desk")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == said["entities"] + 1
    assert sum(model.get_proxy(json.loads(line)).schema.name == "Note" for line in lines) == 1


@pytest.mark.parametrize("command", ["graph", "ftm"])
def test_an_export_naming_no_recipient_is_refused_before_anything_is_recorded(
    cli: Cli, demo: dict[str, Any], tmp_path: Path, command: str
) -> None:
    ws = Workspace.open(demo["root"] / "ws")
    try:
        before = len(ws.audit.events(demo["case"]))
    finally:
        ws.close()
    out = str(tmp_path / "x.gexf")
    for extra in ((), ("--recipient", "  "), ("--recipient", "desk\nsecond line")):
        args = ("--out", out) if command == "graph" else (out,)
        code, _, err = cli("export", command, demo["case"], *args, "--reveal-identities", *extra)
        assert code == 2 and "--recipient" in err
    code, _, err = cli("export", command, demo["case"], *args, "--recipient", "desk", "--classification", "")
    assert code == 2 and "--classification" in err
    ws = Workspace.open(demo["root"] / "ws")
    try:
        assert len(ws.audit.events(demo["case"])) == before  # not even the reveal
    finally:
        ws.close()
    assert list(tmp_path.iterdir()) == []


def test_a_workspace_sets_the_default_classification_and_may_allow_unaddressed_exports(
    cli: Cli, demo: dict[str, Any], tmp_path: Path
) -> None:
    toml = demo["root"] / "ws" / "settings.toml"
    kept = toml.read_text(encoding="utf-8")
    changed = kept.replace("require_export_recipient = true", "require_export_recipient = false")
    assert changed != kept
    changed = changed.replace(
        'export_classification = "RESTRICTED"', 'export_classification = "OFFICIAL-SENSITIVE"'
    )
    toml.write_text(changed, encoding="utf-8")
    try:
        out = tmp_path / "net.graphml"
        said = _export(cli, demo, "graphml", out)
        code, printed, _ = cli("export", "graph", demo["case"], "--out", str(tmp_path / "net.gexf"))
    finally:
        toml.write_text(kept, encoding="utf-8")
    graph = nx.read_graphml(out).graph
    assert (
        said["recipient"] is None
        and graph["recipient"] == ""
        and graph["classification"] == "OFFICIAL-SENSITIVE"
    )
    assert code == 0 and "OFFICIAL-SENSITIVE · for no named recipient · Palermo export" in printed


def test_a_file_written_without_its_marking_is_not_exported(demo: dict[str, Any], tmp_path: Path) -> None:
    """The one door every export goes through checks the file carries its export id: an exporter
    that forgot the marking fails here, with nothing recorded and no file."""
    import gzip

    from palermo.cli.export import audited_export
    from palermo.errors import DomainError

    marking = _marking(demo)
    ws = Workspace.open(demo["root"] / "ws")
    try:
        before = len(ws.audit.events(demo["case"]))
        for name in ("net.gexf", "net.gexf.gz"):
            with (
                pytest.raises(DomainError, match="marking"),
                audited_export(ws, demo["case"], "graph", tmp_path / name, {}, marking) as temp,
            ):
                temp.write_bytes(gzip.compress(b"<gexf/>") if name.endswith(".gz") else b"<gexf/>")
        with audited_export(ws, demo["case"], "graph", tmp_path / "ok.gexf.gz", {}, marking) as temp:
            temp.write_bytes(gzip.compress(f"<gexf>{marking.export_id}</gexf>".encode()))
        assert len(ws.audit.events(demo["case"])) == before + 1
    finally:
        ws.close()
    assert [p.name for p in tmp_path.iterdir()] == ["ok.gexf.gz"]


def test_the_ftm_stream_carries_the_cases_messages_and_ads_with_their_rows(
    cli: Cli, demo: dict[str, Any], tmp_path: Path
) -> None:
    """Messages from the phone extractions become FtM Messages (sender and recipient entities) and ads
    Articles, each pointing at its exhibit row (redaction: tests/analytics/test_redaction.py)."""
    import duckdb

    out = tmp_path / "case.ftm.json"
    _export(cli, demo, "stream", out, "--recipient", "test desk")
    entities = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    ids = {e["id"] for e in entities}
    messages = [e for e in entities if e["schema"] == "Message"]
    ads = [e for e in entities if e["schema"] == "Article"]
    con = duckdb.connect(str(demo["root"] / "ws" / "analytics.duckdb"), read_only=True)
    try:
        counts = [
            con.execute(f"SELECT count(*) FROM {t} WHERE case_ref = ?", [demo["case"]]).fetchone()[0]
            for t in ("messages", "ads")
        ]
    finally:
        con.close()
    assert counts[0] > 0 and counts[1] > 0 and [len(messages), len(ads)] == counts
    assert all(e["properties"]["recordId"][0].startswith("evidence:") for e in messages)
    assert all(set(e["properties"]["sender"]) <= ids for e in messages if "sender" in e["properties"])
    assert all(any(n.startswith("recordId evidence:") for n in e["properties"]["notes"]) for e in ads)
