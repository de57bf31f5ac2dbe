"""Export the case network: GEXF and GraphML for Gephi/yEd/Cytoscape, FtM JSON lines for Aleph.

Every node and edge carries its id, so a picture built in another tool can be explained back in
Palermo (``palermo analyze CASE --explain ID``). Edge attributes include how many statements stand
behind each link and the first/last time; the FtM export turns resolved entities into
``LegalEntity`` (plus ``BankAccount``) and links into ``Payment``, ``Call`` or ``UnknownLink``.

Exports leave the protected system, so by default only the entities the analysis suspects are named
(:mod:`palermo.analytics.redaction`): everyone else is written under a pseudonym, without phones,
e-mails or accounts, and free text (edge summaries) is scrubbed of their identifiers. A file lost from
an analyst's laptop must not locate a victim. ``redact_victims=False`` (an audited
``--reveal-identities`` on the command line) names unsuspected people too; possible victims, and
entities sharing a possible victim's name, stay pseudonymous even then.

Every file carries its marking (classification, caveat, recipient, export id;
:mod:`palermo.ingest.marking`) where its format keeps such things: GEXF ``<meta>``, GraphML a
``<desc>`` at the top and graph attributes, the first line of an FtM stream.
"""

from __future__ import annotations

import bz2
import gzip
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, SubElement

import networkx as nx
from followthemoney import model
from networkx.readwrite.gexf import GEXFWriter
from networkx.readwrite.graphml import GraphMLWriter

from palermo.analytics.redaction import Redaction
from palermo.analytics.tables import create_analysis_tables
from palermo.errors import InputError, NotFoundError
from palermo.ingest.marking import ExportMarking

FORMATS = ("gexf", "graphml", "ftm")


REDACTED = "(redacted)"


def _stand_in(rules: Redaction, entity_id: str) -> str:
    return f"{rules.label(entity_id, '')} {REDACTED}"


def to_networkx(
    con: Any, case_ref: str, *, redact_victims: bool = True, protected: Iterable[str] = ()
) -> nx.MultiDiGraph:
    """The resolved network with metrics and roles as node attributes (``None`` becomes "")."""
    rules = Redaction.from_connection(con, case_ref, reveal=not redact_victims, protected=protected)
    graph = nx.MultiDiGraph(case=case_ref)
    for eid, label, phones, emails, accounts, community, pagerank, betweenness, role in con.execute(
        """SELECT e.entity_id, e.label, e.phones, e.emails, e.accounts, m.community, m.pagerank,
                  m.betweenness, r.role
           FROM entities e LEFT JOIN node_metrics m ON m.case_ref = e.case_ref AND m.entity_id = e.entity_id
           LEFT JOIN entity_roles r ON r.case_ref = e.case_ref AND r.entity_id = e.entity_id
           WHERE e.case_ref = ? AND m.entity_id IS NOT NULL""",
        [case_ref],
    ).fetchall():
        if rules.masked(eid):
            label, phones, emails, accounts = _stand_in(rules, eid), [], [], []
        else:  # a suspect's entity can carry a victim's account or name (a payment named her)
            label = (
                rules.label(eid, str(label))
                if rules.mask_value(str(label)) is None
                else _stand_in(rules, eid)
            )
            phones, emails, accounts = (
                rules.shown(phones or ()),
                rules.shown(emails or ()),
                rules.shown(accounts or ()),
            )
        graph.add_node(
            eid,
            label=str(label),
            phones=";".join(phones),
            emails=";".join(emails),
            accounts=";".join(accounts),
            community=int(community or 0),
            pagerank=float(pagerank or 0.0),
            betweenness=float(betweenness or 0.0),
            role=role or "",
        )
    for edge_id, kind, src, dst, weight, n, amount, first, last in con.execute(
        "SELECT edge_id, kind, src, dst, weight, n, amount, first_ts, last_ts FROM edges WHERE case_ref = ?",
        [case_ref],
    ).fetchall():
        graph.add_edge(
            src,
            dst,
            key=edge_id,
            id=edge_id,
            kind=kind,
            weight=float(weight),
            statements=int(n),
            amount=float(amount or 0.0),
            first_ts=first.isoformat() if first else "",
            last_ts=last.isoformat() if last else "",
        )
    return graph


def require_analysis(con: Any, case_ref: str) -> None:
    """Refuse to export a case with no analysis (never run, or cleared by ``ingest forget``): the
    redaction rule would know nobody, and could not tell a victim's number from a suspect's."""
    create_analysis_tables(con)
    if con.execute("SELECT count(*) FROM entities WHERE case_ref = ?", [case_ref]).fetchone()[0] == 0:
        hint = f"run `palermo analyze {case_ref}` first"
        raise NotFoundError(f"no analysis of case {case_ref} to export: {hint}", location="case")


def export_graph(
    con: Any,
    case_ref: str,
    fmt: str,
    out: Path | str,
    *,
    redact_victims: bool = True,
    protected: Iterable[str] = (),
    marking: ExportMarking | None = None,
) -> int:
    """Write the network in ``fmt`` to ``out``; return the number of nodes plus edges written.

    ``protected``: the recorded victims' names and contacts, never written whatever the analysis says.
    ``marking``: the classification, caveat and watermark written where each format keeps them
    (:mod:`palermo.ingest.marking`; the command line always gives one).
    """
    path = Path(out)
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}", location="--format")
    require_analysis(con, case_ref)
    guarded = list(protected)
    if fmt == "ftm":
        return _write_ftm(con, case_ref, path, redact_victims, guarded, marking)
    graph = to_networkx(con, case_ref, redact_victims=redact_victims, protected=guarded)
    if fmt == "gexf":
        _write_gexf(graph, path, marking)
    else:
        _write_graphml(graph, path, marking)
    return int(graph.number_of_nodes() + graph.number_of_edges())


def _write_gexf(graph: nx.MultiDiGraph, path: Path, marking: ExportMarking | None) -> None:
    """GEXF through networkx's writer, with the marking in ``<meta>`` (GEXF keeps no graph attributes):
    ``<creator>``, ``<keywords>`` the classification, ``<description>`` the fields as JSON."""
    writer = GEXFWriter(encoding="utf-8", prettyprint=True)
    meta = writer.xml.find("meta")
    if marking is not None and meta is not None:
        creator = meta.find("creator")
        if creator is not None:
            creator.text = f"Palermo ({creator.text})"
        SubElement(meta, "keywords").text = marking.classification
        SubElement(meta, "description").text = marking.to_json()
    writer.add_graph(graph)
    _write_xml(writer.write, path)


def _write_graphml(graph: nx.MultiDiGraph, path: Path, marking: ExportMarking | None) -> None:
    """GraphML through networkx's writer, with the marking at the top and as graph attributes.

    networkx writes a graph's ``<data>`` after its nodes and edges, so the marking of a large network
    was at the end of the file, where a reader who opens it never looks. It comes first now: a
    ``<desc>`` opening ``<graphml>`` (the banner and the fields as JSON: GraphML's place for a
    human-readable description) and the graph's ``<data>`` before its first node (the schema lets
    data come anywhere among them); the keys stay, so tools still read the fields as attributes."""
    if marking is not None:
        graph.graph.update(marking.graph_attributes())
    writer = GraphMLWriter(encoding="utf-8", prettyprint=True)
    writer.add_graph_element(graph)
    if marking is not None:
        desc = Element("desc")
        desc.text = f"{marking.banner}. {marking.handling} {marking.to_json()}"
        writer.xml.insert(0, desc)
        for element in writer.xml.iter("graph"):
            fields = [child for child in element if child.tag == "data"]
            for child in fields:
                element.remove(child)
            for index, child in enumerate(fields):
                element.insert(index, child)
    _write_xml(writer.dump, path)


def _write_xml(write: Callable[[Any], None], path: Path) -> None:
    """A writer's output to ``path``, compressed when the name ends ``.gz`` or ``.bz2`` (as networkx does)."""
    opener: Any = gzip.open if path.name.endswith(".gz") else bz2.open if path.name.endswith(".bz2") else open
    with opener(path, "wb") as fh:
        write(fh)


def _write_ftm(
    con: Any,
    case_ref: str,
    path: Path,
    redact_victims: bool,
    protected: list[str],
    marking: ExportMarking | None,
) -> int:
    rules = Redaction.from_connection(con, case_ref, reveal=not redact_victims, protected=protected)
    written = 0
    with path.open("w", encoding="utf-8") as fh:
        if marking is not None:  # the first line, not counted among the network's items
            fh.write(json.dumps(marking.ftm_entity(), ensure_ascii=False) + "\n")
        for eid, label, names, phones, emails, accounts in con.execute(
            "SELECT entity_id, label, names, phones, emails, accounts FROM entities WHERE case_ref = ?",
            [case_ref],
        ).fetchall():
            if rules.masked(eid):
                label, names, phones, emails, accounts = _stand_in(rules, eid), [], [], [], []
            else:
                if rules.mask_value(str(label)) is not None:
                    label = _stand_in(rules, eid)
                names, phones = rules.shown(names or ()), rules.shown(phones or ())
                emails, accounts = rules.shown(emails or ()), rules.shown(accounts or ())
            entity = model.make_entity("LegalEntity")
            entity.id = _ftm_id(case_ref, eid)
            entity.add("name", label)
            entity.add("alias", [n for n in names if n != label])
            entity.add("phone", phones, cleaned=True)  # synthetic/reserved numbers fail FtM's validation
            entity.add("email", emails, cleaned=True)
            entity.add("notes", f"palermo {eid}")
            fh.write(json.dumps(entity.to_dict(), ensure_ascii=False) + "\n")
            written += 1
            for number in accounts:
                account = model.make_entity("BankAccount")
                account.make_id(case_ref, "account", number)
                account.add("accountNumber", number)
                account.add("iban", number, cleaned=True)
                link = model.make_entity("UnknownLink")
                link.make_id(case_ref, "holder", eid, number)
                link.add("subject", entity.id)
                link.add("object", account.id)
                link.add("role", "account holder")
                for item in (account, link):
                    fh.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
                    written += 1
        for edge_id, kind, src, dst, n, amount, first, last in con.execute(
            "SELECT edge_id, kind, src, dst, n, amount, first_ts, last_ts FROM edges WHERE case_ref = ?",
            [case_ref],
        ).fetchall():
            fh.write(json.dumps(_ftm_edge(case_ref, edge_id, kind, src, dst, n, amount, first, last)) + "\n")
            written += 1
    return written


def _ftm_edge(
    case_ref: str, edge_id: str, kind: str, src: str, dst: str, n: int, amount: Any, first: Any, last: Any
) -> dict[str, Any]:
    if kind == "payment":
        proxy = model.make_entity("Payment")
        proxy.add("payer", _ftm_id(case_ref, src))
        proxy.add("beneficiary", _ftm_id(case_ref, dst))
        proxy.add("amount", str(amount) if amount is not None else None)
    elif kind == "call":
        proxy = model.make_entity("Call")
        proxy.add("caller", _ftm_id(case_ref, src))
        proxy.add("receiver", _ftm_id(case_ref, dst))
    else:
        proxy = model.make_entity("UnknownLink")
        proxy.add("subject", _ftm_id(case_ref, src))
        proxy.add("object", _ftm_id(case_ref, dst))
        proxy.add("role", kind)
    proxy.make_id(case_ref, edge_id)
    proxy.add("summary", f"{n} statement(s); palermo {edge_id}")
    proxy.add("startDate", first.isoformat() if first else None)
    proxy.add("endDate", last.isoformat() if last else None)
    return proxy.to_dict()


def _ftm_id(case_ref: str, entity_id: str) -> str:
    """FtM ids are case-scoped so two cases exported into one Aleph collection cannot collide."""
    return f"{case_ref}-{entity_id.replace(':', '-')}"
