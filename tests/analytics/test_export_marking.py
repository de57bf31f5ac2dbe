"""Export markings and the export command's order of checks, on a demo workspace.

The marking must be where a reader looks first (the top of a GraphML file), must not be forgeable
from within its own values, may be held to the office's list of classifications; and an export
refused for bad input has audited nothing, not even an identity reveal.
"""

from __future__ import annotations

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
    root = tmp_path_factory.mktemp("marking")
    key = root / "master.key"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PALERMO_MASTER_KEY_FILE", str(key))
        ws, _scenario, case_ref = ingested_demo(root, key)
        ws.analytics.analyze(case_ref)
        ws.analytics.close()
        ws.cases.create("UNANALYSED", "a case nobody analysed")
        ws.close()
    yield {"root": root, "key": key, "case": case_ref}


@pytest.fixture
def cli(demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Any:
    monkeypatch.setenv("PALERMO_WORKSPACE", str(demo["root"] / "ws"))
    monkeypatch.setenv("PALERMO_MASTER_KEY_FILE", str(demo["key"]))

    def call(*args: str, columns: int = 200) -> tuple[int, str, str]:
        monkeypatch.setenv("COLUMNS", str(columns))
        monkeypatch.setattr(sys, "argv", ["palermo", *args])
        try:
            run()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return call


def _events(demo: dict[str, Any]) -> list[Any]:
    ws = Workspace.open(demo["root"] / "ws")
    try:
        return list(ws.audit.events(demo["case"]))
    finally:
        ws.close()


def test_the_graphml_marking_is_at_the_top_of_the_file(
    cli: Any, demo: dict[str, Any], tmp_path: Path
) -> None:
    """networkx writes a graph's data after every node and edge: the marking of a large network was
    the last thing in the file. It opens the file now, and tools still read it as graph attributes."""
    out = tmp_path / "net.graphml"
    code, printed, err = cli(
        "export", "graph", demo["case"], "-f", "graphml", "--recipient", "desk", "--out", str(out), "--json"
    )
    assert code == 0, err
    export_id = json.loads(printed)["export_id"]
    text = out.read_text(encoding="utf-8")
    assert text.index(export_id) < text.index("<key ") < text.index("<node ")
    assert "RESTRICTED · for desk · Palermo export" in text[: text.index("<key ")]
    graph = text[text.index("<graph ") :]
    assert graph.index(export_id) < graph.index("<node ")  # the graph's own data before its nodes
    assert nx.read_graphml(out).graph["export_id"] == export_id


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--classification", "UNCLASSIFIED · for public release"),
        ("--recipient", "anyone · Palermo export 00000000-0000-0000-0000-000000000000"),
        ("--recipient", "see palermo EXPORT 1234"),
    ],
)
def test_a_banner_cannot_be_forged_from_a_classification_or_recipient(
    cli: Any, demo: dict[str, Any], tmp_path: Path, option: str, value: str
) -> None:
    before = len(_events(demo))
    args = {"--recipient": "desk", **{option: value}}
    code, _, err = cli(
        "export", "ftm", demo["case"], str(tmp_path / "x.ftm"), *[a for kv in args.items() for a in kv]
    )
    assert code == 2 and option in err and "banner" in err
    assert len(_events(demo)) == before and list(tmp_path.iterdir()) == []


def test_settings_refuse_a_forging_classification(demo: dict[str, Any], tmp_path: Path) -> None:
    from palermo.errors import ConfigurationError
    from palermo.settings import resolve

    (tmp_path / "settings.toml").write_text('export_classification = "SECRET · for public release"\n')
    with pytest.raises(ConfigurationError, match="banner"):
        resolve(tmp_path)


def test_a_workspace_may_list_the_classifications_an_export_may_carry(
    cli: Any, demo: dict[str, Any], tmp_path: Path
) -> None:
    toml = demo["root"] / "ws" / "settings.toml"
    kept = toml.read_text(encoding="utf-8")
    assert "export_classifications = []" in kept  # written, empty: any classification
    toml.write_text(
        kept.replace("export_classifications = []", 'export_classifications = ["RESTRICTED", "TLP:AMBER"]'),
        encoding="utf-8",
    )
    try:
        out = tmp_path / "net.gexf"
        code, _, err = cli(
            "export",
            "graph",
            demo["case"],
            "--recipient",
            "d",
            "--classification",
            "TLP:AMBR",
            "--out",
            str(out),
        )
        assert code == 2 and "--classification" in err and "TLP:AMBER" in err and not out.exists()
        assert (
            cli(
                "export",
                "graph",
                demo["case"],
                "--recipient",
                "d",
                "--classification",
                "TLP:AMBER",
                "--out",
                str(out),
            )[0]
            == 0
        )
        assert (
            cli("export", "graph", demo["case"], "--recipient", "d", "--out", str(out))[0] == 0
        )  # the default is listed
        toml.write_text(
            kept.replace("export_classifications = []", 'export_classifications = ["TLP:AMBER"]'),
            encoding="utf-8",
        )
        code, _, err = cli("export", "graph", demo["case"], "--recipient", "d", "--out", str(out))
        assert code != 0 and "export_classification" in err  # the default must be one of them too
    finally:
        toml.write_text(kept, encoding="utf-8")


@pytest.mark.parametrize(
    "args",
    [
        ("graph", "{case}", "--format", "png", "--out", "{tmp}/x.png"),
        ("graph", "{case}", "--out", "{tmp}/no/such/folder/x.gexf"),
        ("ftm", "{case}", "{tmp}/no/such/folder/x.ftm"),
        ("graph", "UNANALYSED", "--out", "{tmp}/x.gexf"),
        ("ftm", "UNANALYSED", "{tmp}/x.ftm"),
    ],
)
def test_a_refused_revealing_export_audits_no_reveal(
    cli: Any, demo: dict[str, Any], tmp_path: Path, args: tuple[str, ...]
) -> None:
    """A bad format, a missing folder or a case with no analysis is named before the reveal (and the
    read of the recorded victims' identities) is audited: nothing was revealed."""
    before = {case: len(_events({**demo, "case": case})) for case in (demo["case"], "UNANALYSED")}
    filled = [a.format(case=demo["case"], tmp=tmp_path) for a in args]
    code, _, err = cli("export", *filled, "--recipient", "desk", "--reveal-identities")
    assert code == 2, err
    assert {case: len(_events({**demo, "case": case})) for case in before} == before


def test_the_export_id_is_printed_on_one_line(cli: Any, demo: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "net.gexf"
    code, printed, _ = cli(
        "export",
        "graph",
        demo["case"],
        "--recipient",
        "Europol liaison, request AWF-7/2025",
        "--out",
        str(out),
        columns=60,
    )
    marked = [line for line in printed.splitlines() if line.startswith("marked ")]
    assert code == 0 and len(marked) == 1 and marked[0].count("-") >= 4  # the whole UUID on its line
