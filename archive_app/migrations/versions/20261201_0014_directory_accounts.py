"""directory accounts: each user's source, local (argon2 here) or directory (LDAP sign-in)

Revision ID: 0014_directory_accounts
Revises: 0009_reviews
Create Date: 2026-12-01 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_directory_accounts"
# Chained after the newest migration in main (0013 follows 0007_workday_overrides): one head.
down_revision = "0009_reviews"
branch_labels = None
depends_on = None


def upgrade():
    # Every account that exists was made by hand: local.
    op.add_column(
        "users",
        sa.Column("source", sa.String(length=16), nullable=False, server_default="local"),
    )


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("source")
