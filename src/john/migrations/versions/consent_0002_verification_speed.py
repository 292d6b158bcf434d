"""index verification lookups; store verifiers' rate buckets

Revision ID: consent_0002
Revises: consent_0001
Create Date: 2026-12-04 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "consent_0002"
down_revision: str | Sequence[str] | None = "consent_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The exact stage of verification matching compares lower(name) on both
    # sides, so an index on those expressions answers it without reading the
    # other records born on the same day. It supersedes the date-only index.
    op.create_index(
        "ix_consent_person_records_dob_names",
        "person_records",
        [
            "date_of_birth",
            sa.text("lower(family_name)"),
            sa.text("lower(given_name)"),
        ],
    )
    op.drop_index("ix_consent_person_records_date_of_birth", "person_records")
    op.create_index(
        "ix_consent_verifications_requester_learner",
        "consent_verifications",
        ["requester", "learner_id", "created_at"],
    )
    # Consent lookups follow merges from a learner to the learners merged into
    # it. Almost every row has no merge, and statistics on a full index make
    # SQLite scan the table instead, so only merged rows are indexed.
    op.create_index(
        "ix_consent_learners_merged_into",
        "learners",
        ["merged_into"],
        sqlite_where=sa.text("merged_into IS NOT NULL"),
        postgresql_where=sa.text("merged_into IS NOT NULL"),
    )
    op.create_table(
        "consent_rate_buckets",
        sa.Column("requester", sa.String(length=300), primary_key=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("refilled_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("consent_rate_buckets")
    op.drop_index("ix_consent_learners_merged_into", "learners")
    op.drop_index("ix_consent_verifications_requester_learner", "consent_verifications")
    op.create_index(
        "ix_consent_person_records_date_of_birth", "person_records", ["date_of_birth"]
    )
    op.drop_index("ix_consent_person_records_dob_names", "person_records")
