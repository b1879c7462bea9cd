"""published scores and snapshots

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "score_snapshots",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("known_at", sa.DateTime(), nullable=False),
        sa.Column("model_name", sa.String(64)),
        sa.Column("model_version", sa.String(16)),
        sa.Column("registry_version", sa.String(64), nullable=False),
        sa.Column("feature_names", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("published_at", sa.DateTime()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_snapshots")),
    )
    op.create_table(
        "score_publications",
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("snapshot_id", BigId, nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject_type", name=op.f("pk_score_publications")),
    )
    op.create_table(
        "scores",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("snapshot_id", BigId, nullable=False),
        sa.Column("subject_id", BigId, nullable=False),
        sa.Column("subject_type", sa.String(24), nullable=False),
        sa.Column("origin", sa.String(8), nullable=False),
        sa.Column("cause", sa.String(200)),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("pd", sa.Float()),
        sa.Column("score", sa.SmallInteger()),
        sa.Column("grade", sa.String(20)),
        sa.Column("model_grade", sa.String(4)),
        sa.Column("downgrades", sa.String(200)),
        sa.Column("flags", sa.String(200)),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("known_at", sa.DateTime(), nullable=False),
        sa.Column("model_version", sa.String(16)),
        sa.Column("registry_version", sa.String(64), nullable=False),
        sa.Column("feature_hash", sa.String(64), nullable=False),
        sa.Column("features", sa.Text(), nullable=False),
        sa.Column("feature_names", sa.Text()),
        sa.Column("contributions", sa.Text()),
        sa.Column("reasons_lowering", sa.Text()),
        sa.Column("reasons_raising", sa.Text()),
        sa.Column("scored_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scores")),
    )
    op.create_index("ix_scores_subject_snapshot", "scores", ["subject_id", "snapshot_id", "id"])
    op.create_index(op.f("ix_scores_snapshot_id"), "scores", ["snapshot_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_scores_snapshot_id"), table_name="scores")
    op.drop_index("ix_scores_subject_snapshot", table_name="scores")
    op.drop_table("scores")
    op.drop_table("score_publications")
    op.drop_table("score_snapshots")
