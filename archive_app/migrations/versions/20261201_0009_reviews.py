"""reviews: signed quarterly and annual complaint reviews, kept beyond their dossiers

Revision ID: 0009_reviews
Revises: 0006_accounts
Create Date: 2026-12-01 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_reviews"
# The integrator chains the quality migrations (0007 calendar, 0008 fields) before this one.
down_revision = "0006_accounts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reviews",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("dataset", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reviews_period", "reviews", ["period"])
    op.create_index("ix_reviews_issued_at", "reviews", ["issued_at"])


def downgrade():
    op.drop_index("ix_reviews_issued_at", table_name="reviews")
    op.drop_index("ix_reviews_period", table_name="reviews")
    op.drop_table("reviews")
