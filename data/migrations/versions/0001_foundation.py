"""Foundation: boundaries, index editions, deprivation values, populations, lookups, provenance.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-25

Geometries are held three times, each with an explicit SRID: EPSG:27700 (British National
Grid; metres, for areas, distances and population weighting), EPSG:4326 (GeoJSON / OGC API
Features) and EPSG:3857 (web map tiles). Index values are stored long (one row per edition,
domain and LSOA) so that another nation's indices (WIMD, SIMD, NIMDM) with other domains are
new rows in ``index_edition`` / ``index_domain``, not new columns.
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from data.migrations.helpers import (
    EXACT_GEOMETRIES,
    flag,
    geometry_columns,
    gist_indexes,
    optional,
    parent_reference,
    required,
    text_keys,
)

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None

GSS_CODE = r"^[EWSNK][0-9]{8}$"


def _boundary_table(table: str, *columns: sa.Column, nullable_geometry: bool = False) -> None:
    """Create a boundary table (keyed by vintage and GSS code) with its geometries indexed."""
    op.create_table(
        table,
        sa.Column("vintage", sa.SmallInteger, primary_key=True),
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        *columns,
        *geometry_columns("MULTIPOLYGON", nullable=nullable_geometry),
        flag("geom_repaired"),
        sa.CheckConstraint(f"code ~ '{GSS_CODE}'", name=f"ck_{table}_code"),
    )
    gist_indexes(table, EXACT_GEOMETRIES)


def _domain_reference() -> sa.ForeignKeyConstraint:
    """Return the key (edition_code, domain_code) of a domain's values, deleted with it."""
    return sa.ForeignKeyConstraint(
        ["edition_code", "domain_code"],
        ["index_domain.edition_code", "index_domain.code"],
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    # The one place polygons are repaired: valid input passes through unchanged (as a
    # MultiPolygon); invalid input is made valid and only its polygonal parts are kept.
    op.execute(
        """
        CREATE FUNCTION clean_polygons(g geometry) RETURNS geometry
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
            SELECT CASE WHEN ST_IsValid(g) THEN ST_Multi(g)
                        ELSE ST_Multi(ST_CollectionExtract(ST_MakeValid(g), 3)) END
        $$
        """
    )

    # Provenance: one row per dataset, replaced by each successful load of that dataset.
    op.create_table(
        "dataset_load",
        sa.Column("dataset", sa.Text, primary_key=True),
        *required(sa.Text, "source_file", "sha256", "publisher", "licence", "attribution"),
        sa.Column("row_count", sa.Integer, nullable=False),
        sa.Column("notes", sa.dialects.postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("loaded_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="ck_dataset_load_sha256"),
    )

    # A single counter bumped by every load or write; caches key on it.
    op.create_table(
        "data_version",
        sa.Column("id", sa.SmallInteger, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("changed_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_data_version_single_row"),
    )
    op.execute("INSERT INTO data_version (id, version, changed_at) VALUES (1, 0, now())")

    _boundary_table("lad", sa.Column("region_code", sa.Text), sa.Column("region_name", sa.Text))
    # Ward boundaries exist only for some vintages (2019 codes); the lookups name the rest.
    _boundary_table("ward", sa.Column("lad_code", sa.Text, nullable=False), nullable_geometry=True)
    op.create_index("ix_ward_lad", "ward", ["vintage", "lad_code"])
    _boundary_table(
        "lsoa",
        sa.Column("lad_vintage", sa.SmallInteger, nullable=False),
        sa.Column("lad_code", sa.Text, nullable=False),
        sa.Column("ward_vintage", sa.SmallInteger),
        sa.Column("ward_code", sa.Text),
        sa.Column("msoa_code", sa.Text),
    )
    op.create_index("ix_lsoa_lad", "lsoa", ["lad_vintage", "lad_code"])

    op.create_table(
        "lsoa_2011_2021",
        *text_keys("lsoa11_code", "lsoa21_code"),
        sa.Column("change_code", sa.CHAR(1), nullable=False),
        sa.Column("lad22_code", sa.Text, nullable=False),
        sa.CheckConstraint("change_code IN ('U', 'S', 'M', 'X')", name="ck_lsoa_change_code"),
    )
    op.create_index("ix_lsoa_2011_2021_lsoa21", "lsoa_2011_2021", ["lsoa21_code"])

    op.create_table(
        "index_edition",
        sa.Column("code", sa.Text, primary_key=True),
        # "published": an ISO date or month, as published.
        *required(sa.Text, "title", "country", "publisher", "published"),
        *required(sa.SmallInteger, "lsoa_vintage", "lad_vintage"),
        sa.Column("ward_vintage", sa.SmallInteger),
        # How many LSOAs the edition ranks nationally (ranks run 1..this).
        sa.Column("national_lsoa_count", sa.Integer, nullable=False),
        sa.Column("population_denominators", sa.Text),
        flag("is_current"),
    )
    op.create_index(
        "ux_index_edition_current_per_country",
        "index_edition",
        ["country"],
        unique=True,
        postgresql_where=sa.text("is_current"),
    )

    op.create_table(
        "index_domain",
        parent_reference("edition_code", "index_edition.code", sa.Text, primary_key=True),
        sa.Column("code", sa.Text, primary_key=True),
        *required(sa.Text, "title", "kind", "population_base"),
        sa.Column("sort_order", sa.SmallInteger, nullable=False),
        sa.CheckConstraint("kind IN ('index', 'domain', 'supplementary')", name="ck_domain_kind"),
        sa.CheckConstraint(
            "population_base IN ('total', 'working_age', 'children_0_15', 'aged_60_plus')",
            name="ck_domain_population_base",
        ),
    )

    op.create_table(
        "lsoa_index_value",
        *text_keys("edition_code", "domain_code", "lsoa_code"),
        sa.Column("score", sa.Float),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("decile", sa.SmallInteger, nullable=False),
        _domain_reference(),
        sa.CheckConstraint("rank >= 1", name="ck_value_rank"),
        sa.CheckConstraint("decile BETWEEN 1 AND 10", name="ck_value_decile"),
    )
    op.create_index("ix_lsoa_index_value_lsoa", "lsoa_index_value", ["edition_code", "lsoa_code"])

    # The population denominators an edition was built with (IoD2019: mid-2015, excl. prisoners).
    op.create_table(
        "lsoa_population_denominator",
        parent_reference("edition_code", "index_edition.code", sa.Text, primary_key=True),
        sa.Column("lsoa_code", sa.Text, primary_key=True),
        *required(
            sa.Integer, "total", "children_0_15", "aged_16_59", "aged_60_plus", "working_age"
        ),
    )

    # ONS small-area population estimates by single year of age (index 0..90, 90 = 90+).
    op.create_table(
        "lsoa_population_estimate",
        sa.Column("lsoa_vintage", sa.SmallInteger, primary_key=True),
        sa.Column("lsoa_code", sa.Text, primary_key=True),
        sa.Column("reference_year", sa.SmallInteger, primary_key=True),
        *required(sa.Integer, "total", "adults_18_plus"),
        sa.Column("by_single_year_of_age", sa.ARRAY(sa.Integer), nullable=False),
        sa.CheckConstraint(
            "cardinality(by_single_year_of_age) = 91", name="ck_population_single_years"
        ),
    )

    # LAD summary measures (IoD technical report, Appendix N), computed from LSOA data at load.
    op.create_table(
        "lad_summary_measure",
        *text_keys("edition_code", "domain_code", "lad_code", "measure"),
        sa.Column("value", sa.Float),
        sa.Column("rank", sa.Integer),
        # Why the value (or the rank) is unavailable: NULL where it is given (checked below).
        *optional(sa.Text, "unavailable_reason", "rank_unavailable_reason"),
        _domain_reference(),
        sa.CheckConstraint(
            "(value IS NULL) = (unavailable_reason IS NOT NULL)", name="ck_measure_value_or_reason"
        ),
        sa.CheckConstraint(
            "(rank IS NULL) = (rank_unavailable_reason IS NOT NULL)",
            name="ck_measure_rank_or_reason",
        ),
    )

    op.create_table(
        "postcode",
        sa.Column("postcode", sa.Text, primary_key=True),
        sa.Column("lsoa_vintage", sa.SmallInteger, nullable=False),
        *required(sa.Text, "lsoa_code", "lad_code"),
        sa.Column("geom", Geometry("POINT", srid=27700, spatial_index=False), nullable=False),
        sa.Column("geom_4326", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    )
    gist_indexes("postcode", ["geom"])


def downgrade() -> None:
    for table in (
        "postcode",
        "lad_summary_measure",
        "lsoa_population_estimate",
        "lsoa_population_denominator",
        "lsoa_index_value",
        "index_domain",
        "index_edition",
        "lsoa_2011_2021",
        "lsoa",
        "ward",
        "lad",
        "data_version",
        "dataset_load",
    ):
        op.drop_table(table)
    op.execute("DROP FUNCTION IF EXISTS clean_polygons(geometry)")
