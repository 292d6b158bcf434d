"""register loads: skipped rows and reasons

Revision ID: reference_0001
Revises: hub_0001
Create Date: 2026-12-04 17:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reference_0001"
down_revision: str | Sequence[str] | None = "hub_0001"
branch_labels: str | Sequence[str] | None = ("reference",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("register_loads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rows_skipped", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("reasons", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("register_loads", schema=None) as batch_op:
        batch_op.drop_column("reasons")
        batch_op.drop_column("rows_skipped")
