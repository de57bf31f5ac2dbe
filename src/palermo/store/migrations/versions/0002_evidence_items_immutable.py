"""Exhibit records become immutable: only the custody head and count may move, and only forward.

An exhibit's acquisition record (digest, size, source, who acquired it and when, with what tool)
is what a court certification rests on; nothing in Palermo changes it after import. The custody
verification catches a rewritten record by comparing it with the hash-chained 'received' event;
these triggers make the rewrite itself take a deliberate act of the database owner, as the
append-only triggers of revision 0001 do for custody and audit events. They also refuse rolling
the custody count back (which would hide a removed tail) and deleting an exhibit.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 03:55:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: Columns fixed at acquisition. ``custody_head`` and ``custody_count`` are the only others.
FIXED = (
    "case_id",
    "sha256",
    "size",
    "original_filename",
    "media_type",
    "source",
    "acquired_by",
    "acquired_at",
    "tool",
    "tool_version",
    "description",
    "created_at",
)
MESSAGE = "evidence_items: only custody_head and custody_count may change, and the count only upward"
UPDATE_TRIGGER = "evidence_items_fixed"
DELETE_TRIGGER = "evidence_items_no_delete"


def _changed() -> str:
    """SQL that is true when an UPDATE touches a fixed column or lowers the custody count."""
    fixed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in FIXED)
    return f"{fixed} OR NEW.custody_count < OLD.custody_count"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # SQLite spells IS DISTINCT FROM as IS NOT (both treat NULLs as comparable values).
        when = _changed().replace(" IS DISTINCT FROM ", " IS NOT ")
        op.execute(
            f"CREATE TRIGGER {UPDATE_TRIGGER} BEFORE UPDATE ON evidence_items WHEN {when} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
        op.execute(
            f"CREATE TRIGGER {DELETE_TRIGGER} BEFORE DELETE ON evidence_items "
            "BEGIN SELECT RAISE(ABORT, 'evidence_items: an exhibit is never deleted'); END"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION palermo_evidence_fixed() RETURNS trigger AS $$ BEGIN "
            "IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'evidence_items: an exhibit is never deleted'; END IF; "
            f"IF {_changed()} THEN RAISE EXCEPTION '{MESSAGE}'; END IF; "
            "RETURN NEW; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE TRIGGER {UPDATE_TRIGGER} BEFORE UPDATE ON evidence_items "
            "FOR EACH ROW EXECUTE FUNCTION palermo_evidence_fixed()"
        )
        op.execute(
            f"CREATE TRIGGER {DELETE_TRIGGER} BEFORE DELETE ON evidence_items "
            "FOR EACH ROW EXECUTE FUNCTION palermo_evidence_fixed()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in (UPDATE_TRIGGER, DELETE_TRIGGER):
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON evidence_items")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS palermo_evidence_fixed()")
