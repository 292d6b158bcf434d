"""lrs: order statement lookups by stored time, drop unread indexes

Every GET filter reads ``lrs_statement_terms``. Copying each statement's
``stored`` time into its terms lets one index range serve a filter together
with ``since`` and ``until``, in the stored-time order that xAPI 2.0 §4.1.6.1
asks for. The single-column indexes on ``lrs_statements`` were never read by a
query and only slowed every insert.

Revision ID: lrs_0002
Revises: lrs_0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import john.db

revision: str = "lrs_0002"
down_revision: str | Sequence[str] | None = "lrs_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNREAD_INDEXES = (
    ("ix_lrs_statements_activity_id", ["activity_id"]),
    ("ix_lrs_statements_actor_ifi", ["actor_ifi"]),
    ("ix_lrs_statements_ref_target", ["ref_target"]),
    ("ix_lrs_statements_registration", ["registration"]),
    ("ix_lrs_statements_timestamp", ["timestamp"]),
    ("ix_lrs_statements_verb_id", ["verb_id"]),
    ("ix_lrs_statements_voided_seq", ["voided", "seq"]),
)


def upgrade() -> None:
    with op.batch_alter_table("lrs_statements") as batch_op:
        for name, _ in UNREAD_INDEXES:
            batch_op.drop_index(name)

    with op.batch_alter_table("lrs_statement_terms") as batch_op:
        batch_op.add_column(
            sa.Column("stored", john.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute(
        "UPDATE lrs_statement_terms SET stored = (SELECT s.stored FROM "
        "lrs_statements AS s WHERE s.seq = lrs_statement_terms.statement_seq)"
    )
    with op.batch_alter_table("lrs_statement_terms") as batch_op:
        batch_op.alter_column(
            "stored",
            existing_type=john.db.UTCDateTime(timezone=True),
            nullable=False,
        )
        batch_op.drop_index("ix_lrs_statement_terms_lookup")
        batch_op.create_index(
            "ix_lrs_statement_terms_lookup",
            ["kind", "term", "stored", "statement_seq"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("lrs_statement_terms") as batch_op:
        batch_op.drop_index("ix_lrs_statement_terms_lookup")
        batch_op.create_index(
            "ix_lrs_statement_terms_lookup",
            ["kind", "term", "statement_seq"],
            unique=False,
        )
        batch_op.drop_column("stored")

    with op.batch_alter_table("lrs_statements") as batch_op:
        for name, columns in UNREAD_INDEXES:
            batch_op.create_index(name, columns, unique=False)
