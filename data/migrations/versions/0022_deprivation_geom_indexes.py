"""The deprivation layers' spatial indexes on the geometry alone.

Revision ID: 0022_deprivation_geom_indexes
Revises: 0021_h3_mercator_hexagon_once
Create Date: 2026-12-07

``lsoa_deprivation`` and ``lad_deprivation`` indexed each of their five geometries with the
edition first (``(edition_code, geom)``, btree_gist). The editions' areas overlap, so the
leading text column bought the queries little, while each insert into such an index cost
about three times an insert into a GiST index on the geometry alone, and a sorted build is
not possible for it. The indexes are now on the geometry alone; every query keeps its
``edition_code = ...`` condition, checked on the rows the index finds.

Measured on all of England (issue 20): inserting the 66,599 LSOA rows of a first load took
6.1 s with the five old indexes and 2.5 s with the new ones; the 307 tiles of the tile
benchmark, run as raw SQL, gave the same bytes with a p50 of 0.85-0.90 ms against
0.91-0.99 ms.
"""

from alembic import op

from data.migrations.helpers import SERVING_GEOMETRIES, gist_indexes

revision = "0022_deprivation_geom_indexes"
down_revision = "0021_h3_mercator_hexagon_once"
branch_labels = None
depends_on = None

TABLES = ("lsoa_deprivation", "lad_deprivation")


def _index_again(leading: list[str]) -> None:
    """Make every geometry index of the two tables again, on ``leading`` and the geometry."""
    for table in TABLES:
        for column in SERVING_GEOMETRIES:
            op.drop_index(f"ix_{table}_{column}", table_name=table)
        gist_indexes(table, SERVING_GEOMETRIES, leading=leading)


def upgrade() -> None:
    _index_again([])


def downgrade() -> None:
    _index_again(["edition_code"])
