"""bank assessments

Credit-loan assessments answered to banks, with their idempotency keys.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bank_assessments",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("bank", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(128)),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("subject_id", BigId, nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("consent_id", BigId, nullable=False),
        sa.Column("score_id", BigId),
        sa.Column("model_version", sa.String(16)),
        sa.Column("suggested_limit", sa.Float()),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("request_id", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_assessments")),
        sa.UniqueConstraint("bank", "idempotency_key", name="uq_bank_assessments_bank_key"),
    )
    op.create_index("ix_bank_assessments_subject", "bank_assessments", ["subject_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_bank_assessments_subject", table_name="bank_assessments")
    op.drop_table("bank_assessments")
