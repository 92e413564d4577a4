"""passwords and a second factor: full names, password dates, a forced change after an
admin's reset, TOTP secrets (sealed) and one-time recovery codes (keyed hashes)

Revision ID: 0016_passwords_totp
Revises: 0014_directory_accounts
Create Date: 2026-12-01 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_passwords_totp"
down_revision = "0014_directory_accounts"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, not a batch: SQLite's batch mode copies the table and would lose the
    # expression index on lower(username), which it cannot reflect.
    op.add_column("users", sa.Column("full_name", sa.String(length=128), nullable=True))
    op.add_column("users", sa.Column("password_changed_at", sa.DateTime(timezone=True),
                                     nullable=True))  # fmt: skip
    op.add_column("users", sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))  # fmt: skip
    op.add_column("users", sa.Column("totp_secret", sa.LargeBinary(), nullable=True))
    op.add_column("users", sa.Column("totp_pending", sa.LargeBinary(), nullable=True))
    op.add_column("users", sa.Column("totp_last_step", sa.Integer(), nullable=True))
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hmac", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_recovery_codes_user_id_users")
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"])


def downgrade():
    op.drop_index(op.f("ix_recovery_codes_user_id"), table_name="recovery_codes")
    op.drop_table("recovery_codes")
    for column in ("totp_last_step", "totp_pending", "totp_secret", "must_change_password",
                   "password_changed_at", "full_name"):  # fmt: skip
        op.drop_column("users", column)  # SQLite 3.35 and later drop columns in place
