"""holds, retention runs, certificates, lease

Revision ID: 0002_retention
Revises: 0001_initial
Create Date: 2026-11-24 22:48:56.873360
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_retention"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "certificates",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("position", name=op.f("uq_certificates_position")),
    )
    op.create_table(
        "retention_lease",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_lease")),
    )
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("destroyed", sa.JSON(), nullable=False),
        sa.Column("skipped_held", sa.JSON(), nullable=False),
        sa.Column("certificate_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_runs")),
    )
    op.create_table(
        "holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(length=64), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.String(length=64), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossiers.id"], name=op.f("fk_holds_dossier_id_dossiers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
    )
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_holds_dossier_id"), ["dossier_id"], unique=False)

    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("certificate_id", sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_column("certificate_id")

    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_holds_dossier_id"))

    op.drop_table("holds")
    op.drop_table("retention_runs")
    op.drop_table("retention_lease")
    op.drop_table("certificates")
