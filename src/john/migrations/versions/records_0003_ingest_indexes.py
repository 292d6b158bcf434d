"""Drop indexes that no query reads from the tables feeds fill

The unique index on (source_ukprn, source_person_ref) starts with the same
column, so it serves every lookup by source. No query selects person
records, achievements or experiences by feed. Each large feed on SQLite
rebuilds every index of these tables, so each index dropped saves a pass
over the table.

Revision ID: records_0003
Revises: records_0002
Create Date: 2026-12-04 23:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "records_0003"
down_revision: str | Sequence[str] | None = "records_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


DROPPED = (
    ("ix_person_records_source_ukprn", "person_records", "source_ukprn"),
    ("ix_person_records_feed_id", "person_records", "feed_id"),
    ("ix_achievements_feed_id", "achievements", "feed_id"),
    ("ix_experiences_feed_id", "experiences", "feed_id"),
)


def upgrade() -> None:
    for name, table, _ in DROPPED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, column in DROPPED:
        op.create_index(name, table, [column])
