"""The H3 cells' Web Mercator hexagon stored once, not twice.

Revision ID: 0021_h3_mercator_hexagon_once
Revises: 0020_crime_counts
Create Date: 2026-12-07

``h3_cell_geometry.geom_3857_mid`` (the middle-zoom tile geometry) always equalled
``geom_3857``: hexagons have nothing to simplify, and the load wrote the same EWKB to both.
The column and its four partial GiST indexes are dropped; the view ``h3_coverage_serving``
serves ``geom_3857`` under both names, so the collections and tiles read the same geometries
(a tile of zooms 8-10 filters on ``geom_3857_mid`` and reaches ``geom_3857``'s index). An
England load parsed 1.4 million hexagons fewer and built one spatial index fewer (issue 20).
"""

from alembic import op

revision = "0021_h3_mercator_hexagon_once"
down_revision = "0020_crime_counts"
branch_labels = None
depends_on = None

STORED = "g.geom_3857_mid"
ALIASED = "g.geom_3857 AS geom_3857_mid"

RESOLUTIONS = (6, 7, 8, 9)


def _view_with(old: str, new: str) -> str:
    """The query of ``h3_coverage_serving`` with ``old`` in its select list replaced by ``new``.

    The view is then dropped and made again, not replaced: its geom_3857_mid changes type
    (Geometry to Polygon and back); a cast instead would hide geom_3857's indexes from the
    tiles' filters.
    """
    definition = op.get_bind().exec_driver_sql("SELECT pg_get_viewdef('h3_coverage_serving')")
    query = definition.scalar()
    assert isinstance(query, str) and query.count(old) == 1, query
    return query.replace(old, new)


def upgrade() -> None:
    view = _view_with(STORED, ALIASED)
    op.execute("DROP VIEW h3_coverage_serving")
    op.execute("ALTER TABLE h3_cell_geometry DROP COLUMN geom_3857_mid")
    op.execute(f"CREATE VIEW h3_coverage_serving AS {view}")


def downgrade() -> None:
    view = _view_with(ALIASED, STORED)
    op.execute("DROP VIEW h3_coverage_serving")
    op.execute("ALTER TABLE h3_cell_geometry ADD COLUMN geom_3857_mid geometry(Geometry, 3857)")
    op.execute("UPDATE h3_cell_geometry SET geom_3857_mid = geom_3857")
    for resolution in RESOLUTIONS:
        op.execute(
            f"CREATE INDEX ix_h3_cell_geometry_r{resolution}_geom_3857_mid ON h3_cell_geometry"
            f" USING gist (geom_3857_mid) WHERE resolution = {resolution}"
        )
    op.execute(f"CREATE VIEW h3_coverage_serving AS {view}")
