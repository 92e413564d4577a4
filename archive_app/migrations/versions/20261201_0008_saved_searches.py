"""saved searches: a user's named search-page query strings

Revision ID: 0008_saved_searches
Revises: 0013_document_previews
Create Date: 2026-12-01 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_saved_searches"
down_revision = "0013_document_previews"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("query_string", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
    )
    op.create_index(op.f("ix_saved_searches_username"), "saved_searches", ["username"])


def downgrade():
    op.drop_index(op.f("ix_saved_searches_username"), table_name="saved_searches")
    op.drop_table("saved_searches")
