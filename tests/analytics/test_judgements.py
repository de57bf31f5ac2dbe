"""Analyst judgements always override the model: "not same" splits, "same" merges, "unsure" does nothing."""

from __future__ import annotations

import itertools
from typing import Any

import duckdb
import pytest

from palermo.analytics.judgements import judge, list_judgements
from palermo.analytics.resolve import resolve
from palermo.errors import InputError, NotFoundError

CASE = "TEST-1"


def _entity_of(con: duckdb.DuckDBPyConnection, key: str) -> str:
    row = con.execute("SELECT entity_id FROM entity_members WHERE member_key = ?", [key]).fetchone()
    assert row is not None
    return str(row[0])


def _two_phones_one_name(load: Any) -> None:
    """Two phones saved under the same full name on two seized devices: the model joins them."""
    load.add("contacts", 1, device_owner="+15550001", name="Dorin Valek", phone="+15550101")
    load.add("contacts", 2, device_owner="+15550002", name="Dorin Valek", phone="+15550102")
    load.add("calls", 3, ts="2025-01-01 10:00", caller="+15550101", callee="+15550102", kind="voice")


def test_model_joins_phones_saved_under_one_name(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    _two_phones_one_name(load)
    resolve(con, CASE)
    assert _entity_of(con, "phone:+15550101") == _entity_of(con, "phone:+15550102")


def test_not_same_judgement_splits_what_the_model_joined(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    _two_phones_one_name(load)
    judge(con, CASE, "phone:+15550101", "phone:+15550102", "not_same", author="analyst1", note="two cousins")
    resolve(con, CASE)
    assert _entity_of(con, "phone:+15550101") != _entity_of(con, "phone:+15550102")


def test_not_same_split_is_recorded_as_overruled_link(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    _two_phones_one_name(load)
    judge(con, CASE, "phone:+15550101", "phone:+15550102", "not_same", author="analyst1")
    result = resolve(con, CASE)
    assert result.overruled >= 1


def test_same_judgement_merges_what_the_model_kept_apart(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    load.add("calls", 3, ts="2025-01-01 10:00", caller="+15550201", callee="+15550202", kind="voice")
    resolve(con, CASE)
    assert _entity_of(con, "phone:+15550201") != _entity_of(con, "phone:+15550202")
    judge(con, CASE, _entity_of(con, "phone:+15550201"), "phone:+15550202", "same", author="analyst1")
    resolve(con, CASE)
    assert _entity_of(con, "phone:+15550201") == _entity_of(con, "phone:+15550202")


def test_unsure_judgement_changes_nothing(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    _two_phones_one_name(load)
    judge(con, CASE, "phone:+15550101", "phone:+15550102", "unsure", author="analyst1")
    resolve(con, CASE)
    assert _entity_of(con, "phone:+15550101") == _entity_of(con, "phone:+15550102")


def test_latest_judgement_on_a_pair_replaces_the_earlier(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    _two_phones_one_name(load)
    judge(con, CASE, "phone:+15550101", "phone:+15550102", "not_same", author="analyst1")
    judge(con, CASE, "phone:+15550102", "phone:+15550101", "same", author="analyst2")
    assert [j.verdict for j in list_judgements(con, CASE)] == ["same"]


def test_unknown_verdict_is_rejected(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    _two_phones_one_name(load)
    resolve(con, CASE)
    with pytest.raises(InputError, match="verdict"):
        judge(con, CASE, "phone:+15550101", "phone:+15550102", "maybe", author="analyst1")


def test_a_key_the_case_does_not_have_is_refused(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    """A typo would be stored and silently change nothing: the analyst must hear about it."""
    _two_phones_one_name(load)
    with pytest.raises(NotFoundError, match=r"phone:\+15550109 is not a key of case TEST-1"):
        judge(con, CASE, "phone:+15550101", "phone:+15550109", "not_same", author="analyst1")
    with pytest.raises(InputError, match="neither an entity id nor a key"):
        judge(con, CASE, "phone:+15550101", "+15550102", "not_same", author="analyst1")
    assert list_judgements(con, CASE) == []


def test_keys_are_normalised_before_they_are_stored(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    load.add("calls", 3, ts="2025-01-01 10:00", caller="+13055550111", callee="+13055550122", kind="voice")
    made = judge(con, CASE, "PHONE:(305) 555-0111", "phone:305.555.0122", "same", author="analyst1")
    assert (made.left_key, made.right_key) == ("phone:+13055550111", "phone:+13055550122")


def test_name_and_account_keys_are_normalised_too(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    from palermo.analytics.judgements import normalise_key

    assert normalise_key("name:Loro  New") == "name:loro new"
    assert normalise_key("account:nl91 abna\u00a00417-1643.00") == "account:NL91ABNA0417164300"


def test_an_entity_is_judged_by_its_identifier_not_its_nickname(
    con: duckdb.DuckDBPyConnection, load: Any
) -> None:
    """``nick:…:boss`` sorts before ``phone:…``; a nickname is weak and can leave the entity, so the
    judgement must name the phone the entity's id is made from."""
    load.add("contacts", 1, device_owner="+15550001", name="Boss", phone="+15550101")
    load.add("calls", 2, ts="2025-01-01 10:00", caller="+15550101", callee="+15550202", kind="voice")
    resolve(con, CASE)
    entity = _entity_of(con, "phone:+15550101")
    assert _entity_of(con, "nick:+15550001:boss") == entity
    made = judge(con, CASE, entity, "phone:+15550202", "unsure", author="analyst1")
    assert "phone:+15550101" in (made.left_key, made.right_key)


def test_an_entity_without_an_identifier_key_falls_back_to_a_name(
    con: duckdb.DuckDBPyConnection, load: Any
) -> None:
    from palermo.analytics.judgements import _strongest_key
    from palermo.analytics.tables import create_analysis_tables

    create_analysis_tables(con)
    con.execute(
        "INSERT INTO entity_members VALUES (?, 'ent:00000000aa', 'nick:-:boss', 'name', 'Boss', 'x'), "
        "(?, 'ent:00000000aa', 'part:-:b boss', 'name', 'B Boss', 'x')",
        [CASE, CASE],
    )
    assert _strongest_key(con, CASE, "ent:00000000aa") == "nick:-:boss"


def test_a_national_phone_key_is_read_with_the_region_given(
    con: duckdb.DuckDBPyConnection, load: Any
) -> None:
    load.add("calls", 3, ts="2025-01-01 10:00", caller="+31612345678", callee="+15550202", kind="voice")
    made = judge(con, CASE, "phone:06 12345678", "phone:+15550202", "same", author="analyst1", region="nl")
    assert "phone:+31612345678" in (made.left_key, made.right_key)
    with pytest.raises(NotFoundError, match=r"national number .* region US: see --region"):
        judge(con, CASE, "phone:0612345678", "phone:+15550202", "same", author="analyst1")


@pytest.mark.parametrize("region", ["XX", "Netherlands", ""])
def test_an_unknown_region_is_an_input_error(con: duckdb.DuckDBPyConnection, load: Any, region: str) -> None:
    load.add("calls", 3, ts="2025-01-01 10:00", caller="+31612345678", callee="+15550202", kind="voice")
    with pytest.raises(InputError, match="not a phone region") as raised:
        judge(con, CASE, "phone:0612345678", "phone:+15550202", "same", author="analyst1", region=region)
    assert raised.value.location == "region"
    assert list_judgements(con, CASE) == []


@pytest.mark.parametrize("role", ["possible_victim", None])
def test_an_entity_can_be_judged_by_the_pseudonym_outputs_show(
    con: duckdb.DuckDBPyConnection, load: Any, role: str | None
) -> None:
    """A masked person's keys are hidden everywhere an analyst without the identity permission
    looks; the pseudonym shown in their place must work instead."""
    from palermo.analytics.redaction import pseudonym

    load.add("calls", 3, ts="2025-01-01 10:00", caller="+15550201", callee="+15550202", kind="voice")
    resolve(con, CASE)
    shown = pseudonym(_entity_of(con, "phone:+15550201"), role)
    made = judge(con, CASE, shown, "phone:+15550202", "same", author="analyst1")
    assert (made.left_key, made.right_key) == ("phone:+15550201", "phone:+15550202")
    with pytest.raises(NotFoundError, match="no entity of case TEST-1 is shown as 'person 000000'"):
        judge(con, CASE, "person 000000", "phone:+15550202", "same", author="analyst1")


def test_an_unknown_key_points_to_what_works_for_a_masked_person(
    con: duckdb.DuckDBPyConnection, load: Any
) -> None:
    """``--explain`` hides a masked person's keys: the message must not send the analyst there."""
    _two_phones_one_name(load)
    resolve(con, CASE)
    with pytest.raises(NotFoundError) as raised:
        judge(con, CASE, "phone:+15550101", "phone:+15550109", "not_same", author="analyst1")
    message = str(raised.value)
    assert "--explain" not in message and "entity id" in message and "pseudonym" in message


def _three_phones(load: Any) -> tuple[str, str, str]:
    """Three phones the model keeps apart (one call each, no names)."""
    load.add("calls", 3, ts="2025-01-01 10:00", caller="+15550301", callee="+15550302", kind="voice")
    load.add("calls", 3, ts="2025-01-01 11:00", caller="+15550302", callee="+15550303", kind="voice")
    return "phone:+15550301", "phone:+15550302", "phone:+15550303"


@pytest.mark.parametrize("not_same_first", [False, True])
def test_a_not_same_wins_over_a_same_that_only_follows_from_other_judgements(
    con: duckdb.DuckDBPyConnection, load: Any, not_same_first: bool
) -> None:
    """same(A, B), same(B, C), not_same(A, C) cannot all hold: the not_same wins whenever it was
    recorded, the older same gives way, and the conflict is reported by ids and verdicts."""
    a, b, c = _three_phones(load)
    apart = judge(con, CASE, a, c, "not_same", author="analyst3") if not_same_first else None
    older = judge(con, CASE, a, b, "same", author="analyst1")
    newer = judge(con, CASE, b, c, "same", author="analyst2")
    if apart is None:
        apart = judge(con, CASE, a, c, "not_same", author="analyst3")
    result = resolve(con, CASE)
    assert _entity_of(con, a) != _entity_of(con, c)
    assert _entity_of(con, b) == _entity_of(con, c)  # the newer same still holds
    [conflict] = result.conflicts
    assert (conflict.winner.judgement_id, conflict.winner.verdict) == (apart.judgement_id, "not_same")
    assert [(r.judgement_id, r.verdict) for r in conflict.against] == [
        (older.judgement_id, "same"),
        (newer.judgement_id, "same"),
    ]
    assert [r.judgement_id for r in conflict.set_aside] == [older.judgement_id]
    assert apart.judgement_id in conflict.reason and f"{older.judgement_id} is set aside" in conflict.reason
    assert not any(k.split(":", 1)[1] in conflict.reason for k in (a, b, c))
    links = con.execute(
        "SELECT left_key, right_key, kept FROM entity_links WHERE rule = 'judgement:same'"
    ).fetchall()
    assert sorted(links) == [(a, b, False), (b, c, True)]
    assert list(result.to_dict()["conflicts"][0]["set_aside"]) == [
        {"judgement_id": older.judgement_id, "verdict": "same"}
    ]


def test_between_two_sames_the_newer_wins(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    """Sames are applied newest first: the newest is kept even when two older ones give way for it."""
    a, x, y = _three_phones(load)
    d = "phone:+15550304"
    load.add("calls", 3, ts="2025-01-01 12:00", caller="+15550303", callee="+15550304", kind="voice")
    old1 = judge(con, CASE, x, d, "same", author="analyst1")
    old2 = judge(con, CASE, x, y, "same", author="analyst1")
    old3 = judge(con, CASE, y, d, "same", author="analyst1")
    newest = judge(con, CASE, a, x, "same", author="analyst2")
    apart = judge(con, CASE, a, d, "not_same", author="analyst3")
    [conflict] = resolve(con, CASE).conflicts
    assert conflict.winner.judgement_id == apart.judgement_id
    assert [r.judgement_id for r in conflict.set_aside] == [old1.judgement_id, old2.judgement_id]
    assert {r.judgement_id for r in conflict.against} == {j.judgement_id for j in (old1, old2, old3, newest)}
    assert _entity_of(con, a) == _entity_of(con, x) != _entity_of(con, y) == _entity_of(con, d)


def test_a_cut_through_model_links_alone_is_no_conflict(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    _two_phones_one_name(load)
    judge(con, CASE, "phone:+15550101", "phone:+15550102", "not_same", author="analyst1")
    result = resolve(con, CASE)
    assert result.conflicts == [] and result.overruled >= 1


def test_a_same_beside_model_links_keeps_them_apart_only_by_a_conflict(
    con: duckdb.DuckDBPyConnection, load: Any
) -> None:
    """A shared contact name (model) and a chain of sames (analysts) both join the two phones: the
    not_same cuts the model link and sets aside one same, reported; the model link is not a conflict."""
    _two_phones_one_name(load)
    load.add("calls", 3, ts="2025-01-02 10:00", caller="+15550101", callee="+15550109", kind="voice")
    older = judge(con, CASE, "phone:+15550101", "phone:+15550109", "same", author="analyst1")
    judge(con, CASE, "phone:+15550109", "phone:+15550102", "same", author="analyst1")
    judge(con, CASE, "phone:+15550101", "phone:+15550102", "not_same", author="analyst2")
    result = resolve(con, CASE)
    assert _entity_of(con, "phone:+15550101") != _entity_of(con, "phone:+15550102")
    assert [[r.judgement_id for r in c.set_aside] for c in result.conflicts] == [[older.judgement_id]]


def test_a_set_aside_same_applies_again_once_the_conflict_is_gone(
    con: duckdb.DuckDBPyConnection, load: Any
) -> None:
    a, b, c = _three_phones(load)
    judge(con, CASE, a, b, "same", author="analyst1")
    judge(con, CASE, b, c, "same", author="analyst1")
    judge(con, CASE, a, c, "not_same", author="analyst1")
    assert resolve(con, CASE).conflicts
    judge(con, CASE, c, a, "unsure", author="analyst2")  # replaces the not_same
    assert resolve(con, CASE).conflicts == []
    assert _entity_of(con, a) == _entity_of(con, b) == _entity_of(con, c)


def test_a_cut_never_takes_an_analysts_same_while_model_links_would_do(
    con: duckdb.DuckDBPyConnection, load: Any
) -> None:
    """Enough model links between two keys outweighed a fixed weight for a same judgement, and the
    cut silently took the analyst's same instead of them."""
    from palermo.analytics.resolve import _link_graph

    links = [("phone:+1a", "phone:+1b", "judgement:same", 1.0)]
    links += [("phone:+1b", "phone:+1c", "same_ad", 1.0)] * 340_000
    _, kept = _link_graph(["phone:+1a", "phone:+1b", "phone:+1c"], {}, links, [("phone:+1a", "phone:+1c")])
    assert kept[0] and not any(kept[1:])


def test_judgements_recorded_in_one_second_keep_their_order(
    con: duckdb.DuckDBPyConnection, load: Any
) -> None:
    """Which same gives way in a conflict depends on their order: a script records many a second."""
    keys = [f"phone:+1555040{i}" for i in range(7)]
    for left, right in itertools.pairwise(keys):
        load.add("calls", 3, ts="2025-01-01 10:00", caller=left[6:], callee=right[6:], kind="voice")
    made = [judge(con, CASE, left, right, "unsure", author="a") for left, right in itertools.pairwise(keys)]
    assert [j.judgement_id for j in list_judgements(con, CASE)] == [j.judgement_id for j in made]


def test_a_judgement_id_cannot_be_recomputed_from_its_keys(con: duckdb.DuckDBPyConnection, load: Any) -> None:
    """Conflicts print judgement ids in ``analyze --json``; a plain hash of the pair let anyone who
    knew one key (a suspect's phone, shown) find the other (a victim's) by hashing candidates."""
    import hashlib

    _two_phones_one_name(load)
    made = judge(con, CASE, "phone:+15550101", "phone:+15550102", "not_same", author="analyst1")
    plain = hashlib.sha256(f"{CASE}|phone:+15550101|phone:+15550102".encode()).hexdigest()[:12]
    assert made.judgement_id != "jdg:" + plain
    # a pair judged under the old, plain id is replaced, not judged twice
    con.execute("UPDATE judgements SET judgement_id = ?", ["jdg:" + plain])
    judge(con, CASE, "phone:+15550102", "phone:+15550101", "same", author="analyst2")
    assert [(j.judgement_id, j.verdict) for j in list_judgements(con, CASE)] == [(made.judgement_id, "same")]


def test_a_judgement_made_under_a_plain_id_is_keyed_when_next_read(
    con: duckdb.DuckDBPyConnection, load: Any
) -> None:
    """A workspace from before keyed ids keeps its judgements; their ids are re-keyed on the next read,
    so no output prints an id that gives one key back from the other."""
    import hashlib

    _two_phones_one_name(load)
    made = judge(con, CASE, "phone:+15550101", "phone:+15550102", "not_same", author="analyst1")
    plain = "jdg:" + hashlib.sha256(f"{CASE}|phone:+15550101|phone:+15550102".encode()).hexdigest()[:12]
    con.execute("UPDATE judgements SET judgement_id = ?", [plain])
    assert [j.judgement_id for j in list_judgements(con, CASE)] == [made.judgement_id]
    assert con.execute("SELECT judgement_id FROM judgements").fetchall() == [(made.judgement_id,)]
