"""reviews: signed quarterly and annual complaint reviews, kept beyond their dossiers

Revision ID: 0009_reviews
Revises: 0008_quality_fields
Create Date: 2026-12-01 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_reviews"
# After main's head (previews, on the calendar) so this branch has one head; the integrator
# chains 0008 (the quality fields) in at merge time.
down_revision = "0008_quality_fields"
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
