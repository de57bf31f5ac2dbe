"""Ids of entities and indicator hits: stable inside a workspace, meaningless outside it.

An entity's id is what every output uses to name it (``ent:…``) and its pseudonym is the id's last six
characters (``possible victim 79ec86``). Both used to be a plain SHA-1 of the entity's smallest
identifier (``phone:+19735559735``), so anyone holding a redacted export could hash every phone
number of an area code and read the victims' numbers back from the ids: a review measured eight of
ten possible victims recovered in a minute on one core. A hit's id was the same kind of hash of its
subject (a phone, an account).

Ids are now hashed with a key of the workspace: 128 random bits kept in ``analytics_meta`` inside
the analytics database (which holds the identifiers themselves, so the key protects nothing there
that is not already in it), created on first use and never exported. Ids stay stable from one
analysis to the next, so leads, explanations and bookmarks keep pointing at the same items, but
cannot be recomputed from a guess without the key. The construction is SHA-256 over key, a
separator and the text (computable in DuckDB's SQL as in Python); the key is secret and of fixed
length, so this is a keyed hash for which only preimages matter, never forgery.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

import duckdb

_META = "CREATE TABLE IF NOT EXISTS analytics_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)"


def id_key(con: Any) -> str:
    """The workspace's id key (hex), created on first use; every connection reads the same one.

    Two connections creating it at once conflict in DuckDB (a write-write conflict or a duplicate
    key, whoever commits second); the loser reads the winner's key, so both go on with one key.
    """
    for attempt in range(5):
        try:
            con.execute(_META)
            row = con.execute("SELECT value FROM analytics_meta WHERE key = 'id_key'").fetchone()
            if row is None:
                con.execute(
                    "INSERT OR IGNORE INTO analytics_meta VALUES ('id_key', ?)", [secrets.token_hex(16)]
                )
                row = con.execute("SELECT value FROM analytics_meta WHERE key = 'id_key'").fetchone()
            if row is not None:
                return str(row[0])
        except duckdb.Error:
            if attempt == 4:
                raise
        time.sleep(0.01 * (attempt + 1))
    raise RuntimeError("the analytics database gave no id key")  # unreachable in practice


def keyed_sql(key_param: str, text_sql: str) -> str:
    """SQL for the keyed hash of ``text_sql`` (hex), the key given as the named parameter ``key_param``."""
    return f"sha256(${key_param} || '|' || {text_sql})"


def keyed(key: str, text: str) -> str:
    """The keyed hash of ``text`` (hex), equal to :func:`keyed_sql` computed in DuckDB."""
    return hashlib.sha256(f"{key}|{text}".encode()).hexdigest()


__all__ = ["id_key", "keyed", "keyed_sql"]
