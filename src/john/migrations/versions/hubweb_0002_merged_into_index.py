"""index learners by the learner they were merged into

Revision ID: hubweb_0002
Revises: hubweb_0001
Create Date: 2026-12-04 17:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "hubweb_0002"
down_revision: str | Sequence[str] | None = "hubweb_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Reading a learner's record and grouping search results look up the
    # learners merged into a given learner.
    with op.batch_alter_table("learners") as batch_op:
        batch_op.create_index("ix_learners_merged_into", ["merged_into"])


def downgrade() -> None:
    with op.batch_alter_table("learners") as batch_op:
        batch_op.drop_index("ix_learners_merged_into")
