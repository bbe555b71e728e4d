"""Serving tables: one wide row per feature of each OGC collection, refreshed by every load.

Revision ID: 0002_serving_tables
Revises: 0001_foundation
Create Date: 2026-11-25

The foundation tables stay normalised (values long, editions as rows). OGC API Features and
vector tiles read these denormalised copies instead, so an item page or a tile is one indexed
scan with no joins or pivots. They are rebuilt inside the load's transaction
(data/sql/refresh_serving.sql), so they never disagree with the tables they derive from.
"""

import sqlalchemy as sa
from alembic import op

from data.migrations.helpers import create_serving_table, optional, required, text_keys

revision = "0002_serving_tables"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

# The English IoD domains served as columns (<domain>_score, _rank, _decile). Another nation's
# indices would get their own serving table; the normalised tables need no change.
DOMAINS = (
    "imd",
    "income",
    "employment",
    "education",
    "health",
    "crime",
    "barriers",
    "living_environment",
    "idaci",
    "idaopi",
)
# LAD summary measures served as columns for the IMD (value and rank among LADs).
MEASURES = (
    "average_rank",
    "average_score",
    "extent",
    "local_concentration",
    "proportion_most_deprived_10pct",
)


def upgrade() -> None:
    # GiST over (edition_code, geom) needs btree_gist for the text column.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    create_serving_table(
        "lsoa_deprivation",
        *text_keys("edition_code", "code"),
        # Vector tile feature ids must be integers: the GSS code's digits (E01006112 -> 1006112).
        sa.Column("fid", sa.BigInteger, nullable=False),
        *required(sa.Text, "name", "lad_code", "lad_name"),
        *optional(sa.Text, "ward_code", "ward_name"),
        sa.Column("population", sa.Integer),
        *[
            sa.Column(f"{d}_{field}", sa.Float if field == "score" else sa.Integer)
            for d in DOMAINS
            for field in ("score", "rank", "decile")
        ],
        geometry_type="MULTIPOLYGON",
        leading=["edition_code"],
    )
    op.create_index("ix_lsoa_deprivation_lad", "lsoa_deprivation", ["edition_code", "lad_code"])

    create_serving_table(
        "lad_deprivation",
        *text_keys("edition_code", "code"),
        sa.Column("fid", sa.BigInteger, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        *optional(sa.Text, "region_code", "region_name"),
        sa.Column("lsoa_count", sa.Integer, nullable=False),
        *[
            sa.Column(f"imd_{m}{suffix}", sa.Float if suffix == "" else sa.Integer)
            for m in MEASURES
            for suffix in ("", "_rank")
        ],
        geometry_type="MULTIPOLYGON",
        leading=["edition_code"],
    )


def downgrade() -> None:
    op.drop_table("lad_deprivation")
    op.drop_table("lsoa_deprivation")
