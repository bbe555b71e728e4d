"""Indexes for widening a click to its ward or district, and for district measures.

Revision ID: 0007_eligibility_indexes
Revises: 0006_assets_of_community_value
Create Date: 2026-11-25

Ward- and district-level programmes select an edition's LSOAs by ward or district code
(geo/sql/place_lsoas.sql); without these, each such eligibility check scanned every LSOA
(55-160 ms on all of England, measured by bench/eligibility.py).
"""

from alembic import op

revision = "0007_eligibility_indexes"
down_revision = "0006_assets_of_community_value"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_lsoa_vintage_ward", "lsoa", ["vintage", "ward_code"])
    op.create_index("ix_lsoa_vintage_lad", "lsoa", ["vintage", "lad_code"])
    op.create_index("ix_lad_summary_lad", "lad_summary_measure", ["edition_code", "lad_code"])


def downgrade() -> None:
    op.drop_index("ix_lad_summary_lad", "lad_summary_measure")
    op.drop_index("ix_lsoa_vintage_lad", "lsoa")
    op.drop_index("ix_lsoa_vintage_ward", "lsoa")
