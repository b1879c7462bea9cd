"""ingest throughput (records foreign keys)

Drops the foreign keys of ``records`` (``subject_id`` -> ``subjects``, ``batch_id`` ->
``ingest_batches``). PostgreSQL checks them one row at a time inside ``COPY``, which was about
60 % of the time of storing a batch. Ingestion keeps the guarantee itself: it writes only
subject ids it has just looked up or created in the same transaction, and the id of the batch
row it inserted in that transaction.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_constraint("fk_records_subject_id_subjects", type_="foreignkey")
        batch_op.drop_constraint("fk_records_batch_id_ingest_batches", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_records_subject_id_subjects", "subjects", ["subject_id"], ["id"])
        batch_op.create_foreign_key(
            "fk_records_batch_id_ingest_batches", "ingest_batches", ["batch_id"], ["id"]
        )
