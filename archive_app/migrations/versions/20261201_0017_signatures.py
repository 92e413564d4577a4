"""signatures: electronic signatures of approvals, releases, corrections and reviews; the
signed-off access reviews; a review's approval

Revision ID: 0017_signatures
Revises: 0016_passwords_totp
Create Date: 2026-12-01 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_signatures"
# The brief names 0009_reviews; chained after this branch's head (0014_directory_accounts,
# itself after 0009_reviews) so that there is one head. The integrator re-chains.
down_revision = "0016_passwords_totp"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "signatures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("signer", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("meaning", sa.String(length=32), nullable=False),
        sa.Column("record_kind", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
    )
    op.create_index("ix_signatures_signer", "signatures", ["signer"])
    op.create_index("ix_signatures_record", "signatures", ["record_kind", "record_id"])
    op.create_table(
        "access_reviews",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    )
    op.create_index("ix_access_reviews_reviewed_at", "access_reviews", ["reviewed_at"])
    op.add_column("reviews", sa.Column("approved_by", sa.String(length=64), nullable=True))
    op.add_column("reviews", sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("approved_at")
        batch.drop_column("approved_by")
    op.drop_index("ix_access_reviews_reviewed_at", table_name="access_reviews")
    op.drop_table("access_reviews")
    op.drop_index("ix_signatures_record", table_name="signatures")
    op.drop_index("ix_signatures_signer", table_name="signatures")
    op.drop_table("signatures")
