"""Users remember the last TOTP time step they signed in with, so a code cannot be used twice.

RFC 6238 § 5.2: the verifier must not accept the second attempt of a one-time password after the
first succeeded. A code is valid for its 30-second step (and, with one step of drift allowed, the
neighbouring ones): without this column, a code seen over a shoulder or lifted from a proxy log
could sign in again within that minute and a half (security requirement IA-02, "a replayed TOTP:
rejected").

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 07:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite ≥ 3.35 drops a column in place; batch mode would rebuild ``users``, which foreign
        # keys from web_sessions and case_members forbid as soon as the workspace has been used
        op.execute("ALTER TABLE users DROP COLUMN totp_last_step")
    else:
        op.drop_column("users", "totp_last_step")
