"""The yardstick: the same pipeline written the way an analyst would in a notebook, pandas + networkx.

Issue 4 asks Palermo to be at least 10x faster than this. It is written fairly, not as a straw man:
phone numbers are normalised once per *distinct* raw string (not per row), groupbys are vectorised,
and betweenness is k-sampled. Steps, mirroring Palermo's:

1. read the bank CSVs, the CDR, the ads and the phone extractions with pandas / json;
2. normalise phones (``phonenumbers``, E.164), accounts (upper case, no spaces), e-mails (lower case);
3. resolve: identifiers that appear on the same record (a contact's phones and e-mails, an ad's phone
   and e-mail) are the same entity; connected components give the entities;
4. graph: payments, calls and messages between entities, plus ads sharing an image; networkx PageRank,
   betweenness (k-sampled), Louvain communities;
5. indicators: the catalogue's main rules re-written in pandas.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import phonenumbers

ODD = "odd"
THIRD_PERSON = re.compile(r"\b(?:she|her|girls)\b")
YOUTH = re.compile(r"\b(?:young|fresh|new girl|teen|petite|barely|schoolgirl|first week)\b")
COERCION = re.compile(
    r"\b(?:owe|debt|quota|no days off|come back short|your family will|check your phone|"
    r"without asking me|passport)\b"
)
HOTEL = re.compile(r"\b(?:HOTEL|MOTEL|INN|LODGE|SUITES|HOSTEL)\b")


def _phone_map(values: Iterable[Any], region: str = "US") -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in set(values):
        if not isinstance(raw, str) or not raw:
            continue
        try:
            out[raw] = phonenumbers.format_number(
                phonenumbers.parse(raw, region), phonenumbers.PhoneNumberFormat.E164
            )
        except phonenumbers.NumberParseException:
            out[raw] = re.sub(r"\D", "", raw)
    return out


def _norm_phone(series: pd.Series) -> pd.Series:
    return series.map(_phone_map(series.dropna().unique()))


def _account(series: pd.Series) -> pd.Series:
    return series.fillna("").str.upper().str.replace(" ", "", regex=False).replace("", None)


def load(sources: list[tuple[Path, str]]) -> dict[str, pd.DataFrame]:
    """Read every source file into payments, calls, messages, contacts and ads frames."""
    bank = [pd.read_csv(p, dtype=str, keep_default_na=False) for p, a in sources if a == "bank_csv"]
    b = pd.concat(bank, ignore_index=True)
    debit = b["direction"] == "debit"
    payments = pd.DataFrame(
        {
            "ts": pd.to_datetime(b["date"] + "T" + b["time"]),
            "from_account": _account(b["account_iban"].where(debit, b["counterparty_iban"])),
            "to_account": _account(b["counterparty_iban"].where(debit, b["account_iban"])),
            "to_name": b["counterparty_name"].where(debit, b["account_holder"]),
            "amount": b["amount"].astype(float),
            "channel": b["channel"],
            "city": b["city"].replace("", None),
            "description": b["description"],
        }
    )
    cdr = pd.concat([pd.read_csv(p, dtype=str) for p, a in sources if a == "cdr_csv"], ignore_index=True)
    calls = pd.DataFrame(
        {
            "ts": pd.to_datetime(cdr["start_time"]),
            "a": _norm_phone(cdr["caller"]),
            "b": _norm_phone(cdr["callee"]),
        }
    )
    ads = pd.concat(
        [pd.read_json(p, lines=True, dtype=False) for p, a in sources if a == "ads_jsonl"], ignore_index=True
    )
    ads["phone"] = _norm_phone(ads["phone"])
    ads["ts"] = pd.to_datetime(ads["posted_at"])
    messages: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    for path, adapter in sources:
        if adapter != "phone_json":
            continue
        doc = json.loads(path.read_text("utf-8"))
        messages.extend(
            {"ts": m["timestamp"], "a": m["from"], "b": m["to"], "body": m["body"]} for m in doc["messages"]
        )
        messages.extend(
            {"ts": c["timestamp"], "a": c["from"], "b": c["to"], "body": ""} for c in doc["calls"]
        )
        contacts.extend(
            {"name": c["name"], "phones": c["phones"], "emails": c["emails"]} for c in doc["contacts"]
        )
    msg = pd.DataFrame(messages)
    msg["ts"] = pd.to_datetime(msg["ts"])
    msg["a"], msg["b"] = _norm_phone(msg["a"]), _norm_phone(msg["b"])
    con = pd.DataFrame(contacts)
    con["phones"] = [[_phone_map(ph).get(x, x) for x in ph] for ph in con["phones"]]
    return {"payments": payments, "calls": calls, "ads": ads, "messages": msg, "contacts": con}


def resolve(frames: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Identifier -> entity id, by connected components over identifiers seen on one record."""
    g = nx.Graph()
    for ident in pd.concat([frames["payments"]["from_account"], frames["payments"]["to_account"]]).dropna():
        g.add_node("acct:" + ident)
    for col in ("a", "b"):
        g.add_nodes_from("phone:" + frames["calls"][col].dropna().unique())
        g.add_nodes_from("phone:" + frames["messages"][col].dropna().unique())
    ads = frames["ads"]
    g.add_nodes_from("phone:" + ads["phone"].dropna().unique())
    with_email = ads.dropna(subset=["phone", "email"])
    g.add_edges_from(
        zip("phone:" + with_email["phone"], "email:" + with_email["email"].str.lower(), strict=True)
    )
    for phones, emails in zip(frames["contacts"]["phones"], frames["contacts"]["emails"], strict=True):
        ids = ["phone:" + p for p in phones] + ["email:" + e.lower() for e in emails]
        g.add_nodes_from(ids)
        g.add_edges_from(itertools.pairwise(ids))
    entity: dict[str, str] = {}
    for component in nx.connected_components(g):
        head = min(component)
        entity.update(dict.fromkeys(component, head))
    return entity


def graph(frames: dict[str, pd.DataFrame], entity: dict[str, str], k: int = 64) -> dict[str, Any]:
    """Entity graph and its metrics: PageRank, k-sampled betweenness, Louvain communities."""
    parts = []
    p = frames["payments"].dropna(subset=["from_account", "to_account"])
    parts.append(pd.DataFrame({"a": "acct:" + p["from_account"], "b": "acct:" + p["to_account"]}))
    for name in ("calls", "messages"):
        f = frames[name].dropna(subset=["a", "b"])
        parts.append(pd.DataFrame({"a": "phone:" + f["a"], "b": "phone:" + f["b"]}))
    img = frames["ads"][["phone", "image_hashes"]].dropna(subset=["phone"]).explode("image_hashes").dropna()
    pairs = img.merge(img, on="image_hashes")
    pairs = pairs[pairs["phone_x"] < pairs["phone_y"]]
    parts.append(pd.DataFrame({"a": "phone:" + pairs["phone_x"], "b": "phone:" + pairs["phone_y"]}))
    edges = pd.concat(parts, ignore_index=True)
    edges["a"], edges["b"] = (
        edges["a"].map(entity).fillna(edges["a"]),
        edges["b"].map(entity).fillna(edges["b"]),
    )
    weights = edges[edges["a"] != edges["b"]].groupby(["a", "b"]).size().reset_index(name="w")
    directed = nx.DiGraph()
    directed.add_weighted_edges_from(weights.itertuples(index=False, name=None))
    undirected = directed.to_undirected()
    pagerank = nx.pagerank(directed, weight="weight")
    betweenness = nx.betweenness_centrality(undirected, k=min(k, undirected.number_of_nodes()), seed=7)
    communities = nx.community.louvain_communities(undirected, weight="weight", seed=7)
    top = sorted(pagerank, key=lambda n: -pagerank[n])[:10]
    return {
        "nodes": directed.number_of_nodes(),
        "edges": directed.number_of_edges(),
        "communities": len(communities),
        "top_pagerank": top,
        "top_betweenness": sorted(betweenness, key=lambda n: -betweenness[n])[:10],
    }


def indicators(frames: dict[str, pd.DataFrame]) -> dict[str, list[str]]:
    """The catalogue's main rules in pandas: subject identifiers per indicator id."""
    p, ads, calls, msg = frames["payments"], frames["ads"], frames["calls"], frames["messages"]
    out: dict[str, list[str]] = {}
    cash = p[(p["channel"] == "cash_deposit") & p["to_account"].notna()]
    near = cash[(cash["amount"] >= 8000) & (cash["amount"] < 10000)].groupby("to_account").size()
    out["M_STRUCTURED_CASH"] = list(near[near >= 3].index)
    inflow = (
        cash.dropna(subset=["city"])
        .groupby("to_account")
        .agg(n=("amount", "size"), cities=("city", "nunique"), total=("amount", "sum"))
    )
    outflow = (
        p[p["channel"].isin(["wire", "transfer", "cash_withdrawal", "p2p"])]
        .groupby("from_account")["amount"]
        .sum()
    )
    funnel = inflow.join(outflow.rename("out"), how="inner")
    out["M_FUNNEL_ACCOUNT"] = list(
        funnel[(funnel.n >= 5) & (funnel.cities >= 3) & (funnel.out >= 0.5 * funnel.total)].index
    )
    text = (ads["title"].fillna("") + " " + ads["text"].fillna("")).str.lower()
    escort_sites = set(
        ads.loc[
            ads["age_claimed"].notna() | text.str.contains("escort|incall|outcall|new in town|new girl"),
            "site",
        ].str.upper()
    )
    site_pay = (
        p[p["to_name"].str.upper().isin(escort_sites) & p["from_account"].notna()]
        .groupby("from_account")
        .size()
    )
    out["M_AD_SITE_PAYMENTS"] = list(site_pay[site_pay >= 3].index)
    label = (p["to_name"].fillna("") + " " + p["description"].fillna("")).str.upper()
    hotels = p[p["channel"].isin(["card", "online"]) & label.str.contains(HOTEL) & p["from_account"].notna()]
    h = hotels.groupby("from_account").agg(n=("amount", "size"), cities=("city", "nunique"))
    out["M_MANY_HOTEL_CHARGES"] = list(h[(h.n >= 10) & (h.cities >= 2)].index)
    card = p[p["channel"].isin(["card", "online"]) & p["from_account"].notna()]
    night = card[(card["ts"].dt.hour >= 22) | (card["ts"].dt.hour < 5)].groupby("from_account").size()
    out["M_NIGHT_CARD_SPENDING"] = list(night[night >= 10].index)
    a = ads.dropna(subset=["phone"])
    cities = a.dropna(subset=["city"]).groupby("phone")["city"].nunique()
    out["A_PHONE_MANY_CITIES"] = list(cities[cities >= 3].index)
    third = a[text[a.index].str.contains(THIRD_PERSON)].groupby("phone").size()
    out["A_THIRD_PERSON"] = list(third[third >= 2].index)
    youth = a[text[a.index].str.contains(YOUTH) | (a["age_claimed"] < 20)].groupby("phone").size()
    out["A_AGE_SUGGESTIVE"] = list(youth[youth >= 2].index)
    img = a[["phone", "city", "image_hashes"]].explode("image_hashes").dropna(subset=["image_hashes"])
    spread = img.groupby("image_hashes").agg(phones=("phone", "nunique"), cities=("city", "nunique"))
    shared = spread[(spread.phones >= 2) | (spread.cities >= 2)].index
    out["A_SHARED_IMAGES"] = sorted(img[img["image_hashes"].isin(shared)]["phone"].unique())
    contact = pd.concat([calls[["a", "b", "ts"]], msg[["a", "b", "ts"]]], ignore_index=True).dropna()
    contact[ODD] = (contact["ts"].dt.hour >= 22) | (contact["ts"].dt.hour < 5)
    pairs = contact.groupby(["a", "b"]).agg(n=(ODD, "size"), odd=(ODD, "sum"))
    pairs = pairs[pairs.n >= 10].groupby(level="a").agg(k=("n", "size"), n=("n", "sum"), odd=("odd", "sum"))
    out["C_ONE_PHONE_CONTROLS_MANY"] = list(pairs[(pairs.k >= 3) & (pairs.odd >= pairs.n / 3)].index)
    per_phone = contact.groupby("a").agg(n=(ODD, "size"), odd=(ODD, "sum"))
    out["C_ODD_HOURS"] = list(per_phone[(per_phone.n >= 30) & (per_phone.odd >= 0.4 * per_phone.n)].index)
    coercion = msg[msg["body"].str.lower().str.contains(COERCION)].groupby("a").size()
    out["C_COERCION_LANGUAGE"] = list(coercion[coercion >= 2].index)
    return out


def run(sources: list[tuple[Path, str]]) -> dict[str, Any]:
    """The whole baseline pipeline; returns what it found (for a sanity check against Palermo)."""
    frames = load(sources)
    entity = resolve(frames)
    metrics = graph(frames, entity)
    hits = indicators(frames)
    return {
        "entities": len(set(entity.values())),
        "graph": metrics,
        "indicator_hits": {k: len(v) for k, v in hits.items()},
        "hits": hits,
    }
