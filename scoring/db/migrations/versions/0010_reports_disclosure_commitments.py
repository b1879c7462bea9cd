"""credit reports and credit commitments

Issued credit reports (number, subject, audience, content digest, integrity code) and signed
credit commitments with their fulfilment. The public disclosure feed reads the records store.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "credit_reports",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("subject_id", BigId, nullable=False),
        sa.Column("audience", sa.String(16), nullable=False),
        sa.Column("content_digest", sa.String(64), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issued_to", sa.String(96), nullable=False),
        sa.Column("purpose", sa.String(48), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_reports")),
        sa.UniqueConstraint("number", name=op.f("uq_credit_reports_number")),
    )
    op.create_index("ix_credit_reports_subject", "credit_reports", ["subject_id", "issued_at"])
    op.create_table(
        "credit_commitments",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("commitment_no", sa.String(40), nullable=False),
        sa.Column("subject_id", BigId, nullable=False),
        sa.Column("item", sa.String(48), nullable=False),
        sa.Column("template_version", sa.String(16), nullable=False),
        sa.Column("department", sa.String(48), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("signed_by", sa.String(96), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("decided_on", sa.Date()),
        sa.Column("decided_by", sa.String(96)),
        sa.Column("decision_note", sa.Text()),
        sa.Column("record_uid", sa.String(32)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_commitments")),
        sa.UniqueConstraint("commitment_no", name=op.f("uq_credit_commitments_commitment_no")),
    )
    op.create_index("ix_credit_commitments_subject", "credit_commitments", ["subject_id", "signed_at"])
    op.create_index(
        op.f("ix_credit_commitments_department"), "credit_commitments", ["department"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_credit_commitments_department"), table_name="credit_commitments")
    op.drop_index("ix_credit_commitments_subject", table_name="credit_commitments")
    op.drop_table("credit_commitments")
    op.drop_index("ix_credit_reports_subject", table_name="credit_reports")
    op.drop_table("credit_reports")
