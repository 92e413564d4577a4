"""document previews: each document's preview (PNG), sealed under its data key

Revision ID: 0013_document_previews
Revises: 0007_workday_overrides
Create Date: 2026-12-01 18:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_document_previews"
down_revision = "0007_workday_overrides"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "document_previews",
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("sealed_png", sa.LargeBinary(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_previews_document_id_documents"),
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_document_previews")),
    )


def downgrade():
    op.drop_table("document_previews")
