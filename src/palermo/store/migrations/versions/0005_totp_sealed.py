"""``users.totp_sealed``: an account's TOTP secret is stored encrypted, no longer in plain text;
``master_key_state`` records which master key the workspace's keys are under.

The secret (the seed of the authenticator app) was in ``users.totp_secret`` as text, so a copied
database gave away everyone's second factor. It is now sealed with AES-256-GCM under a key derived
from the workspace master key, which lives outside the workspace (ASVS V13.3.1, SC-02). The
migration cannot seal existing secrets (it has no key); the account service seals a plain-text
secret the next time it reads it and empties ``totp_secret``, and ``Workspace.open`` does so for
every account at once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 08:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("totp_sealed", sa.LargeBinary(), nullable=True))
    # which master key the workspace's keys are under (filled in by the application, which has it)
    op.create_table(
        "master_key_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("master_key_state")
    # A sealed secret cannot be written back in plain text without the key: those accounts lose
    # their second factor on downgrade and must be enrolled again (palermo user totp).
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE users DROP COLUMN totp_sealed")  # in place: foreign keys forbid a rebuild
    else:
        op.drop_column("users", "totp_sealed")
