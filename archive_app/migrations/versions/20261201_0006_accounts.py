"""accounts: user names unique whatever their case; web sessions kept on the server

Revision ID: 0006_accounts
Revises: 0005_document_texts
Create Date: 2026-12-01 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_accounts"
down_revision = "0005_document_texts"
branch_labels = None
depends_on = None


def upgrade():
    # Grouped here, not in SQL: white space (`admin\n` beside `admin`) is trimmed the same way
    # on SQLite and PostgreSQL only in Python.
    names = op.get_bind().execute(sa.text("SELECT username FROM users")).scalars().all()
    seen: dict[str, list[str]] = {}
    for name in names:
        seen.setdefault(name.strip().lower(), []).append(name)
    clashes = sorted(repr(key) for key, group in seen.items() if len(group) > 1)
    if clashes:
        # Which account is the real one is for a person to decide, not a migration.
        raise RuntimeError(
            "user names that differ only in letter case or surrounding white space must be "
            f"merged or renamed before this upgrade (they would be one name from now on): "
            f"{', '.join(clashes)}"
        )
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")],
                    unique=True)  # fmt: skip
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sid_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users")
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("sid_sha256", name=op.f("uq_web_sessions_sid_sha256")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"])
    op.create_index(op.f("ix_web_sessions_created_at"), "web_sessions", ["created_at"])


def downgrade():
    op.drop_index(op.f("ix_web_sessions_created_at"), table_name="web_sessions")
    op.drop_index(op.f("ix_web_sessions_user_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index("uq_users_username_lower", table_name="users")
