"""search rows: the PostgreSQL search backend's table (tsvectors, GIN indexes), on PostgreSQL only

Revision ID: 0015_search_rows
Revises: 0017_signatures
Create Date: 2026-12-01 19:00:00

SQLite has no tsvector: there the Whoosh index is the only backend and no table is made.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision = "0015_search_rows"
down_revision = "0017_signatures"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE SEQUENCE search_rows_seq")
    op.create_table(
        "search_rows",
        sa.Column("dossier_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("complaint_no", sa.String(length=32), nullable=False),
        sa.Column("batch_nos", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("product_names", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("complaint_class", sa.String(length=3), nullable=False),
        sa.Column("complaint_type", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("confidentiality", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("product", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("meta_terms", TSVECTOR(), nullable=False),
        sa.Column("text_terms", TSVECTOR(), nullable=False),
        sa.PrimaryKeyConstraint("dossier_id", name=op.f("pk_search_rows")),
    )
    for name, column in (("meta_terms", "meta_terms"), ("text_terms", "text_terms"),
                         ("batch_nos", "batch_nos")):  # fmt: skip
        op.create_index(f"ix_search_rows_{name}", "search_rows", [column],
                        postgresql_using="gin")  # fmt: skip
    for column in ("complaint_no", "received_on", "seq"):
        op.create_index(f"ix_search_rows_{column}", "search_rows", [column])


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_table("search_rows")
    op.execute("DROP SEQUENCE search_rows_seq")
