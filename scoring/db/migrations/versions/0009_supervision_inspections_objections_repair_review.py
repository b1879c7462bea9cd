"""supervision inspections objections repair review

Inspectors and their exclusions, published random inspection plans and their results,
objections, credit-repair applications and score reviews (scoring/db/rights_tables.py).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:
    return sa.Column("id", _ID, autoincrement=True, nullable=False)


def upgrade() -> None:
    op.create_table(
        "inspectors",
        _id(),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("department", sa.String(length=48), nullable=False),
        sa.Column("sectors", sa.String(length=400), nullable=False),
        sa.Column("person_key", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspectors")),
        sa.UniqueConstraint("code", name=op.f("uq_inspectors_code")),
    )
    op.create_table(
        "inspector_exclusions",
        _id(),
        sa.Column("inspector_id", _ID, nullable=False),
        sa.Column("org_code", sa.String(length=18), nullable=False),
        sa.Column("relation", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspector_id"], ["inspectors.id"], name=op.f("fk_inspector_exclusions_inspector_id_inspectors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspector_exclusions")),
    )
    with op.batch_alter_table("inspector_exclusions", schema=None) as batch_op:
        batch_op.create_index("ix_inspector_exclusions_inspector_org", ["inspector_id", "org_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspector_exclusions_org_code"), ["org_code"], unique=False)

    op.create_table(
        "inspection_plans",
        _id(),
        sa.Column("plan_no", sa.String(length=64), nullable=False),
        sa.Column("department", sa.String(length=48), nullable=False),
        sa.Column("sector", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("plan_date", sa.Date(), nullable=False),
        sa.Column("algorithm", sa.String(length=32), nullable=False),
        sa.Column("seed", sa.String(length=128), nullable=False),
        sa.Column("seed_source", sa.String(length=200), nullable=True),
        sa.Column("ratios", sa.Text(), nullable=False),
        sa.Column("inspectors_per_check", sa.SmallInteger(), nullable=False),
        sa.Column("snapshot_id", _ID, nullable=True),
        sa.Column("max_score_id", _ID, nullable=True),
        sa.Column("population", sa.LargeBinary(), nullable=False),
        sa.Column("roster", sa.LargeBinary(), nullable=False),
        sa.Column("conflicts", sa.LargeBinary(), nullable=False),
        sa.Column("selection", sa.LargeBinary(), nullable=False),
        sa.Column("population_digest", sa.String(length=64), nullable=False),
        sa.Column("roster_digest", sa.String(length=64), nullable=False),
        sa.Column("conflicts_digest", sa.String(length=64), nullable=False),
        sa.Column("selection_digest", sa.String(length=64), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_plans")),
        sa.UniqueConstraint("plan_no", name=op.f("uq_inspection_plans_plan_no")),
    )
    op.create_table(
        "inspection_results",
        _id(),
        sa.Column("plan_id", _ID, nullable=False),
        sa.Column("org_code", sa.String(length=18), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("record_uid", sa.String(length=32), nullable=True),
        sa.Column("reported_by", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["inspection_plans.id"], name=op.f("fk_inspection_results_plan_id_inspection_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_results")),
        sa.UniqueConstraint("plan_id", "org_code", name=op.f("uq_inspection_results_plan_id")),
    )
    op.create_table(
        "objections",
        _id(),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("record_uid", sa.String(length=32), nullable=False),
        sa.Column("record_version", sa.SmallInteger(), nullable=False),
        sa.Column("department", sa.String(length=48), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("filed_by", sa.String(length=128), nullable=False),
        sa.Column("filed_at", sa.DateTime(), nullable=False),
        sa.Column("mark_due", sa.Date(), nullable=False),
        sa.Column("decide_due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("marked_at", sa.DateTime(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("score_before_id", _ID, nullable=True),
        sa.Column("score_after_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_objections_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objections")),
    )
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.create_index("ix_objections_subject", ["subject_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_objections_record_uid"), ["record_uid"], unique=False)

    op.create_table(
        "repair_applications",
        _id(),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("record_uid", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("department", sa.String(length=48), nullable=False),
        sa.Column("proof", sa.Text(), nullable=False),
        sa.Column("commitment", sa.Text(), nullable=False),
        sa.Column("applied_by", sa.String(length=128), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=False),
        sa.Column("eligible_from", sa.Date(), nullable=False),
        sa.Column("accept_due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.Column("accept_by", sa.String(length=128), nullable=True),
        sa.Column("accept_reason", sa.Text(), nullable=True),
        sa.Column("complex", sa.Boolean(), nullable=False),
        sa.Column("result_due", sa.Date(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("false_materials", sa.Boolean(), nullable=False),
        sa.Column("score_before_id", _ID, nullable=True),
        sa.Column("score_after_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_repair_applications_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_applications")),
    )
    with op.batch_alter_table("repair_applications", schema=None) as batch_op:
        batch_op.create_index("ix_repair_applications_subject", ["subject_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_repair_applications_record_uid"), ["record_uid"], unique=False)

    op.create_table(
        "score_reviews",
        _id(),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("score_id", _ID, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reviewer", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("fixed_records", sa.Text(), nullable=True),
        sa.Column("new_score_id", _ID, nullable=True),
        sa.Column("score_before", sa.Integer(), nullable=True),
        sa.Column("score_after", sa.Integer(), nullable=True),
        sa.Column("grade_before", sa.String(length=20), nullable=True),
        sa.Column("grade_after", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_score_reviews_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_reviews")),
    )
    with op.batch_alter_table("score_reviews", schema=None) as batch_op:
        batch_op.create_index("ix_score_reviews_subject", ["subject_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("score_reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_score_reviews_subject")
    op.drop_table("score_reviews")
    with op.batch_alter_table("repair_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_repair_applications_record_uid"))
        batch_op.drop_index("ix_repair_applications_subject")
    op.drop_table("repair_applications")
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objections_record_uid"))
        batch_op.drop_index("ix_objections_subject")
    op.drop_table("objections")
    op.drop_table("inspection_results")
    op.drop_table("inspection_plans")
    with op.batch_alter_table("inspector_exclusions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspector_exclusions_org_code"))
        batch_op.drop_index("ix_inspector_exclusions_inspector_org")
    op.drop_table("inspector_exclusions")
    op.drop_table("inspectors")
