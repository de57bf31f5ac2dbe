"""``leads.import_ids``, ``leads.flag`` and ``leads.flagged_at``: a lead knows which imports supported
it, and an accepted lead whose evidence was removed says so until a person has looked at it again.

``palermo ingest forget`` removes one import's rows from the analytics. A lead proposed from those
rows used to stay "proposed" (waiting for a review of evidence that no longer exists), and an
accepted one stayed in the proof matrix as if nothing had happened. With the imports behind each
lead recorded, forgetting withdraws the leads that lose all their support and flags the accepted
ones that lose any (decision 0007). Leads made before this revision have no ``import_ids``; their
support is judged by their exhibits instead (see ``palermo.store.leads``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = ("flagged_at", "flag", "import_ids")


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("import_ids", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("flag", sa.Text(), nullable=True))
        batch.add_column(sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # a withdrawn lead keeps its status text ("withdrawn") and reason: older code lists it but
    # cannot accept or reject it, which is what withdrawal means. Flags not yet confirmed are lost
    # with their column (the lead.flag audit records remain): decision 0007 says to confirm or note
    # them first. Nothing else of this revision is stored elsewhere (``detail.import_evidence`` is
    # kept in the lead's detail and is harmless to older code).
    if op.get_bind().dialect.name == "sqlite":
        for column in COLUMNS:  # in place: proof_links' foreign key forbids rebuilding ``leads``
            op.execute(f"ALTER TABLE leads DROP COLUMN {column}")
    else:
        for column in COLUMNS:
            op.drop_column("leads", column)
