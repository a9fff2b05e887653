"""config push: what change made each config version, and its camera count

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("config_versions") as batch_op:
        batch_op.add_column(sa.Column("change", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("camera_count", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("config_versions") as batch_op:
        batch_op.drop_column("camera_count")
        batch_op.drop_column("change")
