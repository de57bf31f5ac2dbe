"""The yardstick: the same pipeline written the way an analyst would in a notebook, pandas + networkx.

Issue 4 asks Palermo to be at least 10x faster than this, so it must do the *same work* as
``palermo.analytics.analysis`` and do it fairly, not as a straw man: phone numbers are normalised
once per *distinct* raw string (not per row), groupbys and joins are vectorised, and the only
Python loops are where pandas has no vectorised form (fuzzy name matching, tokenising distinct
names, collecting the list of statements behind each edge). Steps, mirroring Palermo's:

1. **load**: bank CSVs, the CDR, the ads and the phone extractions with pandas / json; phones to
   E.164, accounts upper case without separators, e-mails lower case; every row keeps a reference
   ``file:line:N`` (or ``file:json:$.messages[i]``), the provenance Palermo stores as statements;
2. **resolve**: identifiers, names beside them (bank holders, contact names; nicknames scoped to
   their device or account; names beside more than six identifiers dropped as generic), phone<->e-mail
   pairs from ads that only ever appear together, and spelling variants of full names matched with
   ``recordlinkage`` + a Fellegi-Sunter score (``benchmarks.baseline_names``); networkx connected
   components give the entities;
3. **edges**: payment, call, message, contact, shared-image and co-location edges between entities,
   aggregated per (kind, source, target) with weight, count, amount, first/last time and the list
   of source rows behind each edge;
4. **metrics**: networkx PageRank (weighted, undirected as Palermo), betweenness sampled from
   ``SAMPLE_SOURCES`` seeded sources, Louvain communities (networkx has no Leiden), brokerage and
   inner circle in pandas;
5. **indicators**: the 19 catalogue rules in pandas, each hit with its source rows
   (``benchmarks.baseline_rules``);
6. **roles** and **key players**: the same rules as ``roles.py`` / ``keyplayers.py``.

Leads are not produced: they need Palermo's case store.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import networkx as nx
import numpy as np
import pandas as pd
import phonenumbers

from benchmarks.baseline_names import match_names, name_key
from benchmarks.baseline_rules import indicators, key_players, kind_map, roles_and_features
from palermo.analytics.graph import KIND_WEIGHT, MAX_BUCKET
from palermo.analytics.metrics import INNER_CIRCLE, SAMPLE_SOURCES
from palermo.analytics.resolve import MAX_IDS_PER_NAME

T = TypeVar("T")
_ACCOUNT_JUNK = r"[\s./-]"
_REPEATING = ("shared_image", "co_location")


def _phone_map(values: Iterable[Any], region: str = "US") -> dict[str, str]:
    """Raw phone string -> E.164, computed once per distinct raw string."""
    out: dict[str, str] = {}
    for raw in set(values):
        if not isinstance(raw, str) or not raw.strip():
            continue
        text = raw.strip()
        if text.startswith("00"):
            text = "+" + text[2:]
        try:
            number = phonenumbers.parse(text, None if text.startswith("+") else region)
            if phonenumbers.is_possible_number(number):
                out[raw] = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                continue
        except phonenumbers.NumberParseException:
            pass
        digits = re.sub(r"\D", "", text)
        if digits:
            out[raw] = ("+" + digits) if text.startswith("+") else digits
    return out


def _norm_phone(series: pd.Series) -> pd.Series:
    return series.map(_phone_map(series.dropna().unique()))


def _account(series: pd.Series) -> pd.Series:
    return series.fillna("").str.replace(_ACCOUNT_JUNK, "", regex=True).str.upper().replace("", None)


def _text(series: pd.Series) -> pd.Series:
    """Trimmed text, empty -> None (names beside identifiers)."""
    return series.fillna("").str.strip().replace("", None)


def _refs(name: str, n: int, first: int) -> pd.Series:
    """``file:line:N`` for each row: the provenance kept with every row."""
    return name + ":line:" + pd.Series(np.arange(first, first + n)).astype(str)


# ----------------------------------------------------------------------------------------------- load


def load(sources: list[tuple[Path, str]]) -> dict[str, pd.DataFrame]:
    """Read every source file into payments, calls, messages, contacts, owners and ads frames."""
    banks = []
    for p, a in sources:
        if a == "bank_csv":
            f = pd.read_csv(p, dtype=str, keep_default_na=False)
            f["ref"] = _refs(p.name, len(f), 2).to_numpy()
            banks.append(f)
    b = pd.concat(banks, ignore_index=True)
    debit = b["direction"].str.strip().str.lower() == "debit"
    payments = pd.DataFrame(
        {
            "ts": pd.to_datetime(b["date"] + "T" + b["time"]),
            "from_account": _account(b["account_iban"].where(debit, b["counterparty_iban"])),
            "from_name": _text(b["account_holder"].where(debit, b["counterparty_name"])),
            "to_account": _account(b["counterparty_iban"].where(debit, b["account_iban"])),
            "to_name": _text(b["counterparty_name"].where(debit, b["account_holder"])),
            "amount": b["amount"].astype(float).abs(),
            "channel": b["channel"].str.strip().str.lower(),
            "city": b["city"].replace("", None),
            "description": b["description"],
            "ref": b["ref"],
        }
    )
    cdrs = []
    for p, a in sources:
        if a == "cdr_csv":
            f = pd.read_csv(p, dtype=str)
            f["ref"] = _refs(p.name, len(f), 2).to_numpy()
            cdrs.append(f)
    cdr = pd.concat(cdrs, ignore_index=True)
    calls = pd.DataFrame(
        {
            "ts": pd.to_datetime(cdr["start_time"]),
            "a": _norm_phone(cdr["caller"]),
            "b": _norm_phone(cdr["callee"]),
            "cell_id": cdr["cell_id"],
            "city": cdr["cell_city"],
            "ref": cdr["ref"],
        }
    )
    ad_frames = []
    for p, a in sources:
        if a == "ads_jsonl":
            f = pd.read_json(p, lines=True, dtype=False)
            f["ref"] = _refs(p.name, len(f), 1).to_numpy()
            ad_frames.append(f)
    ads = pd.concat(ad_frames, ignore_index=True)
    ads["phone"] = _norm_phone(ads["phone"])
    ads["email"] = ads["email"].str.strip().str.lower().replace("", None)
    ads["ts"] = pd.to_datetime(ads["posted_at"])
    ads["title"], ads["text"] = ads["title"].fillna(""), ads["text"].fillna("")
    ads["age_claimed"] = pd.to_numeric(ads["age_claimed"], errors="coerce")
    phone_calls, messages, contacts, owners = _load_phones(sources)
    calls = pd.concat([calls, phone_calls], ignore_index=True)
    return {
        "payments": payments,
        "calls": calls,
        "ads": ads,
        "messages": messages,
        "contacts": contacts,
        "owners": owners,
    }


def _load_phones(sources: list[tuple[Path, str]]) -> tuple[pd.DataFrame, ...]:
    """Seized phones: calls, messages, contacts (one row per saved phone or e-mail) and owners."""
    calls: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    owners: list[str] = []
    for path, adapter in sources:
        if adapter != "phone_json":
            continue
        doc = json.loads(path.read_text("utf-8"))
        raw = [doc["device"].get("owner_phone")]
        raw += [x for m in doc["messages"] for x in (m.get("from"), m.get("to"))]
        raw += [x for c in doc["calls"] for x in (c.get("from"), c.get("to"))]
        raw += [x for c in doc["contacts"] for x in c.get("phones") or []]
        norm = _phone_map(raw)
        owner = norm.get(doc["device"].get("owner_phone"))
        if owner:
            owners.append(owner)
        where = path.name + ":json:$."
        for i, m in enumerate(doc["messages"]):
            out = str(m.get("direction") or "").lower() == "out"
            messages.append(
                {
                    "ts": m["timestamp"],
                    "a": norm.get(m.get("from")) or (owner if out else None),
                    "b": norm.get(m.get("to")) or (None if out else owner),
                    "body": m.get("body") or "",
                    "ref": f"{where}messages[{i}]",
                }
            )
        for i, c in enumerate(doc["calls"]):
            calls.append(
                {
                    "ts": c["timestamp"],
                    "a": norm.get(c.get("from")) or owner,
                    "b": norm.get(c.get("to")) or owner,
                    "ref": f"{where}calls[{i}]",
                }
            )
        for i, c in enumerate(doc["contacts"]):
            name = " ".join(str(c.get("name") or "").split()) or None
            for j, ph in enumerate(p for p in c.get("phones") or [] if p):
                contacts.append(
                    {
                        "owner": owner,
                        "scope": owner or path.name,
                        "name": name,
                        "phone": norm.get(ph),
                        "email": None,
                        "ref": f"{where}contacts[{i}]:phone{j}",
                    }
                )
            for j, em in enumerate(e for e in c.get("emails") or [] if e):
                contacts.append(
                    {
                        "owner": owner,
                        "scope": owner or path.name,
                        "name": name,
                        "phone": None,
                        "email": str(em).strip().lower() or None,
                        "ref": f"{where}contacts[{i}]:email{j}",
                    }
                )
    msg = pd.DataFrame(messages, columns=["ts", "a", "b", "body", "ref"])
    msg["ts"] = pd.to_datetime(msg["ts"])
    pcalls = pd.DataFrame(calls, columns=["ts", "a", "b", "ref"])
    pcalls["ts"] = pd.to_datetime(pcalls["ts"])
    con = pd.DataFrame(contacts, columns=["owner", "scope", "name", "phone", "email", "ref"])
    return pcalls, msg, con, pd.DataFrame({"phone": owners})


# -------------------------------------------------------------------------------------------- resolve


def resolve(frames: dict[str, pd.DataFrame], name_threshold: float = 0.85) -> dict[str, Any]:
    """Identifier key (``phone:+1…``, ``email:…``, ``account:…``) -> entity (its smallest key).

    Links: name <-> identifier (holders, contact names; generic names dropped), ad phone <-> e-mail
    when each only appears with the other, and fuzzy-matched spellings of full names.
    """
    p, c, ads = frames["payments"], frames["contacts"], frames["ads"]
    ids: set[str] = set()
    for prefix, col in (
        ("account:", p["from_account"]),
        ("account:", p["to_account"]),
        ("phone:", frames["calls"]["a"]),
        ("phone:", frames["calls"]["b"]),
        ("phone:", frames["messages"]["a"]),
        ("phone:", frames["messages"]["b"]),
        ("phone:", c["phone"]),
        ("phone:", c["owner"]),
        ("email:", c["email"]),
        ("phone:", ads["phone"]),
        ("email:", ads["email"]),
        ("phone:", frames["owners"]["phone"]),
    ):
        ids.update(prefix + col.dropna().unique())
    # (identifier, name, scope) with counts, aggregated before any per-name Python work
    counted = []
    for f, kind, ident, name, scope in (
        (p, "account:", "from_account", "from_name", "from_account"),
        (p, "account:", "to_account", "to_name", "to_account"),
        (c, "phone:", "phone", "name", "scope"),
        (c, "email:", "email", "name", "scope"),
    ):
        part = pd.DataFrame({"id": f[ident], "name": f[name], "scope": f[scope]})
        part = part.dropna(subset=["id", "name"])
        part = part.groupby(["id", "name", "scope"], dropna=False).size().reset_index(name="n")
        counted.append(part.assign(id=kind + part["id"]))
    named = pd.concat(counted, ignore_index=True)
    named = named.groupby(["id", "name", "scope"], as_index=False, dropna=False)["n"].sum()
    named["key"] = [name_key(n, s) for n, s in zip(named["name"], named["scope"], strict=True)]
    named = named.dropna(subset=["key"])
    per_name = named.groupby("key")["id"].nunique()
    named = named[named["key"].isin(per_name[per_name <= MAX_IDS_PER_NAME].index)]
    pairs = named[["key", "id"]].drop_duplicates()
    links: list[tuple[str, str, str]] = [
        (k, i, "holder_or_contact_name") for k, i in pairs.itertuples(index=False)
    ]
    ad_pairs = ads.dropna(subset=["phone", "email"])[["phone", "email"]].drop_duplicates()
    lone = ad_pairs[
        ad_pairs.groupby("phone")["email"].transform("nunique").eq(1)
        & ad_pairs.groupby("email")["phone"].transform("nunique").eq(1)
    ]
    links += [("phone:" + a, "email:" + b, "same_ad") for a, b in lone.itertuples(index=False)]
    fuzzy = match_names(list(pairs["key"].unique()), threshold=name_threshold)
    links += [(a, b, "splink") for a, b, _ in fuzzy]
    g = nx.Graph()
    g.add_nodes_from(ids)
    g.add_edges_from((a, b) for a, b, _ in links)
    entity: dict[str, str] = {}
    for component in nx.connected_components(g):
        members = [k for k in component if not k.startswith(("name:", "nick:", "part:"))]
        if members:
            entity.update(dict.fromkeys(members, min(members)))
    kinds = pd.Series([r for _, _, r in links]).value_counts().to_dict() if links else {}
    return {"entity": entity, "links": {str(k): int(v) for k, v in kinds.items()}, "identifiers": len(ids)}


# ---------------------------------------------------------------------------------------------- edges


def _pair_rows(rows: pd.DataFrame, bucket: str, kind: str) -> pd.DataFrame:
    """Statement rows for every pair of entities sharing a bucket (an image, a place-time)."""
    seen = rows[[bucket, "e"]].drop_duplicates()
    pairs = seen.merge(seen, on=bucket)
    pairs = pairs[pairs["e_x"] < pairs["e_y"]]
    out = []
    for side in ("e_x", "e_y"):
        m = rows.merge(pairs, left_on=[bucket, "e"], right_on=[bucket, side])
        out.append(
            pd.DataFrame(
                {
                    "kind": kind,
                    "a": m["e_x"],
                    "b": m["e_y"],
                    "ts": m["ts"],
                    "bucket": m[bucket],
                    "ref": m["ref"],
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def edge_rows(frames: dict[str, pd.DataFrame], entity: dict[str, str]) -> pd.DataFrame:
    """One row per statement per edge: kind, a, b, ts, amount, bucket, ref."""
    acct, phone, email = (kind_map(entity, p) for p in ("account:", "phone:", "email:"))
    parts = []
    p = frames["payments"]
    parts.append(
        pd.DataFrame(
            {
                "kind": "payment",
                "a": p["from_account"].map(acct),
                "b": p["to_account"].map(acct),
                "ts": p["ts"],
                "amount": p["amount"],
                "ref": p["ref"],
            }
        )
    )
    for kind, name in (("call", "calls"), ("message", "messages")):
        f = frames[name]
        parts.append(
            pd.DataFrame(
                {"kind": kind, "a": f["a"].map(phone), "b": f["b"].map(phone), "ts": f["ts"], "ref": f["ref"]}
            )
        )
    c = frames["contacts"]
    target = c["phone"].map(phone).where(c["phone"].notna(), c["email"].map(email))
    parts.append(pd.DataFrame({"kind": "contact", "a": c["owner"].map(phone), "b": target, "ref": c["ref"]}))
    ads = frames["ads"].assign(e=frames["ads"]["phone"].map(phone)).dropna(subset=["e"])
    img = ads[["e", "ts", "ref", "image_hashes"]].explode("image_hashes").dropna(subset=["image_hashes"])
    parts.append(_pair_rows(img, "image_hashes", "shared_image"))
    place = ads.dropna(subset=["city"]).copy()
    place["place"] = place["city"] + "|" + place["ts"].dt.strftime("%Y-%m-%d")
    crowd = place.groupby("place")["e"].nunique()
    place = place[place["place"].isin(crowd[crowd <= MAX_BUCKET].index)]
    parts.append(_pair_rows(place[["e", "ts", "ref", "place"]], "place", "co_location"))
    calls = frames["calls"].dropna(subset=["cell_id", "ts"])
    cell = pd.DataFrame(
        {
            "e": calls["a"].map(phone),
            "ts": calls["ts"],
            "ref": calls["ref"],
            "cell": calls["cell_id"],
            "hr": calls["ts"].dt.floor("h"),
        }
    ).dropna(subset=["e"])
    seen = cell[["cell", "hr", "e"]].drop_duplicates()
    size = seen.groupby(["cell", "hr"]).size()
    small = size[(size >= 2) & (size <= MAX_BUCKET)].reset_index()[["cell", "hr"]]
    cell = cell.merge(small, on=["cell", "hr"])
    cell["slot"] = cell["cell"] + "|" + cell["hr"].dt.strftime("%Y-%m-%d %H")
    parts.append(_pair_rows(cell[["e", "ts", "ref", "slot"]], "slot", "co_location"))
    rows = pd.concat(parts, ignore_index=True).dropna(subset=["a", "b"])
    return rows[rows["a"] != rows["b"]]


def edges(frames: dict[str, pd.DataFrame], entity: dict[str, str]) -> pd.DataFrame:
    """Edges aggregated per (kind, a, b) with weight, count, amount, first/last time and source rows."""
    rows = edge_rows(frames, entity)
    repeating = rows["kind"].isin(_REPEATING)
    plain = (
        rows[~repeating]
        .groupby(["kind", "a", "b"], sort=False)
        .agg(
            n=("ref", "size"),
            amount=("amount", "sum"),
            first_ts=("ts", "min"),
            last_ts=("ts", "max"),
            refs=("ref", list),
        )
    )
    rep = rows[repeating]
    times = rep.groupby(["kind", "a", "b"], sort=False).agg(
        buckets=("bucket", "nunique"), first_ts=("ts", "min"), last_ts=("ts", "max")
    )
    stmts = (
        rep.drop_duplicates(["kind", "a", "b", "ref"])
        .groupby(["kind", "a", "b"], sort=False)
        .agg(n=("ref", "size"), refs=("ref", list))
    )
    other = times.join(stmts)
    other = other[(other.index.get_level_values("kind") != "co_location") | (other["buckets"] >= 2)]
    out = pd.concat([plain, other.drop(columns="buckets")]).reset_index()
    out["directed"] = ~out["kind"].isin(_REPEATING)
    out["weight"] = out["kind"].map(KIND_WEIGHT).fillna(1.0) * out["n"]
    return out


# -------------------------------------------------------------------------------------------- metrics


def metrics(edge_frame: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    """Per-entity PageRank, sampled betweenness, Louvain community, brokerage and inner circle."""
    swap = edge_frame["a"] > edge_frame["b"]
    a = edge_frame["a"].where(~swap, edge_frame["b"])
    b = edge_frame["b"].where(~swap, edge_frame["a"])
    pairs = (
        pd.DataFrame({"a": a, "b": b, "weight": edge_frame["weight"]})
        .groupby(["a", "b"], as_index=False)
        .sum()
    )
    g = nx.from_pandas_edgelist(pairs, "a", "b", edge_attr="weight")
    pagerank = nx.pagerank(g, weight="weight")
    k = min(SAMPLE_SOURCES, g.number_of_nodes())
    betweenness = nx.betweenness_centrality(g, k=k, seed=seed, normalized=False)
    communities = nx.community.louvain_communities(g, weight="weight", seed=seed)
    ordered = sorted(communities, key=lambda c: (-len(c), min(c)))
    community = {n: i + 1 for i, c in enumerate(ordered) for n in c}
    out = pd.DataFrame({"pagerank": pd.Series(pagerank)})
    out["betweenness"] = pd.Series(betweenness)
    out["community"] = pd.Series(community)
    out["degree"] = pd.Series(dict(g.degree()))
    both = pd.DataFrame({"v": pd.concat([pairs["a"], pairs["b"]]), "nb": pd.concat([pairs["b"], pairs["a"]])})
    both["pr"] = both["nb"].map(pagerank)
    top = both.sort_values(["v", "pr"], ascending=[True, False]).groupby("v").head(INNER_CIRCLE)
    out["inner_circle"] = (top.groupby("v")["pr"].sum() / INNER_CIRCLE).reindex(out.index).fillna(0.0)
    both["cv"], both["cn"] = both["v"].map(community), both["nb"].map(community)
    foreign = both[both["cv"] != both["cn"]]
    out["brokerage"] = foreign.groupby("v")["cn"].nunique().reindex(out.index).fillna(0).astype(int)
    out.attrs["pairs"] = len(pairs)
    out.attrs["communities"] = len(communities)
    return out


# ------------------------------------------------------------------------------------------------ run


def _timed(timings: dict[str, dict[str, float]], name: str, fn: Callable[..., T], *args: Any) -> T:
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn(*args)
    timings["wall"][name] = round(time.perf_counter() - wall, 3)
    timings["cpu"][name] = round(time.process_time() - cpu, 3)
    return result


def run(sources: list[tuple[Path, str]]) -> dict[str, Any]:
    """The whole baseline pipeline; returns what it found (for a sanity check against Palermo).

    ``timings`` holds wall-clock seconds per step; ``timings_cpu`` the process CPU seconds.
    """
    t: dict[str, dict[str, float]] = {"wall": {}, "cpu": {}}
    frames = _timed(t, "load", load, sources)
    res = _timed(t, "resolve", resolve, frames)
    entity: dict[str, str] = res["entity"]
    edge_frame = _timed(t, "edges", edges, frames, entity)
    node = _timed(t, "metrics", metrics, edge_frame)
    found = _timed(t, "indicators", indicators, frames)
    roles, features = _timed(t, "roles", roles_and_features, frames, entity, edge_frame, found)
    players = _timed(t, "key_players", key_players, node, found, entity, roles, features)
    t["wall"]["total"] = round(sum(t["wall"].values()), 3)
    t["cpu"]["total"] = round(sum(t["cpu"].values()), 3)
    by_pr = node["pagerank"].sort_values(ascending=False)
    by_bt = node["betweenness"].sort_values(ascending=False)
    return {
        "entities": len(set(entity.values())),
        "identifiers": res["identifiers"],
        "links": res["links"],
        "graph": {
            "nodes": len(node),
            # as Palermo's GraphSummary.edges: entity pairs of the undirected graph (kinds summed)
            "edges": node.attrs["pairs"],
            # as Palermo's ``edges`` table: one edge per (kind, source, target)
            "kind_edges": len(edge_frame),
            "edge_kinds": {str(k): int(v) for k, v in edge_frame["kind"].value_counts().items()},
            "edge_statements": int(edge_frame["refs"].map(len).sum()),
            "communities": node.attrs["communities"],
            "top_pagerank": list(by_pr.index[:10]),
            "top_betweenness": list(by_bt.index[:10]),
        },
        "indicator_hits": {k: len(v) for k, v in found.items()},
        "hits": {k: sorted(v) for k, v in found.items()},
        "roles": {e: r["role"] for e, r in roles.items()},
        "key_players": players,
        "timings": t["wall"],
        "timings_cpu": t["cpu"],
    }
