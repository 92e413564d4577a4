"""quality fields: the handling timeline, supplier, ADR, recall, QP and regulator references
on dossiers; a product line's role (contract §8)

Revision ID: 0008_quality_fields
Revises: 0008_saved_searches
Create Date: 2026-12-01 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_quality_fields"
down_revision = "0008_saved_searches"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("dossiers") as table:
        table.add_column(sa.Column("timeline", sa.JSON(), nullable=True))
        table.add_column(sa.Column("supplier", sa.String(length=255), nullable=True))
        table.add_column(sa.Column("adr_report_no", sa.String(length=64), nullable=True))
        table.add_column(sa.Column("recall_no", sa.String(length=64), nullable=True))
        table.add_column(sa.Column("qp_notified_on", sa.Date(), nullable=True))
        table.add_column(sa.Column("regulator_report", sa.JSON(), nullable=True))
    with op.batch_alter_table("product_lines") as table:
        # Every line filed before named the batch complained about.
        table.add_column(sa.Column("role", sa.String(length=16), nullable=False,
                                   server_default="complained"))  # fmt: skip


def downgrade():
    with op.batch_alter_table("product_lines") as table:
        table.drop_column("role")
    with op.batch_alter_table("dossiers") as table:
        for name in ("regulator_report", "qp_notified_on", "recall_no", "adr_report_no",
                     "supplier", "timeline"):  # fmt: skip
            table.drop_column(name)
