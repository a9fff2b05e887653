"""ingest: at most one metric bucket per camera and minute

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 10:00:00.000000

Buckets of one camera and minute stored under different receipt ids are
removed before the unique index is created, keeping the first stored one
(lowest id) with its zone and line rows.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LATER_DUPLICATES = """
    SELECT later.id FROM metric_buckets later
    WHERE EXISTS (
        SELECT 1 FROM metric_buckets earlier
        WHERE earlier.camera_id = later.camera_id
          AND earlier.start_time = later.start_time
          AND earlier.id < later.id
    )
"""


def upgrade() -> None:
    # Child rows are deleted explicitly: SQLite enforces ON DELETE CASCADE
    # only with its foreign_keys pragma on.
    for child in ("zone_metrics", "line_metrics"):
        op.execute(f"DELETE FROM {child} WHERE bucket_id IN ({LATER_DUPLICATES})")
    op.execute(f"DELETE FROM metric_buckets WHERE id IN ({LATER_DUPLICATES})")
    with op.batch_alter_table("metric_buckets") as batch_op:
        batch_op.drop_index("ix_metric_buckets_camera_start")
        batch_op.create_index(
            "uq_metric_buckets_camera_start", ["camera_id", "start_time"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("metric_buckets") as batch_op:
        batch_op.drop_index("uq_metric_buckets_camera_start")
        batch_op.create_index(
            "ix_metric_buckets_camera_start", ["camera_id", "start_time"], unique=False
        )
