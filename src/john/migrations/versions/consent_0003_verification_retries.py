"""let verifiers and advisers retry their requests safely

Revision ID: consent_0003
Revises: consent_0002
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "consent_0003"
down_revision: str | Sequence[str] | None = "consent_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TABLES = ("consent_verifications", "consent_requests")


def upgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name) as table:
            table.add_column(
                sa.Column("idempotency_key", sa.String(200), nullable=True)
            )
            table.add_column(sa.Column("request_sha256", sa.String(64), nullable=True))
        # Rows without a key are many and never collide: both stores let
        # NULLs repeat in a unique index.
        op.create_index(
            f"ux_{name}_requester_key",
            name,
            ["requester", "idempotency_key"],
            unique=True,
        )


def downgrade() -> None:
    for name in TABLES:
        op.drop_index(f"ux_{name}_requester_key", table_name=name)
        with op.batch_alter_table(name) as table:
            table.drop_column("request_sha256")
            table.drop_column("idempotency_key")
