"""Street-level crime counted per LSOA, month and type, so area summaries add counts up.

Revision ID: 0020_crime_counts
Revises: 0019_spending_speed
Create Date: 2026-12-07

``crime_lsoa_count`` holds, for each LSOA generation (2011, 2021), LSOA, month, crime type and
force, the crimes stored and how many of them carry a location description. A summary of an
area made of LSOAs (an LSOA, ward or district) adds these up instead of reading every crime.
``crime_location_count`` holds the crimes per location description ("On or near ...") in the
same keys, for the top locations. Both are derived from ``crime`` alone: an import replaces
the rows of the force-months it replaces, in its own transaction
(``data/sql/crime/counts_replace.sql``), so they always equal a count over the crimes. The
upgrade counts the crimes already held.

The crimes' LSOA indexes no longer carry the crime type and location for summaries to count
from (the counts do that now); they still find an area's crimes for its map.
"""

from alembic import op

revision = "0020_crime_counts"
down_revision = "0019_spending_speed"
branch_labels = None
depends_on = None

KEY = """
    generation smallint NOT NULL CHECK (generation IN (2011, 2021)),
    lsoa_code text NOT NULL,
    month text NOT NULL,
    crime_type text NOT NULL,
    force text NOT NULL,
"""

# Each crime once for each generation it has an LSOA of.
CRIMES_BY_GENERATION = """
        FROM crime c
        CROSS JOIN LATERAL (VALUES (2011, c.lsoa11_code), (2021, c.lsoa21_code))
            g (generation, code)
        WHERE g.code IS NOT NULL"""
LSOA_INDEXES = (("ix_crime_lsoa11_month", "lsoa11_code"), ("ix_crime_lsoa21_month", "lsoa21_code"))


def _lsoa_indexes(include: str) -> None:
    """Create the crimes' two LSOA indexes again, with ``include`` (SQL) or without."""
    for name, column in LSOA_INDEXES:
        op.execute(f"DROP INDEX {name}")
        op.execute(f"CREATE INDEX {name} ON crime ({column}, month){include}")


def upgrade() -> None:
    _lsoa_indexes("")
    # The primary keys lead with what a summary filters by (an area's LSOAs of one generation,
    # then months); INCLUDE lets it read the counts from the index alone.
    op.execute(
        f"""
        CREATE TABLE crime_lsoa_count ({KEY}
            crimes integer NOT NULL CHECK (crimes > 0),
            located integer NOT NULL CHECK (located >= 0 AND located <= crimes),
            PRIMARY KEY (generation, lsoa_code, month, crime_type, force)
                INCLUDE (crimes, located)
        )
        """
    )
    op.execute(
        f"""
        CREATE TABLE crime_location_count ({KEY}
            location text NOT NULL,
            crimes integer NOT NULL CHECK (crimes > 0),
            PRIMARY KEY (generation, lsoa_code, month, crime_type, force, location)
                INCLUDE (crimes)
        )
        """
    )
    # What an import replaces: a force's months.
    op.execute("CREATE INDEX ix_crime_lsoa_count_force_month ON crime_lsoa_count (force, month)")
    op.execute(
        "CREATE INDEX ix_crime_location_count_force_month ON crime_location_count (force, month)"
    )
    op.execute(
        f"""
        INSERT INTO crime_lsoa_count (generation, lsoa_code, month, crime_type, force, crimes,
                                      located)
        SELECT g.generation, g.code, c.month, c.crime_type, c.force, count(*), count(c.location)
        {CRIMES_BY_GENERATION}
        GROUP BY g.generation, g.code, c.month, c.crime_type, c.force
        """
    )
    op.execute(
        f"""
        INSERT INTO crime_location_count (generation, lsoa_code, month, crime_type, force,
                                          location, crimes)
        SELECT g.generation, g.code, c.month, c.crime_type, c.force, c.location, count(*)
        {CRIMES_BY_GENERATION} AND c.location IS NOT NULL
        GROUP BY g.generation, g.code, c.month, c.crime_type, c.force, c.location
        """
    )


def downgrade() -> None:
    _lsoa_indexes(" INCLUDE (crime_type, location)")
    op.execute("DROP TABLE crime_location_count")
    op.execute("DROP TABLE crime_lsoa_count")
