"""Street-level crime from police.uk: crimes, their loads, force-months held, and map layers.

Revision ID: 0013_crime
Revises: 0014_spending
Create Date: 2026-12-07

``crime_load`` records each file imported (provenance). ``crime_month`` says which force-months
are held, by which load and for which crime types: a month a force has no row for has *no
data*, never zero crimes. ``crime`` holds one row per crime at police.uk's anonymised map
point, with the LSOA police.uk gave (the truth where given) and the areas derived from it:
the LSOA in both generations, the ward and district, and the H3 cell. ``crime_force_lad``
says which forces' crimes fall in which districts (which force-months an area depends on).
``crime_lsoa_serving`` and ``crime_h3_serving`` are the aggregate map layers, rebuilt in the
transaction of every load; ``crime_point_serving`` is the points layer (a view).
"""

from alembic import op

from data.migrations.helpers import SERVING_GEOMETRIES

revision = "0013_crime"
down_revision = "0014_spending"
branch_labels = None
depends_on = None

MONTH = r"'^[0-9]{4}-(0[1-9]|1[0-2])$'"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE crime_load (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            source_file text NOT NULL,
            sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
            format text NOT NULL,
            forces text[] NOT NULL,
            first_month text NOT NULL,
            last_month text NOT NULL,
            row_count integer NOT NULL CHECK (row_count >= 0),
            no_location_count integer NOT NULL CHECK (no_location_count >= 0),
            outside_boundaries_count integer NOT NULL CHECK (outside_boundaries_count >= 0),
            dropped_outside_count integer NOT NULL DEFAULT 0,
            unknown_types jsonb NOT NULL DEFAULT '{}'::jsonb,
            publisher text NOT NULL,
            licence text NOT NULL,
            attribution text NOT NULL,
            notes jsonb NOT NULL DEFAULT '{}'::jsonb,
            loaded_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        f"""
        CREATE TABLE crime_month (
            force text NOT NULL,
            month text NOT NULL CHECK (month ~ {MONTH}),
            load_id bigint NOT NULL REFERENCES crime_load (id),
            crime_types text[] NOT NULL,
            crimes integer NOT NULL CHECK (crimes >= 0),
            no_location integer NOT NULL CHECK (no_location >= 0),
            PRIMARY KEY (force, month)
        )
        """
    )
    op.execute(
        f"""
        CREATE TABLE crime (
            id bigint GENERATED ALWAYS AS IDENTITY (CACHE 1000) PRIMARY KEY,
            -- The load that stored the row (crime_load.id); not a foreign key: checking it
            -- row by row cost more than the rest of an import's insert.
            load_id bigint NOT NULL,
            force text NOT NULL,
            month text NOT NULL CHECK (month ~ {MONTH}),
            crime_type text NOT NULL,
            crime_type_known boolean NOT NULL,
            crime_ref text,
            location text,
            lsoa_code_given text,
            lsoa_given_vintage smallint CHECK (lsoa_given_vintage IN (2011, 2021)),
            lsoa_assigned_by text CHECK (lsoa_assigned_by IN ('police.uk', 'point_in_polygon')),
            lsoa11_code text,
            lsoa21_code text,
            ward_code text,
            lad_code text,
            h3_cell text,
            h3_fid bigint,
            no_location boolean NOT NULL,
            outside_boundaries boolean NOT NULL,
            geom geometry(Point, 27700),
            geom_4326 geometry(Point, 4326),
            geom_3857 geometry(Point, 3857),
            CONSTRAINT ck_crime_location CHECK (no_location = (geom IS NULL))
        )
        """
    )
    # What the summaries filter by (an area's LSOAs or H3 cells, and months) and what an
    # import replaces (a force's months); loads are never deleted, so load_id needs none.
    for name, columns, include in (
        ("ix_crime_force_month", "force, month", ""),
        # Covering: a summary reads an area's counts from the index alone once vacuumed.
        ("ix_crime_lsoa11_month", "lsoa11_code, month", " INCLUDE (crime_type, location)"),
        ("ix_crime_lsoa21_month", "lsoa21_code, month", " INCLUDE (crime_type, location)"),
        ("ix_crime_h3_month", "h3_fid, month", " INCLUDE (crime_type, location)"),
    ):
        op.execute(f"CREATE INDEX {name} ON crime ({columns}){include}")
    # Points only in 27700 (areas, bbox queries) and 3857 (tiles). An import drops and
    # rebuilds every secondary index (data/sql/crime/indexes_*.sql): building them is much
    # faster than maintaining them row by row, above all the GiSTs, as points repeat.
    for column in ("geom", "geom_3857"):
        op.execute(f"CREATE INDEX ix_crime_{column} ON crime USING gist ({column})")
    op.execute(
        """
        CREATE TABLE crime_force_lad (
            force text NOT NULL,
            lad_code text NOT NULL,
            crimes integer NOT NULL,
            PRIMARY KEY (lad_code, force)
        )
        """
    )
    op.execute(
        """
        CREATE VIEW crime_point_serving AS
        SELECT id AS fid, force, month, crime_type, location, lsoa11_code, lsoa21_code,
               ward_code, lad_code, h3_cell, geom, geom_4326, geom_3857,
               geom_3857 AS geom_3857_low, geom_3857 AS geom_3857_mid
        FROM crime
        WHERE geom IS NOT NULL
        """
    )
    op.execute(
        """
        CREATE TABLE crime_lsoa_serving (
            fid bigint PRIMARY KEY,
            code text NOT NULL UNIQUE,
            name text NOT NULL,
            lad_code text NOT NULL,
            lad_name text NOT NULL,
            first_month text,
            last_month text,
            crimes integer NOT NULL,
            crimes_last_12_months integer NOT NULL,
            residents double precision,
            rate_per_1000_last_12_months double precision,
            geom geometry(MultiPolygon, 27700) NOT NULL,
            geom_4326 geometry(MultiPolygon, 4326) NOT NULL,
            geom_3857 geometry(MultiPolygon, 3857) NOT NULL,
            geom_3857_low geometry(Geometry, 3857),
            geom_3857_mid geometry(Geometry, 3857)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE crime_h3_serving (
            fid bigint PRIMARY KEY,
            resolution smallint NOT NULL CHECK (resolution BETWEEN 6 AND 9),
            cell text NOT NULL UNIQUE,
            crimes integer NOT NULL,
            crimes_last_12_months integer NOT NULL,
            geom geometry(Polygon, 27700) NOT NULL,
            geom_4326 geometry(Polygon, 4326) NOT NULL,
            geom_3857 geometry(Polygon, 3857) NOT NULL,
            geom_3857_low geometry(Geometry, 3857),
            geom_3857_mid geometry(Geometry, 3857)
        )
        """
    )
    for table in ("crime_lsoa_serving", "crime_h3_serving"):
        for column in SERVING_GEOMETRIES:
            op.execute(f"CREATE INDEX ix_{table}_{column} ON {table} USING gist ({column})")
    op.execute("CREATE INDEX ix_crime_h3_serving_resolution ON crime_h3_serving (resolution)")


def downgrade() -> None:
    op.execute("DROP VIEW crime_point_serving")
    for table in (
        "crime_h3_serving",
        "crime_lsoa_serving",
        "crime_force_lad",
        "crime",
        "crime_month",
        "crime_load",
    ):
        op.execute(f"DROP TABLE {table}")
