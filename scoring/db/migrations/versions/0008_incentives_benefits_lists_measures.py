"""incentives benefits lists measures

Benefit quotas, citizen-card tokens, grants and their events, pay-later obligations; listings
(red, black, watch, serious-dishonesty) with national imports; checks on every application
(逢办必查) and the executing departments' feedback. See ``scoring/db/incentive_tables.py``.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "benefit_grant_events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("grant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefit_grant_events")),
    )
    op.create_index(
        op.f("ix_benefit_grant_events_grant_id"), "benefit_grant_events", ["grant_id"], unique=False
    )
    op.create_table(
        "benefit_grants",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("benefit_code", sa.String(length=48), nullable=False),
        sa.Column("catalogue_version", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("status_reason", sa.String(length=200), nullable=True),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("credit_line", sa.Float(), nullable=True),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefit_grants")),
        sa.UniqueConstraint("partner", "idempotency_key", name=op.f("uq_benefit_grants_partner")),
    )
    op.create_index("ix_benefit_grants_subject", "benefit_grants", ["subject_id", "id"], unique=False)
    op.create_table(
        "benefit_obligations",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("grant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("settled_at", sa.DateTime(), nullable=True),
        sa.Column("settlement_ref", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefit_obligations")),
        sa.UniqueConstraint("grant_id", name=op.f("uq_benefit_obligations_grant_id")),
    )
    op.create_index(
        "ix_benefit_obligations_subject", "benefit_obligations", ["subject_id", "status"], unique=False
    )
    op.create_table(
        "benefit_quotas",
        sa.Column("benefit_code", sa.String(length=48), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("benefit_code", name=op.f("pk_benefit_quotas")),
    )
    op.create_table(
        "citizen_card_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key_version", sa.String(length=8), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_citizen_card_tokens")),
        sa.UniqueConstraint("partner", "subject_id", name=op.f("uq_citizen_card_tokens_partner")),
    )
    op.create_table(
        "listing_import_rows",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("import_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_import_rows")),
    )
    op.create_index(
        op.f("ix_listing_import_rows_import_id"), "listing_import_rows", ["import_id"], unique=False
    )
    op.create_table(
        "listing_imports",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("source_name", sa.String(length=300), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("duplicate", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=128), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_imports")),
        sa.UniqueConstraint("file_sha256", name=op.f("uq_listing_imports_file_sha256")),
    )
    op.create_table(
        "listings",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("list_type", sa.String(length=24), nullable=False),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("department", sa.String(length=48), nullable=False),
        sa.Column("doc_no", sa.String(length=64), nullable=False),
        sa.Column("area", sa.String(length=80), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("proposed_by", sa.String(length=128), nullable=False),
        sa.Column("proposed_at", sa.DateTime(), nullable=False),
        sa.Column("verified_by", sa.String(length=128), nullable=True),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("published_by", sa.String(length=128), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("exited_by", sa.String(length=128), nullable=True),
        sa.Column("exited_at", sa.DateTime(), nullable=True),
        sa.Column("exit_commitment", sa.String(length=64), nullable=True),
        sa.Column("exit_reason", sa.Text(), nullable=True),
        sa.Column("record_uid", sa.String(length=32), nullable=True),
        sa.Column("import_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listings")),
        sa.UniqueConstraint(
            "list_type", "department", "doc_no", "subject_id", name=op.f("uq_listings_list_type")
        ),
    )
    op.create_index("ix_listings_subject", "listings", ["subject_id", "status"], unique=False)
    op.create_table(
        "measure_checks",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("scenario", sa.String(length=48), nullable=False),
        sa.Column("department", sa.String(length=48), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("catalogue_version", sa.String(length=32), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure_checks")),
    )
    op.create_index("ix_measure_checks_subject", "measure_checks", ["subject_id", "id"], unique=False)
    op.create_table(
        "measure_feedback",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("check_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("measure_code", sa.String(length=48), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("department", sa.String(length=48), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("exported_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure_feedback")),
        sa.UniqueConstraint("check_id", "measure_code", name=op.f("uq_measure_feedback_check_id")),
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_table("measure_feedback")
    op.drop_table("measure_checks")
    op.drop_table("listings")
    op.drop_table("listing_imports")
    op.drop_table("listing_import_rows")
    op.drop_table("citizen_card_tokens")
    op.drop_table("benefit_quotas")
    op.drop_table("benefit_obligations")
    op.drop_table("benefit_grants")
    op.drop_table("benefit_grant_events")
