"""The baseline's rules in pandas: the 19 catalogue indicators, the role features, roles and key players.

Same thresholds as ``palermo/analytics/indicators/catalogue.yaml``, ``features.py``, ``roles.py`` and
``keyplayers.py``; every indicator hit keeps the source rows behind it (``file:line:N``), as
Palermo's hits keep their statements. Written as an analyst would: boolean masks, groupbys and
merges; Python only over the handful of hits and entities that the rules return.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import pandas as pd

from palermo.analytics.indicators.catalogue import load_catalogue

#: indicator id -> {subject: (score, source rows)}
Hits = dict[str, dict[str, tuple[float, list[str]]]]

ESCORT = re.compile(r"escort|incall|outcall|new in town|new girl")
HOTEL = re.compile(r"\b(?:HOTEL|MOTEL|INN|LODGE|SUITES|HOSTEL)\b")
RENT = re.compile(r"\bRENT\b")
TRAVEL = re.compile(
    r"(?:\bBUS\b|\bAIR\b|AIRLINE|\bRAIL|\bTRAIN\b|TICKET|FUEL|\bGAS\b|"
    r"CAR RENTAL|RENT A CAR|RENT CARS|QUICKRENT)"
)
VEHICLE = re.compile(r"(?:FUEL|\bGAS\b|CAR RENTAL|RENT A CAR|QUICKRENT)")
TICKET = re.compile(r"(?:\bBUS\b|\bAIR\b|AIRLINE|TICKET|\bTRAIN\b|\bRAIL)")
THIRD_PERSON = re.compile(r"\b(?:she|her|girls)\b")
YOUTH = re.compile(r"\b(?:young|fresh|new girl|teen|petite|barely legal|schoolgirl|first week)\b")
COERCION = re.compile(
    r"\b(?:owe|debt|quota|no days off|come back short|your family will|check your phone|"
    r"without asking me|passport)\b"
)
RECRUIT = re.compile(
    r"(?:job abroad|good money|pay the ticket|pay me back|arrange everything|start next week|visa|"
    r"modell?ing job|waitress)"
)
TRANSPORT = re.compile(r"(?:pick them up|pick her up|we move|move tomorrow|take the girls|take her to)")
COUNTRY = re.compile(r"^[A-Z]{2}$")
_CONTROL = ("C_COERCION_LANGUAGE", "C_ONE_PHONE_CONTROLS_MANY", "A_PHONE_MANY_PERSONS")
SEVERITY = {"high": 3.0, "medium": 2.0, "low": 1.0}
WEIGHTS = (0.25, 0.20, 0.20, 0.35)
STANDOUT = 0.6


def kind_map(entity: dict[str, str], prefix: str) -> dict[str, str]:
    """Identifier value (without ``phone:`` etc.) -> entity, for one kind."""
    return {k[len(prefix) :]: v for k, v in entity.items() if k.startswith(prefix)}


def _hits(rows: pd.DataFrame, subject: str, score: pd.Series) -> dict[str, tuple[float, list[str]]]:
    """Flagged subjects (``score`` indexed by subject) with the list of source rows behind each."""
    refs = rows[rows[subject].isin(score.index)].groupby(subject)["ref"].agg(list)
    return {str(s): (float(v), refs.get(s, [])) for s, v in score.items()}


def _odd(ts: pd.Series) -> pd.Series:
    hour = ts.dt.hour
    return (hour >= 22) | (hour < 5)


def indicators(frames: dict[str, pd.DataFrame]) -> Hits:
    """All 19 catalogue indicators; adds the payment ``label`` column the features reuse."""
    out: Hits = {}
    out.update(_money(frames))
    out.update(_ads(frames))
    out.update(_comms(frames))
    return out


def _money(frames: dict[str, pd.DataFrame]) -> Hits:
    p, ads = frames["payments"], frames["ads"]
    out: Hits = {}
    p["label"] = (p["to_name"].fillna("") + " " + p["description"].fillna("")).str.upper()
    has_from = p["from_account"].notna()
    cash = p[(p["channel"] == "cash_deposit") & p["to_account"].notna()]
    near = cash[(cash["amount"] >= 8000) & (cash["amount"] < 10000)]
    n = near.groupby("to_account").size()
    out["M_STRUCTURED_CASH"] = _hits(near, "to_account", n[n >= 3])
    cc = cash.dropna(subset=["city"])
    inflow = cc.groupby("to_account").agg(
        n=("amount", "size"), cities=("city", "nunique"), total=("amount", "sum")
    )
    outflow = p[p["channel"].isin(["wire", "transfer", "cash_withdrawal", "p2p"]) & has_from]
    funnel = inflow.join(outflow.groupby("from_account")["amount"].sum().rename("out"), how="inner")
    funnel = funnel[(funnel.n >= 5) & (funnel.cities >= 3) & (funnel.out >= 0.5 * funnel.total)]
    out["M_FUNNEL_ACCOUNT"] = _hits(cc, "to_account", funnel["cities"])
    escort = ads["site"].notna() & (ads["age_claimed"].notna() | ads["text"].str.lower().str.contains(ESCORT))
    sites = set(ads.loc[escort, "site"].str.upper())
    site_pay = p[has_from & p["to_name"].str.upper().isin(sites)]
    n = site_pay.groupby("from_account").size()
    out["M_AD_SITE_PAYMENTS"] = _hits(site_pay, "from_account", n[n >= 3])
    card = p[p["channel"].isin(["card", "online"]) & has_from]
    hotels = card[card["label"].str.contains(HOTEL)]
    h = hotels.groupby("from_account").agg(n=("amount", "size"), cities=("city", "nunique"))
    out["M_MANY_HOTEL_CHARGES"] = _hits(hotels, "from_account", h[(h.n >= 10) & (h.cities >= 2)]["n"])
    rent = p[p["channel"].isin(["transfer", "wire", "online"]) & has_from & p["label"].str.contains(RENT)]
    rent = rent.assign(
        month=rent["ts"].dt.to_period("M"), payee=rent["to_account"].fillna(rent["to_name"].str.upper())
    )
    months = rent.groupby(["from_account", "month"])["payee"].nunique()
    months = months[months >= 2].reset_index()[["from_account", "month"]]
    rent = rent.merge(months, on=["from_account", "month"])
    out["M_MULTI_RESIDENCE_RENT"] = _hits(
        rent, "from_account", rent.groupby("from_account")["payee"].nunique()
    )
    card = card.dropna(subset=["ts"])
    card = card.assign(night=_odd(card["ts"]))
    g = card.groupby("from_account").agg(n=("night", "size"), night=("night", "sum"))
    g = g[(g.night >= 10) & (g.night >= 0.25 * g.n)]
    out["M_NIGHT_CARD_SPENDING"] = _hits(card[card["night"]], "from_account", g["night"])
    deposits = cash.groupby("to_account").size()
    wires = p[
        (p["channel"] == "wire")
        & p["to_account"].notna()
        & p["from_account"].isin(deposits[deposits >= 3].index)
    ]
    country = wires["to_account"].str[:2]
    wires = wires[(country != wires["from_account"].str[:2]) & country.str.match(COUNTRY)]
    out["M_CASH_THEN_WIRES_ABROAD"] = _hits(wires, "from_account", wires.groupby("from_account").size())
    travel = p[has_from & p["city"].notna() & p["label"].str.contains(TRAVEL)]
    cities = travel.groupby("from_account")["city"].nunique()
    out["M_TRAVEL_MANY_CITIES"] = _hits(travel, "from_account", cities[cities >= 3])
    return out


def _ads(frames: dict[str, pd.DataFrame]) -> Hits:
    ads = frames["ads"]
    out: Hits = {}
    a = ads[ads["phone"].notna()]
    text = (a["title"] + " " + a["text"]).str.lower()
    adult = a[a["age_claimed"].notna() | text.str.contains(ESCORT)]
    images = (
        adult[["phone", "image_hashes"]].explode("image_hashes").groupby("phone")["image_hashes"].nunique()
    )
    many = pd.DataFrame({"n": adult.groupby("phone").size(), "images": images})
    many = many[(many.n >= 5) & (many.images > 6)]
    out["A_PHONE_MANY_PERSONS"] = _hits(adult, "phone", many["images"])
    placed = a.dropna(subset=["city"])
    cities = placed.groupby("phone")["city"].nunique()
    out["A_PHONE_MANY_CITIES"] = _hits(placed, "phone", cities[cities >= 3])
    seq = placed.dropna(subset=["ts"]).sort_values(["phone", "ts"], kind="stable")
    prev = seq.groupby("phone")["city"].shift()
    seq = seq.assign(move=prev.notna() & (prev != seq["city"]))
    g = seq.groupby("phone").agg(moves=("move", "sum"), cities=("city", "nunique"))
    g = g[(g.moves >= 3) & (g.moves <= 2 * g.cities)]
    out["A_MOVEMENT_CIRCUIT"] = _hits(seq[seq["move"]], "phone", g["moves"])
    third = a[text.str.contains(THIRD_PERSON)]
    n = third.groupby("phone").size()
    out["A_THIRD_PERSON"] = _hits(third, "phone", n[n >= 2])
    youth = a[text.str.contains(YOUTH)]
    n = youth.groupby("phone").size()
    out["A_AGE_SUGGESTIVE"] = _hits(youth, "phone", n[n >= 2])
    img = a[["phone", "city", "ref", "image_hashes"]].explode("image_hashes").dropna(subset=["image_hashes"])
    spread = img.groupby("image_hashes").agg(phones=("phone", "nunique"), cities=("city", "nunique"))
    shared = img[img["image_hashes"].isin(spread[(spread.phones >= 2) | (spread.cities >= 2)].index)]
    photos = shared.groupby("phone")["image_hashes"].nunique()
    out["A_SHARED_IMAGES"] = _hits(shared.drop_duplicates(["phone", "ref"]), "phone", photos)
    return out


def _comms(frames: dict[str, pd.DataFrame]) -> Hits:
    calls, msg = frames["calls"], frames["messages"]
    out: Hits = {}
    sent = pd.concat([calls[["a", "b", "ts", "ref"]], msg[["a", "b", "ts", "ref"]]], ignore_index=True)
    sent = sent.dropna(subset=["a"])
    sent["odd"] = _odd(sent["ts"])
    both = sent.dropna(subset=["b"])
    pairs = both.groupby(["a", "b"]).agg(n=("odd", "size"), odd=("odd", "sum"))
    pairs = pairs[pairs.n >= 10]
    per = pairs.groupby(level="a").agg(k=("n", "size"), n=("n", "sum"), odd=("odd", "sum"))
    per = per[(per.k >= 3) & (per.odd >= 0.45 * per.n)]
    flagged = pairs[pairs.index.get_level_values("a").isin(per.index)].reset_index()[["a", "b"]]
    out["C_ONE_PHONE_CONTROLS_MANY"] = _hits(both.merge(flagged, on=["a", "b"]), "a", per["k"])
    timed = sent.dropna(subset=["ts"])
    g = timed.groupby("a").agg(n=("odd", "size"), odd=("odd", "sum"))
    g = g[(g.n >= 30) & (g.odd >= 0.4 * g.n)]
    out["C_ODD_HOURS"] = _hits(timed[timed["odd"]], "a", g["odd"] / g["n"])
    body = msg["body"].fillna("").str.lower()
    coercion = msg[msg["a"].notna() & body.str.contains(COERCION)]
    n = coercion.groupby("a").size()
    out["C_COERCION_LANGUAGE"] = _hits(coercion, "a", n[n >= 2])
    offers = msg[msg["a"].notna() & body.str.contains(RECRUIT)]
    n = offers.groupby("a")["b"].nunique()
    out["C_RECRUITMENT_OFFERS"] = _hits(offers, "a", n[n >= 2])
    moves = msg[msg["b"].notna() & body.str.contains(TRANSPORT)]
    n = moves.groupby("b").size()
    out["C_TRANSPORT_INSTRUCTIONS"] = _hits(moves, "b", n[n >= 2])
    return out


# ------------------------------------------------------------------------------------ roles and features


def _subject_entity(entity: dict[str, str], indicator: str, subject: str) -> str | None:
    kind = "account:" if indicator.startswith("M_") else "phone:"
    return entity.get(kind + subject)


def features(
    frames: dict[str, pd.DataFrame], entity: dict[str, str], edge_frame: pd.DataFrame
) -> dict[str, Any]:
    """Feature -> entity -> value: cash share, ad-phone contacts, vehicle/ticket purchases, travel days."""
    p, ads, calls = frames["payments"], frames["ads"], frames["calls"]
    acct, phone = kind_map(entity, "account:"), kind_map(entity, "phone:")
    out: dict[str, Any] = {}
    cash = p[(p["channel"] == "cash_deposit") & p["to_account"].notna()]
    total = cash["amount"].sum()
    out["cash_share"] = (cash.groupby(cash["to_account"].map(acct))["amount"].sum() / total).to_dict()
    text = (ads["title"] + " " + ads["text"]).str.lower()
    adult = set(
        ads.loc[ads["age_claimed"].notna() | text.str.contains(ESCORT), "phone"].dropna().map(phone).dropna()
    )
    talk = edge_frame[edge_frame["kind"].isin(["call", "message"])]
    nb = pd.concat(
        [talk[["a", "b"]], talk[["b", "a"]].set_axis(["a", "b"], axis=1)], ignore_index=True
    ).drop_duplicates()
    out["ad_phone_contacts"] = nb[nb["b"].isin(adult)].groupby("a").size().to_dict()
    payer = p["from_account"].map(acct)
    label = (
        p["label"]
        if "label" in p
        else (p["to_name"].fillna("") + " " + p["description"].fillna("")).str.upper()
    )
    out["vehicle_purchases"] = payer[label.str.contains(VEHICLE)].value_counts().to_dict()
    out["ticket_purchases"] = payer[label.str.contains(TICKET)].value_counts().to_dict()
    c = calls.dropna(subset=["city", "ts", "a"])
    days = c.groupby([c["a"], c["ts"].dt.normalize()])["city"].nunique()
    days = days[days >= 2].reset_index()
    out["travel_days"] = days["a"].map(phone).value_counts().to_dict()
    return out


def _talks_with(edge_frame: pd.DataFrame, group: set[str]) -> dict[str, int]:
    """Entity -> calls and messages exchanged with any entity of ``group``."""
    if not group:
        return {}
    talk = edge_frame[edge_frame["kind"].isin(["call", "message"])]
    other = pd.concat(
        [
            talk.loc[talk["a"].isin(group), ["b", "n"]].set_axis(["e", "n"], axis=1),
            talk.loc[talk["b"].isin(group), ["a", "n"]].set_axis(["e", "n"], axis=1),
        ]
    )
    return {str(k): int(v) for k, v in other.groupby("e")["n"].sum().items()}


def roles_and_features(
    frames: dict[str, pd.DataFrame], entity: dict[str, str], edge_frame: pd.DataFrame, found: Hits
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Roles (``roles.py`` rules, first rule that fires) and the features they were argued from."""
    feats = features(frames, entity, edge_frame)
    titles = {i.id: i.title for i in load_catalogue()}

    def get(name: str, e: str) -> float:
        return float(feats.get(name, {}).get(e, 0.0))

    by_entity: dict[str, dict[str, float]] = defaultdict(dict)
    for ind, subjects in found.items():
        for subject, (score, _) in subjects.items():
            e = _subject_entity(entity, ind, subject)
            if e:
                by_entity[e][ind] = score

    def say(e: str, ids: list[str]) -> list[str]:
        return [f"{titles[i].lower()}: score {by_entity[e][i]:g}" for i in ids if i in by_entity[e]]

    roles: dict[str, dict[str, Any]] = {}

    def assign(e: str, role: str, ring: bool, reasons: list[str]) -> None:
        roles[e] = {"role": role, "ring": ring, "reasons": reasons}

    for e, f in by_entity.items():
        if {"M_STRUCTURED_CASH", "M_CASH_THEN_WIRES_ABROAD"} & f.keys():
            reasons = say(e, ["M_STRUCTURED_CASH", "M_CASH_THEN_WIRES_ABROAD", "M_FUNNEL_ACCOUNT"])
            if get("cash_share", e) >= 0.05:
                reasons.append(f"receives {get('cash_share', e):.0%} of all cash deposited in the case")
            assign(e, "financier", True, reasons)
        elif "C_RECRUITMENT_OFFERS" in f:
            assign(e, "recruiter", True, say(e, ["C_RECRUITMENT_OFFERS", "C_COERCION_LANGUAGE"]))
        elif set(_CONTROL) & f.keys() or (
            "M_AD_SITE_PAYMENTS" in f and {"M_MANY_HOTEL_CHARGES", "M_MULTI_RESIDENCE_RENT"} & f.keys()
        ):
            reasons = say(
                e,
                [
                    *_CONTROL,
                    "M_AD_SITE_PAYMENTS",
                    "M_MANY_HOTEL_CHARGES",
                    "M_MULTI_RESIDENCE_RENT",
                    "A_PHONE_MANY_CITIES",
                ],
            )
            if get("ad_phone_contacts", e):
                reasons.append(
                    f"in contact with {int(get('ad_phone_contacts', e))} phone(s) that appear in ads"
                )
            assign(e, "controller", True, reasons)
        elif "C_TRANSPORT_INSTRUCTIONS" in f:
            assign(e, "transporter", True, say(e, ["C_TRANSPORT_INSTRUCTIONS"]))
    # drivers: on the road, in close contact with a controller's private (not advertised) phone
    phone = kind_map(entity, "phone:")
    advertised = set(frames["ads"]["phone"].dropna().map(phone).dropna())
    private = {e for e, r in roles.items() if r["role"] == "controller" and e not in advertised}
    for e, n in _talks_with(edge_frame, private).items():
        days = int(get("travel_days", e))
        if e not in roles and n >= 15 and days >= 2:
            assign(
                e,
                "transporter",
                True,
                [
                    f"{n} calls/messages with a suspected controller's private phone",
                    f"called from two or more cities on the same day on {days} days",
                ],
            )
    # money associates: paid by a financier and a second, independent tie
    financiers = {e for e, r in roles.items() if r["role"] == "financier"}
    controllers = {e for e, r in roles.items() if r["role"] == "controller"}
    pay = edge_frame[(edge_frame["kind"] == "payment") & edge_frame["a"].isin(financiers)]
    paid = pay.groupby("b")["n"].sum()
    talks = _talks_with(edge_frame, controllers)
    for e, n in paid.items():
        e = str(e)
        if e in roles or n < 2:
            continue
        vehicle, tickets = get("vehicle_purchases", e), get("ticket_purchases", e)
        travel = "M_TRAVEL_MANY_CITIES" in by_entity.get(e, {})
        if not (travel or vehicle or tickets or talks.get(e)):
            continue
        reasons = [f"receives {int(n)} payments from a suspected financier's account"]
        if travel:
            reasons += say(e, ["M_TRAVEL_MANY_CITIES"])
        if vehicle or tickets:
            reasons.append(f"{int(vehicle)} fuel/car-rental and {int(tickets)} ticket purchases")
        if talks.get(e):
            reasons.append(f"{talks[e]} calls/messages with a suspected controller")
        role = "transporter" if vehicle > tickets else "recruiter" if tickets else "financier"
        assign(e, role, True, reasons)
    # possible victims
    bosses = {e for e, r in roles.items() if r["ring"] and r["role"] in ("controller", "recruiter")}
    msg = edge_frame[
        (edge_frame["kind"] == "message") & edge_frame["a"].isin(bosses) & ~edge_frame["b"].isin(roles)
    ]
    for e, n in msg.groupby("b")["n"].sum().items():
        if n >= 3:
            assign(
                str(e),
                "possible_victim",
                False,
                [f"receives {int(n)} messages from a suspected controller or recruiter"],
            )
    for e, f in by_entity.items():
        if e not in roles and {"A_THIRD_PERSON", "A_AGE_SUGGESTIVE"} & f.keys():
            assign(
                e,
                "possible_victim",
                False,
                ["phone printed in ads written by someone else or suggesting youth"],
            )
    return roles, feats


# ---------------------------------------------------------------------------------------------- key players


def key_players(
    node: pd.DataFrame,
    found: Hits,
    entity: dict[str, str],
    roles: dict[str, dict[str, Any]],
    feats: dict[str, Any],
    top: int = 10,
) -> list[dict[str, Any]]:
    """The ``top`` entities by ``keyplayers.py``'s score, each with its reasons."""
    catalogue = {i.id: i for i in load_catalogue()}
    flags: dict[str, set[str]] = defaultdict(set)
    for ind, subjects in found.items():
        for subject in subjects:
            e = _subject_entity(entity, ind, subject)
            if e:
                flags[e].add(ind)
    weight = pd.Series(
        {e: sum(SEVERITY[catalogue[i].severity] for i in f) for e, f in flags.items()}, dtype=float
    )
    m = node.reindex(node.index.union(weight.index))
    m[["pagerank", "betweenness", "inner_circle"]] = m[["pagerank", "betweenness", "inner_circle"]].fillna(
        0.0
    )
    m["flags"] = weight.reindex(m.index).fillna(0.0)
    cols = ["pagerank", "betweenness", "inner_circle", "flags"]
    norm = m[cols] / m[cols].max().replace(0.0, 1.0)
    m["score"] = STANDOUT * norm.max(axis=1) + (1 - STANDOUT) * (norm * list(WEIGHTS)).sum(axis=1)
    m = m.rename_axis("entity").reset_index().sort_values(["score", "entity"], ascending=[False, True])
    rank = {
        c: node[c].rank(ascending=False, method="first") for c in ("pagerank", "betweenness", "inner_circle")
    }
    leaders = set(node.sort_values("pagerank", ascending=False).groupby("community").head(1).index)
    out = []
    for i, row in enumerate(m.head(top).itertuples(index=False), start=1):
        e = str(row.entity)
        reasons: list[str] = []
        role = roles.get(e)
        if role:
            reasons.append(
                "possible victim" if role["role"] == "possible_victim" else f"suspected {role['role']}"
            )
        if e in leaders:
            reasons.append(f"highest weighted PageRank in community {int(row.community)}")
        elif e in node.index and rank["pagerank"][e] <= 10:
            reasons.append(f"weighted PageRank rank {int(rank['pagerank'][e])} of {len(node)}")
        if e in node.index and rank["betweenness"][e] <= 10 and row.betweenness > 0:
            reasons.append(f"betweenness rank {int(rank['betweenness'][e])}: sits on paths between others")
        if e in node.index and rank["inner_circle"][e] <= 10:
            reasons.append(f"inner circle rank {int(rank['inner_circle'][e])}")
        if e in node.index and row.brokerage >= 2:
            reasons.append(f"contacts in {int(row.brokerage)} other communities (broker)")
        ads = int(feats["ad_phone_contacts"].get(e, 0))
        if ads:
            reasons.append(f"contact with {ads} phone(s) that appear in ads")
        share = float(feats["cash_share"].get(e, 0.0))
        if share >= 0.05:
            reasons.append(f"receives {share:.0%} of cash deposits")
        if role:
            reasons.extend(role["reasons"])
        reasons.extend(catalogue[f].title for f in sorted(flags.get(e, set())))
        out.append(
            {
                "rank": i,
                "entity": e,
                "score": round(float(row.score), 4),
                "role": role["role"] if role else None,
                "reasons": reasons,
            }
        )
    return out
