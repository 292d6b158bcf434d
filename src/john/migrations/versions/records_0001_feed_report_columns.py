"""Feed report columns: encoding, delimiter, ignored columns, reasons, notes

Revision ID: records_0001
Revises: hub_0001
Create Date: 2026-12-04 17:05:01.647615
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "records_0001"
down_revision: str | Sequence[str] | None = "hub_0001"
branch_labels: str | Sequence[str] | None = ("records",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("encoding", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("delimiter", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("columns_ignored", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("quarantine_reasons", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("notes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("notes")
        batch_op.drop_column("quarantine_reasons")
        batch_op.drop_column("columns_ignored")
        batch_op.drop_column("delimiter")
        batch_op.drop_column("encoding")
