"""name search indexes on person records

Revision ID: hubweb_0001
Revises: hub_0001
Create Date: 2026-12-04 17:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "hubweb_0001"
down_revision: str | Sequence[str] | None = "hub_0001"
branch_labels: str | Sequence[str] | None = ("hubweb",)
depends_on: str | Sequence[str] | None = None

# Learner search matches the start of lower(given_name) and lower(family_name).
# PostgreSQL plans a LIKE 'abc%' prefix only on a text_pattern_ops index when
# the database collation is not C; SQLite uses a plain expression index for
# the range that john.records.joined writes for it.
_INDEXES = {
    "ix_person_records_lower_given_name": "given_name",
    "ix_person_records_lower_family_name": "family_name",
}


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, column in _INDEXES.items():
        ops = " text_pattern_ops" if postgres else ""
        op.execute(f"CREATE INDEX {name} ON person_records (lower({column}){ops})")


def downgrade() -> None:
    for name in _INDEXES:
        op.execute(f"DROP INDEX {name}")
