"""search sets: the PostgreSQL search backend's document sets (roaring bitmaps of search_rows'
seq per term, facet value, clearance level, state and month), on PostgreSQL only

Revision ID: 0018_search_sets
Revises: 0015_search_rows
Create Date: 2026-12-02 01:00:00

An archive whose search table already has rows gets the table without its marker row
(`ready`): searches keep to the SQL statements until `archive reindex` fills the sets.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_search_sets"
down_revision = "0015_search_rows"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_table(
        "search_sets",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("members", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", "chunk", name=op.f("pk_search_sets")),
    )
    # Roaring bitmaps compress little: kept out of line uncompressed, read without inflating.
    op.execute("ALTER TABLE search_sets ALTER COLUMN members SET STORAGE EXTERNAL")
    op.execute(
        "INSERT INTO search_sets (kind, value, chunk, members) SELECT 'ready', '', 0,"
        " '\\x3a30000000000000'::bytea"  # an empty roaring bitmap, serialized
        " WHERE NOT EXISTS (SELECT 1 FROM search_rows)"
    )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_table("search_sets")
