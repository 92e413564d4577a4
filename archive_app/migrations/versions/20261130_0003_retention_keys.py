"""retention-bucket keys, holds by query, EU GMP certification dates, approvals, corrections

Revision ID: 0003_retention_keys
Revises: 0002_retention
Create Date: 2026-11-30 16:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_retention_keys"
down_revision = "0002_retention"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_bucket", sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f("ix_documents_key_bucket"), ["key_bucket"])
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_bucket", sa.String(length=16), nullable=True))
    with op.batch_alter_table("product_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("certified_on", sa.Date(), nullable=True))
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.alter_column("dossier_id", existing_type=sa.String(length=32), nullable=True)
        batch_op.add_column(sa.Column("product_name", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("batch_no", sa.String(length=64), nullable=True))
    op.create_table(
        "retention_proposals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dossier_ids", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_proposals")),
    )
    op.create_table(
        "dossier_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.String(length=32), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossiers.id"], name=op.f("fk_dossier_corrections_dossier_id_dossiers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_corrections")),
    )
    with op.batch_alter_table("dossier_corrections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dossier_corrections_dossier_id"), ["dossier_id"])


def downgrade():
    op.drop_table("dossier_corrections")
    op.drop_table("retention_proposals")
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_column("batch_no")
        batch_op.drop_column("product_name")
        batch_op.alter_column("dossier_id", existing_type=sa.String(length=32), nullable=False)
    with op.batch_alter_table("product_lines", schema=None) as batch_op:
        batch_op.drop_column("certified_on")
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_column("key_bucket")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_key_bucket"))
        batch_op.drop_column("key_bucket")
