"""``users.active_since``: when an account was last created or re-enabled.

Accounts not signed in to for 90 days are disabled (CJIS AC-2(3), requirement AC-09). The clock starts
at the newest of the account's creation, its last sign-in and this column: without it, an account an
administrator re-enabled after a long absence would be disabled again at its very next sign-in
attempt, since its last sign-in is still months old. Existing accounts start empty (creation and last
sign-in decide).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 12:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("active_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE users DROP COLUMN active_since")  # in place: foreign keys forbid a rebuild
    else:
        op.drop_column("users", "active_since")
