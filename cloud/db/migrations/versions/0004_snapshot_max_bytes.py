"""config push: JPEG size limit of each snapshot request

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("camera_snapshots") as batch_op:
        batch_op.add_column(sa.Column("max_bytes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("camera_snapshots") as batch_op:
        batch_op.drop_column("max_bytes")
