"""Entity and hit ids are keyed per workspace: stable there, and not recomputable from a guessed number."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import duckdb
import pytest

from palermo.analytics.analysis import analyze
from palermo.analytics.ids import id_key, keyed, keyed_sql
from palermo.ingest.schema import create_schema

from .conftest import CASE, Loader


def _case(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    create_schema(con)
    load = Loader(con)
    for i in range(4):
        load.add("calls", 4, ts=f"2025-01-0{i + 1} 10:00:00", caller="+13055550111", callee="+13055550122")
        load.add("calls", 4, ts=f"2025-01-0{i + 1} 11:00:00", caller="+13055550122", callee="+17865550133")
    analyze(con, CASE)
    return con


def _entities(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """first member key → entity id."""
    rows = con.execute(
        "SELECT min(member_key), entity_id FROM entity_members WHERE case_ref = ? AND kind <> 'name' "
        "GROUP BY entity_id",
        [CASE],
    ).fetchall()
    return {str(k): str(e) for k, e in rows}


def test_the_sql_and_the_python_keyed_hash_agree(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "a.duckdb"))
    key = id_key(con)
    got = con.execute(f"SELECT {keyed_sql('k', '$t')}", {"k": key, "t": "phone:+13055550111"}).fetchone()
    assert got == (keyed(key, "phone:+13055550111"),) and len(key) == 32


def test_an_entity_id_cannot_be_recomputed_from_its_phone_number(tmp_path: Path) -> None:
    con = _case(tmp_path / "a.duckdb")
    entities = _entities(con)
    assert len(entities) == 3
    for first, entity_id in entities.items():
        assert entity_id != "ent:" + hashlib.sha1(first.encode()).hexdigest()[:10]
        assert entity_id == "ent:" + keyed(id_key(con), first)[:10]


def test_ids_are_stable_in_a_workspace_and_differ_between_workspaces(tmp_path: Path) -> None:
    con = _case(tmp_path / "a.duckdb")
    before = _entities(con)
    analyze(con, CASE)
    assert _entities(con) == before
    other = _case(tmp_path / "b.duckdb")
    assert set(_entities(other)) == set(before)
    assert set(_entities(other).values()).isdisjoint(before.values())


@pytest.mark.parametrize("trial", range(5))
def test_connections_creating_the_key_at_once_agree_on_one(tmp_path: Path, trial: int) -> None:
    """The analysis reads on a second connection while it writes on the first: both need one key."""
    con = duckdb.connect(str(tmp_path / f"a{trial}.duckdb"))
    cursors = [con.cursor() for _ in range(4)]
    start = threading.Barrier(len(cursors))
    keys: list[str] = []
    errors: list[BaseException] = []

    def take(cursor: duckdb.DuckDBPyConnection) -> None:
        start.wait()
        try:
            keys.append(id_key(cursor))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(c,)) for c in cursors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(keys) == len(cursors) and len(set(keys)) == 1
    assert id_key(con) == keys[0]
