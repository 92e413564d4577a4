"""workday overrides: the admin's additions to mainland China's working-day calendar

Revision ID: 0007_workday_overrides
Revises: 0006_accounts
Create Date: 2026-12-01 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_workday_overrides"
down_revision = "0006_accounts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "workday_years",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("loaded_by", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_workday_years")),
    )
    op.create_table(
        "workday_overrides",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("loaded_by", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_workday_overrides")),
    )


def downgrade():
    op.drop_table("workday_overrides")
    op.drop_table("workday_years")
