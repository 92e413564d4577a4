"""durable index queue: dossiers committed but not yet written to the search index

Revision ID: 0004_index_queue
Revises: 0003_retention_keys
Create Date: 2026-11-30 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_index_queue"
down_revision = "0003_retention_keys"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "index_queue",
        sa.Column("dossier_id", sa.String(length=32), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dossier_id", name=op.f("pk_index_queue")),
    )


def downgrade():
    op.drop_table("index_queue")
