"""spatial index for distance search; merged services and undoable merges

Revision ID: catalogue_0002
Revises: catalogue_0001
Create Date: 2026-12-04 20:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalogue_0002"
down_revision: str | Sequence[str] | None = "catalogue_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("catalogue_services") as batch_op:
        batch_op.add_column(sa.Column("merged_into", sa.String(36), nullable=True))
        batch_op.create_index("ix_catalogue_services_merged_into", ["merged_into"])
    with op.batch_alter_table("catalogue_duplicate_candidates") as batch_op:
        batch_op.add_column(sa.Column("merge_record", sa.JSON(), nullable=True))
    _create_spatial_index()
    # The two-dimensional index replaces the btree on (latitude, longitude).
    with op.batch_alter_table("catalogue_search_entries") as batch_op:
        batch_op.drop_index("ix_catalogue_search_entries_lat_lon")


def _create_spatial_index() -> None:
    # A btree on (latitude, longitude) can only narrow by latitude, and a
    # 20 km band of latitude crosses the whole country. Both backends have a
    # two-dimensional index without extensions: a GiST index on a point
    # expression in PostgreSQL, an R*Tree virtual table in SQLite.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_catalogue_search_entries_point "
            "ON catalogue_search_entries USING gist (point(longitude, latitude))"
        )
        return
    op.execute(
        "CREATE VIRTUAL TABLE catalogue_search_rtree USING rtree("
        "id, min_latitude, max_latitude, min_longitude, max_longitude)"
    )
    op.execute(
        "CREATE TRIGGER catalogue_search_rtree_ai AFTER INSERT "
        "ON catalogue_search_entries "
        "WHEN new.latitude IS NOT NULL AND new.longitude IS NOT NULL "
        "BEGIN INSERT INTO catalogue_search_rtree VALUES (new.id, new.latitude, "
        "new.latitude, new.longitude, new.longitude); END"
    )
    op.execute(
        "CREATE TRIGGER catalogue_search_rtree_ad AFTER DELETE "
        "ON catalogue_search_entries "
        "BEGIN DELETE FROM catalogue_search_rtree WHERE id = old.id; END"
    )
    op.execute(
        "CREATE TRIGGER catalogue_search_rtree_au AFTER UPDATE OF latitude, "
        "longitude ON catalogue_search_entries "
        "BEGIN DELETE FROM catalogue_search_rtree WHERE id = old.id; "
        "INSERT INTO catalogue_search_rtree SELECT new.id, new.latitude, "
        "new.latitude, new.longitude, new.longitude "
        "WHERE new.latitude IS NOT NULL AND new.longitude IS NOT NULL; END"
    )
    op.execute(
        "INSERT INTO catalogue_search_rtree SELECT id, latitude, latitude, "
        "longitude, longitude FROM catalogue_search_entries "
        "WHERE latitude IS NOT NULL AND longitude IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("catalogue_search_entries") as batch_op:
        batch_op.create_index(
            "ix_catalogue_search_entries_lat_lon", ["latitude", "longitude"]
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_catalogue_search_entries_point")
    else:
        for trigger in (
            "catalogue_search_rtree_ai",
            "catalogue_search_rtree_ad",
            "catalogue_search_rtree_au",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS catalogue_search_rtree")
    with op.batch_alter_table("catalogue_duplicate_candidates") as batch_op:
        batch_op.drop_column("merge_record")
    with op.batch_alter_table("catalogue_services") as batch_op:
        batch_op.drop_index("ix_catalogue_services_merged_into")
        batch_op.drop_column("merged_into")
