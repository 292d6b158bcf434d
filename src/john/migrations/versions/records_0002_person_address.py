"""Person record address, locality, region and an identifier of another scheme

Revision ID: records_0002
Revises: records_0001
Create Date: 2026-12-04 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "records_0002"
down_revision: str | Sequence[str] | None = "records_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person_records", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("address_line_1", sa.String(length=200), nullable=True)
        )
        batch_op.add_column(
            sa.Column("address_line_2", sa.String(length=200), nullable=True)
        )
        batch_op.add_column(sa.Column("locality", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("region", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("other_identifier", sa.String(length=40), nullable=True)
        )
        batch_op.add_column(
            sa.Column("other_identifier_scheme", sa.String(length=40), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("person_records", schema=None) as batch_op:
        batch_op.drop_column("other_identifier_scheme")
        batch_op.drop_column("other_identifier")
        batch_op.drop_column("region")
        batch_op.drop_column("locality")
        batch_op.drop_column("address_line_2")
        batch_op.drop_column("address_line_1")
