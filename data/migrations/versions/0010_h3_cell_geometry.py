"""H3 coverage figures apart from the cells' geometries.

Revision ID: 0010_h3_cell_geometry
Revises: 0009_amenity_bids
Create Date: 2026-11-25

``h3_coverage`` held every cell's figures and five copies of its hexagon (EPSG:27700, 4326,
3857 exact, low and middle zoom) in one row, so a national recompute that rewrote the figures
of ~950,000 resolution-9 cells rewrote ~1 KiB per row: 50.7 s for that one UPDATE on England
with 10,000 synthetic groups (measured on this machine, quiet). The figures now live alone in
``h3_coverage`` (fixed-width columns, ~100 bytes a row; the same UPDATE on such a table took
0.85 s) and the geometries, written only when the grid itself changes, in
``h3_cell_geometry``. The view ``h3_coverage_serving`` joins them (on fid and resolution, so
a filter on resolution reaches both tables' indexes) for the collections and tiles.
"""

from alembic import op

revision = "0010_h3_cell_geometry"
down_revision = "0009_amenity_bids"
branch_labels = None
depends_on = None

FIGURES = (
    "adults",
    "adults_covered",
    "covered_share",
    "deprived_adults",
    "deprived_adults_covered",
    "adults_organiser_covered",
)
# The partial GiST indexes of migration 0008: per resolution, the geometries its zooms use.
INDEXED = {
    resolution: ("geom", "geom_3857", "geom_3857_mid")
    + (("geom_3857_low",) if resolution <= 7 else ())
    for resolution in (6, 7, 8, 9)
}

SERVING_VIEW = """
CREATE VIEW h3_coverage_serving AS
SELECT h.resolution, h.cell, h.fid, h.adults, h.adults_covered, h.covered_share,
       h.deprived_adults, h.deprived_adults_covered, h.adults_organiser_covered,
       g.geom, g.geom_4326, g.geom_3857, g.geom_3857_low, g.geom_3857_mid
FROM h3_coverage h
JOIN h3_cell_geometry g ON g.fid = h.fid AND g.resolution = h.resolution
"""


def _rename_indexes(old: str, new: str) -> None:
    for resolution, columns in INDEXED.items():
        for column in columns:
            op.execute(
                f"ALTER INDEX ix_{old}_r{resolution}_{column}"
                f" RENAME TO ix_{new}_r{resolution}_{column}"
            )


def upgrade() -> None:
    op.execute("ALTER TABLE h3_coverage RENAME TO h3_cell_geometry")
    op.execute(
        """
        CREATE TABLE h3_coverage (
            resolution smallint NOT NULL,
            cell text NOT NULL,
            fid bigint NOT NULL,
            adults float8 NOT NULL,
            adults_covered float8 NOT NULL DEFAULT 0,
            covered_share float8 NOT NULL DEFAULT 0,
            deprived_adults float8 NOT NULL DEFAULT 0,
            deprived_adults_covered float8 NOT NULL DEFAULT 0,
            adults_organiser_covered float8 NOT NULL DEFAULT 0,
            CONSTRAINT ck_h3_coverage_resolution CHECK (resolution BETWEEN 6 AND 9)
        ) WITH (fillfactor = 50)
        """
    )
    op.execute(
        f"INSERT INTO h3_coverage (resolution, cell, fid, {', '.join(FIGURES)})"
        f" SELECT resolution, cell, fid, {', '.join(FIGURES)} FROM h3_cell_geometry"
        " ORDER BY resolution, cell"
    )
    op.execute("ALTER TABLE h3_cell_geometry DROP CONSTRAINT h3_coverage_pkey")
    op.execute(
        "ALTER TABLE h3_cell_geometry"
        " RENAME CONSTRAINT ck_h3_resolution TO ck_h3_cell_geometry_resolution"
    )
    op.execute("DROP INDEX ix_h3_coverage_fid")
    op.execute(
        "ALTER TABLE h3_cell_geometry ADD CONSTRAINT h3_cell_geometry_pkey PRIMARY KEY (fid)"
    )
    for column in ("cell", *FIGURES):
        op.execute(f"ALTER TABLE h3_cell_geometry DROP COLUMN {column}")
    # Geometries change only with the grid: no room kept for updates in place.
    op.execute("ALTER TABLE h3_cell_geometry SET (fillfactor = 100)")
    _rename_indexes("h3_coverage", "h3_cell_geometry")
    op.execute(
        "ALTER TABLE h3_coverage ADD CONSTRAINT h3_coverage_pkey PRIMARY KEY (resolution, cell)"
    )
    op.execute("CREATE UNIQUE INDEX ix_h3_coverage_fid ON h3_coverage (fid)")
    op.execute(SERVING_VIEW)
    op.execute("ANALYZE h3_coverage, h3_cell_geometry")


def downgrade() -> None:
    op.execute("DROP VIEW h3_coverage_serving")
    op.execute("ALTER TABLE h3_cell_geometry ADD COLUMN cell text")
    for column in FIGURES:
        op.execute(f"ALTER TABLE h3_cell_geometry ADD COLUMN {column} float8 NOT NULL DEFAULT 0")
    op.execute(
        "UPDATE h3_cell_geometry g SET cell = h.cell, "
        + ", ".join(f"{c} = h.{c}" for c in FIGURES)
        + " FROM h3_coverage h WHERE h.fid = g.fid"
    )
    op.execute("ALTER TABLE h3_cell_geometry ALTER COLUMN cell SET NOT NULL")
    op.execute("ALTER TABLE h3_cell_geometry ALTER COLUMN adults DROP DEFAULT")
    op.execute("DROP TABLE h3_coverage")
    op.execute("ALTER TABLE h3_cell_geometry DROP CONSTRAINT h3_cell_geometry_pkey")
    op.execute("ALTER TABLE h3_cell_geometry RENAME TO h3_coverage")
    op.execute(
        "ALTER TABLE h3_coverage"
        " RENAME CONSTRAINT ck_h3_cell_geometry_resolution TO ck_h3_resolution"
    )
    op.execute(
        "ALTER TABLE h3_coverage ADD CONSTRAINT h3_coverage_pkey PRIMARY KEY (resolution, cell)"
    )
    op.execute("CREATE UNIQUE INDEX ix_h3_coverage_fid ON h3_coverage (fid)")
    op.execute("ALTER TABLE h3_coverage SET (fillfactor = 50)")
    _rename_indexes("h3_cell_geometry", "h3_coverage")
