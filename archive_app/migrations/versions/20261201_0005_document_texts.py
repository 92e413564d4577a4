"""document texts: each document's extracted text, sealed under its data key

Revision ID: 0005_document_texts
Revises: 0004_index_queue
Create Date: 2026-12-01 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_document_texts"
down_revision = "0004_index_queue"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "document_texts",
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("sealed_text", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_texts_document_id_documents"),
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_document_texts")),
    )


def downgrade():
    op.drop_table("document_texts")
