"""``users.failures_since``: the start of the failure-counting window gets a column of its own.

Until now ``users.locked_until`` did two jobs: ``LOCKED_FOREVER`` while an account was locked, and,
while failures were being counted, the start of the 15-minute window, a past time that
``is_locked`` read as "not locked". Besides being hard to read, that made the account look locked
whenever the clock stood behind the stored window start (a clock stepped back by NTP, a sign-in
checked with an earlier ``now``). Existing window starts move to the new column.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 07:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: Anything before this year in ``locked_until`` was a window start, not a lock (locks are 9999-12-31).
LOCK_YEAR = "9999-01-01"


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("failures_since", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE users SET failures_since = locked_until, locked_until = NULL "
        f"WHERE locked_until IS NOT NULL AND locked_until < '{LOCK_YEAR}'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE users SET locked_until = failures_since "
        "WHERE locked_until IS NULL AND failures_since IS NOT NULL"
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE users DROP COLUMN failures_since")  # in place: foreign keys forbid a rebuild
    else:
        op.drop_column("users", "failures_since")
