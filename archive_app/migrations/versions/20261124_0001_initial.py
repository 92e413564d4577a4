"""dossiers, documents, users, tokens, access log

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-24 21:45:32.005687
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "access_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("dossier_id", sa.String(length=32), nullable=True),
        sa.Column("complaint_no", sa.String(length=32), nullable=True),
        sa.Column("document_id", sa.String(length=32), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_access_log")),
    )
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_log_dossier_id"), ["dossier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_log_username"), ["username"], unique=False)

    op.create_table(
        "access_log_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log_head")),
    )
    op.create_table(
        "dossiers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("complaint_no", sa.String(length=32), nullable=False),
        sa.Column("complaint_class", sa.String(length=3), nullable=False),
        sa.Column("complaint_type", sa.String(length=32), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("department", sa.String(length=128), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.Column("capa_ref", sa.String(length=64), nullable=True),
        sa.Column("confidentiality", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("customer_name_enc", sa.LargeBinary(), nullable=True),
        sa.Column("customer_name_hmac", sa.String(length=64), nullable=True),
        sa.Column("customer_organization_enc", sa.LargeBinary(), nullable=True),
        sa.Column("customer_organization_hmac", sa.String(length=64), nullable=True),
        sa.Column("customer_phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("customer_phone_hmac", sa.String(length=64), nullable=True),
        sa.Column("customer_address_enc", sa.LargeBinary(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("destroy_after", sa.Date(), nullable=False),
        sa.Column("retention_rule", sa.String(length=64), nullable=False),
        sa.Column("retention_rule_version", sa.Integer(), nullable=False),
        sa.Column("retention_derivation", sa.Text(), nullable=False),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossiers")),
        sa.UniqueConstraint("complaint_no", name=op.f("uq_dossiers_complaint_no")),
    )
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dossiers_customer_name_hmac"), ["customer_name_hmac"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dossiers_customer_organization_hmac"),
            ["customer_organization_hmac"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_dossiers_customer_phone_hmac"), ["customer_phone_hmac"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dossiers_destroy_after"), ["destroy_after"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dossiers_received_on"), ["received_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_dossiers_state"), ["state"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("clearance", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "documents",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("dossier_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("cipher_sha256", sa.String(length=64), nullable=True),
        sa.Column("cipher_size", sa.BigInteger(), nullable=True),
        sa.Column("storage_name", sa.String(length=128), nullable=True),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("kek_version", sa.Integer(), nullable=True),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossiers.id"], name=op.f("fk_documents_dossier_id_dossiers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_documents_storage_name")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_dossier_id"), ["dossier_id"], unique=False)

    op.create_table(
        "product_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("specification", sa.String(length=255), nullable=True),
        sa.Column("batch_no", sa.String(length=64), nullable=False),
        sa.Column("expiry", sa.String(length=10), nullable=True),
        sa.Column("manufacturer", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossiers.id"], name=op.f("fk_product_lines_dossier_id_dossiers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_lines")),
    )
    with op.batch_alter_table("product_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_lines_batch_no"), ["batch_no"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_product_lines_dossier_id"), ["dossier_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("product_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_lines_dossier_id"))
        batch_op.drop_index(batch_op.f("ix_product_lines_batch_no"))

    op.drop_table("product_lines")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_dossier_id"))

    op.drop_table("documents")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossiers_state"))
        batch_op.drop_index(batch_op.f("ix_dossiers_received_on"))
        batch_op.drop_index(batch_op.f("ix_dossiers_destroy_after"))
        batch_op.drop_index(batch_op.f("ix_dossiers_customer_phone_hmac"))
        batch_op.drop_index(batch_op.f("ix_dossiers_customer_organization_hmac"))
        batch_op.drop_index(batch_op.f("ix_dossiers_customer_name_hmac"))

    op.drop_table("dossiers")
    op.drop_table("access_log_head")
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_log_username"))
        batch_op.drop_index(batch_op.f("ix_access_log_dossier_id"))
        batch_op.drop_index(batch_op.f("ix_access_log_at"))
        batch_op.drop_index(batch_op.f("ix_access_log_action"))

    op.drop_table("access_log")
